"""The cluster's ranges and names, read from the plan: pod pools, no-NAT ranges, grants, the
Gateway's ingress nodes, the AZ routers' BGP, the labels lanes puts on nodes.

``lanes.render.cluster`` turns them into the objects the stack declares (and says why each is
made the way it is); the rules and the host model read them here.
"""

from __future__ import annotations

from dataclasses import dataclass

from netaddr import IPAddress, IPNetwork, IPSet

from lanes.config.cluster import Cluster, Grant
from lanes.config.host import K8S_ROLES
from lanes.model.addressing import nth_subnet
from lanes.model.plan import PLATFORM_SPACE, HostAddress, HostPlan, Plan

__all__ = [
    "ZONE_LABEL",
    "REGION_LABEL",
    "ROLE_LABEL",
    "TENANT_LABEL",
    "NAMESPACE_NAME_LABEL",
    "PodPool",
    "region_owner",
    "carve_pools",
    "no_nat_ranges",
    "exposure_consumes",
    "exposure_grant_points",
    "grant_ranges",
    "pods_address",
    "ingress_addresses",
    "ingress_hosts",
    "DEFAULT_INGRESS_PORTS",
    "gateway_ports",
    "gateway_class",
    "gateway_name",
    "listener_name",
    "BgpRouter",
    "bgp_routers",
]


ZONE_LABEL = "topology.kubernetes.io/zone"


REGION_LABEL = "topology.kubernetes.io/region"


ROLE_LABEL = "lanes.io/role"


TENANT_LABEL = "lanes.io/tenant"


NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class PodPool:
    """One AZ's Calico pool, carved from the pod range in AZ order."""

    az: str
    cidr: IPNetwork
    path: str


def region_owner(plan: Plan) -> str:
    """The AZ whose stack declares the region-wide objects."""
    return plan.cluster.region_az or plan.azs[0]


def carve_pools(cluster: Cluster, azs: tuple[str, ...]) -> tuple[PodPool, ...]:
    """AZ i gets the i-th /pool_prefix of the pod range (the rest stays reserved)."""
    pod = IPNetwork(cluster.pod_cidr)
    return tuple(
        PodPool(
            az,
            nth_subnet(pod, cluster.pool_prefix, i),
            f"cluster.pod_cidr[{az}]",
        )
        for i, az in enumerate(azs)
    )


def no_nat_ranges(pod_cidr: IPNetwork, storage: IPNetwork | None) -> tuple[IPNetwork, ...]:
    """100.64.0.0/10 minus the pod range minus the storage network, as few CIDRs as possible.

    Felix skips natOutgoing toward any IPPool; pools may not overlap, so the pod range (whose
    AZ pools are pools already) is cut out. Storage is cut out when pods reach it SNATed.
    """
    keep = IPSet([PLATFORM_SPACE]) - IPSet([pod_cidr])
    if storage is not None:
        keep -= IPSet([storage])
    return tuple(keep.iter_cidrs())


def _zone_block_cidrs(
    plan: Plan, network: str, zone: str | None, az: str | None
) -> list[IPNetwork]:
    net = plan.network(network)
    assert net is not None
    if zone is None and az is None:
        return [net.cidr]
    zones = [net.zone(zone)] if zone is not None else list(net.zones)
    if az is None:
        return [z.cidr for z in zones if z is not None]
    return [b.cidr for z in zones if z is not None for b in z.blocks if b.az == az]


def exposure_consumes(plan: Plan, name: str) -> list[tuple[IPNetwork, int, str]]:
    """Where pods may consume exposure ``name``: each consume address in a platform network
    (a /32), with its port and protocol; consumes in outside networks are not the pods' way."""
    return sorted(
        {
            (IPNetwork(f"{c.at}/32"), c.port, c.protocol)
            for gw in plan.gateways
            for c in gw.consume
            if c.name == name and plan.network(c.network) is not None
        },
        key=lambda entry: (entry[0], entry[1], entry[2]),
    )


def exposure_grant_points(plan: Plan, grant: Grant) -> list[tuple[IPNetwork, int, str]]:
    """What an exposure grant opens: each consume address of the exposure in a platform network
    with the port and protocol it is consumed at (spelt as NetworkPolicy spells it, ``TCP``),
    narrowed to the grant's ports and protocol when it names them; never anything else."""
    assert grant.exposure is not None
    return [
        (cidr, port, protocol.upper())
        for cidr, port, protocol in exposure_consumes(plan, grant.exposure)
        if (not grant.ports or port in grant.ports)
        and (grant.protocol is None or protocol.upper() == grant.protocol)
    ]


def grant_ranges(plan: Plan, grant: Grant) -> list[IPNetwork]:
    """The plan's ranges a grant names: a network, one zone of it, one AZ's blocks, or the
    consume addresses an exposure grant opens."""
    if grant.exposure is not None:
        return sorted({cidr for cidr, _, _ in exposure_grant_points(plan, grant)})
    assert grant.network is not None  # the rules refuse a grant of neither
    return sorted(_zone_block_cidrs(plan, grant.network, grant.zone, grant.az))


def pods_address(plan: Plan, host: HostPlan) -> HostAddress | None:
    """The host's address in the pods' network (traffic): the one the Gateway, BGP and the
    router's DNAT use."""
    return host.address(plan.kinds.pods_network)


def ingress_addresses(plan: Plan, az: str | None = None) -> list[tuple[HostPlan, HostAddress]]:
    """An AZ's ingress nodes (default the stack's AZ) with their traffic address, by number."""
    az = az or plan.az
    found = [(h, pods_address(plan, h)) for h in plan.hosts if h.az == az and h.role == "ingress"]
    return [(h, entry) for h, entry in found if entry is not None]


def ingress_hosts(plan: Plan, az: str | None = None) -> list[HostPlan]:
    """An AZ's ingress nodes that hold a traffic address (default the stack's AZ), by number."""
    return [h for h, _ in ingress_addresses(plan, az)]


# What an AZ's Gateway listens on when no ingress route to its ingress nodes names a port.
DEFAULT_INGRESS_PORTS: tuple[int, ...] = (80, 443)


def gateway_ports(plan: Plan, az: str | None = None) -> tuple[int, ...]:
    """The ports an AZ's Gateway listens on (default the stack's AZ): every port of the ingress
    routes to its ingress nodes, else 80 and 443."""
    names = {h.name for h in ingress_hosts(plan, az)}
    ports = {
        port
        for gw in plan.gateways
        for route in gw.ingress
        if route.node in names
        for port in route.ports
    }
    return tuple(sorted(ports)) if ports else DEFAULT_INGRESS_PORTS


def gateway_class(cluster: Cluster, az: str) -> str:
    """The GatewayClass of an AZ's ingress nodes."""
    return f"{cluster.gateway_class}-{az}"


def gateway_name(cluster: Cluster, az: str) -> str:
    """An AZ's Gateway (in GATEWAY_NAMESPACE); the class and the Gateway share the name."""
    return gateway_class(cluster, az)


def listener_name(tenant: str, hostname: str, port: int) -> str:
    """One tenant hostname on one port: ``shop-443-shop.example.com``, ``*`` spelt wildcard."""
    return f"{tenant}-{port}-{hostname.replace('*', 'wildcard')}"


@dataclass(frozen=True)
class BgpRouter:
    """An AZ router's BGP: its traffic address, the AZ's pool, the nodes that announce to it."""

    az: str
    host: str
    address: IPAddress
    block: IPNetwork  # the AZ's traffic block, where the router and the nodes meet
    pool: IPNetwork
    pod_cidr: IPNetwork
    neighbors: tuple[IPAddress, ...]
    router_as: int
    node_as: int


def _az_router(plan: Plan, az: str) -> tuple[HostPlan, HostAddress] | None:
    """The host of ``az`` holding the AZ's traffic gateway address (it routes the AZ)."""
    for host in plan.hosts:
        entry = pods_address(plan, host)
        if host.az == az and host.router and entry is not None:
            return host, entry
    return None


def bgp_routers(plan: Plan) -> tuple[BgpRouter, ...]:
    """Every AZ that has a router: the router and its AZ's Kubernetes nodes' traffic addresses."""
    calico = plan.cluster.calico
    pools = {p.az: p.cidr for p in carve_pools(plan.cluster, plan.azs)}
    routers = []
    for az in plan.azs:
        found = _az_router(plan, az)
        if found is None:
            continue
        host, entry = found
        nodes = [h for h in plan.hosts if h.az == az and h.role in K8S_ROLES]
        neighbors = sorted(e.address for h in nodes if (e := pods_address(plan, h)) is not None)
        routers.append(
            BgpRouter(
                az,
                host.name,
                entry.address,
                entry.block,
                pools[az],
                IPNetwork(plan.cluster.pod_cidr),
                tuple(neighbors),
                calico.router_as_number,
                calico.as_number,
            )
        )
    return tuple(routers)
