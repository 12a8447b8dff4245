"""The cluster network as data: Calico pools and install, node labels, ingress, tenant policies.

``plan_cluster(plan)`` is a pure function of the region plan and its ``cluster`` config. It
types no address: pools are carved from the configured pod range, the autodetection blocks are
the plan's traffic blocks, the ingress addresses are the plan's ingress hosts' traffic
addresses (the very addresses the container-traffic router DNATs to), grants resolve to the
plan's zones and blocks.

Targets: Kubernetes 1.34 (built-in kinds, checked with kubernetes-validate) and Calico 3.31
(tigera-operator chart v3.31.3, operator.tigera.io/v1 and projectcalico.org/v3 kinds).

Decisions, and why:

- Calico is installed by the tigera-operator; the ``Installation`` keeps ``ipPools: []`` so the
  operator creates no default pool, and lanes declares the pools as ``projectcalico.org/v3``
  ``IPPool`` objects (served by the Calico API server, hence the ``APIServer`` object).
- One pool per AZ, ``nodeSelector: topology.kubernetes.io/zone == '<az>'``: a pod gets an
  address of its node's AZ, so pod routes aggregate per AZ.
- Node address autodetection: ``Installation.spec.calicoNetwork.nodeAddressAutodetectionV4
  .cidrs`` lists every AZ's traffic block (the Installation is one per cluster; a node holds an
  address in its own AZ's block only), so Calico's node address, VXLAN/IPIP endpoint and
  CrossSubnet decisions use the traffic NIC whatever holds the default route.
- Outgoing NAT: ``natOutgoing: true`` on the pod pools, and the 100.64.0.0/10 exemption
  the Calico way: Felix never masquerades toward an address inside any IPPool, so disabled,
  never-allocated pools cover 100.64.0.0/10 minus the pod range (Calico refuses overlapping
  pools) minus the storage network (see the next point).
- Pods reach storage through the node, SNATed to the node's storage address (``storage:
  host-nat``), not through a Multus secondary interface. The node routes the storage network
  on its storage NIC (lanes.hostnet gives every node a route to the storage supernet there),
  so Calico's MASQUERADE for that destination takes the storage address. Why not Multus +
  whereabouts: Calico's NetworkPolicy does not see a secondary interface, so a tenant's storage
  leg would escape the isolation this module promises; a whereabouts range per AZ would need
  pods pinned to an AZ and addresses carved out of the storage block the host numbering owns;
  and two more daemons would run on every node. The cost: storage sees the node's address, not
  the pod's, so storage-side ACLs cannot tell tenants apart (the NetworkPolicy grants do).
- Ingress: ingress-nginx (helm.v3.Release, DaemonSet on the AZ's ingress nodes only, no
  hostNetwork) behind a Service of type ClusterIP whose ``externalIPs`` are the ingress nodes'
  traffic addresses with ``externalTrafficPolicy: Local``: kube-proxy accepts the router's
  DNATed traffic on exactly those addresses (never on the management address), hands it to the
  controller on the same node and keeps the front LB's address as the client. The controller
  pods are ordinary pods, so tenant policies can name them.
- Ownership across stacks: the region-wide objects (operator, Installation, pools, ingress
  class, tenant namespaces and policies) are declared by the stack of ``cluster.region_az``
  (default the first AZ); every stack declares its own AZ's node labels and ingress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netaddr import IPAddress, IPNetwork, IPSet

from lanes.addressing import nth_subnet
from lanes.config.cluster import Cluster, Grant, Tenant
from lanes.plan import PLATFORM_SPACE, HostPlan, Plan

__all__ = [
    "KUBERNETES_VERSION",
    "CALICO_VERSION",
    "OPERATOR_CHART",
    "INGRESS_CHART",
    "NODE_ROLES",
    "ZONE_LABEL",
    "REGION_LABEL",
    "ROLE_LABEL",
    "TENANT_LABEL",
    "INGRESS_NAMESPACE",
    "INGRESS_POD_LABELS",
    "DNS_NAMESPACE",
    "DNS_POD_LABELS",
    "ENCAPSULATION_MODES",
    "Chart",
    "Manifest",
    "HelmRelease",
    "PodPool",
    "ClusterPlan",
    "region_owner",
    "carve_pools",
    "no_nat_ranges",
    "grant_ranges",
    "ingress_hosts",
    "plan_cluster",
]

KUBERNETES_VERSION = "1.34"
CALICO_VERSION = "3.31"


@dataclass(frozen=True)
class Chart:
    """A Helm chart pinned to a version."""

    name: str
    version: str
    repository: str


OPERATOR_CHART = Chart("tigera-operator", "v3.31.3", "https://docs.tigera.io/calico/charts")
INGRESS_CHART = Chart("ingress-nginx", "4.14.1", "https://kubernetes.github.io/ingress-nginx")

NODE_ROLES: tuple[str, ...] = ("master", "worker", "ingress")
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
ROLE_LABEL = "lanes.io/role"
TENANT_LABEL = "lanes.io/tenant"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
OPERATOR_NAMESPACE = "tigera-operator"
INGRESS_NAMESPACE = "ingress-nginx"
INGRESS_CONTROLLER = "k8s.io/ingress-nginx"
INGRESS_POD_LABELS: dict[str, str] = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
}
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS: dict[str, str] = {"k8s-app": "kube-dns"}
DEFAULT_INGRESS_PORTS: tuple[int, ...] = (80, 443)
INGRESS_PORT_NAMES: dict[int, str] = {80: "http", 443: "https"}

# Operator encapsulation -> (ipipMode, vxlanMode) of a projectcalico.org/v3 IPPool.
ENCAPSULATION_MODES: dict[str, tuple[str, str]] = {
    "VXLANCrossSubnet": ("Never", "CrossSubnet"),
    "VXLAN": ("Never", "Always"),
    "IPIPCrossSubnet": ("CrossSubnet", "Never"),
    "IPIP": ("Always", "Never"),
    "None": ("Never", "Never"),
}


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object; ``role`` names the Pulumi child, ``after`` the roles it waits for."""

    role: str
    body: dict[str, Any]
    patch: bool = False
    protect: bool = False
    after: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return str(self.body["kind"])


@dataclass(frozen=True)
class HelmRelease:
    """A Helm release: chart, namespace and the values lanes derives."""

    role: str
    name: str
    namespace: str
    chart: Chart
    values: dict[str, Any]
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class PodPool:
    """One AZ's Calico pool, carved from the pod range in AZ order."""

    az: str
    cidr: IPNetwork
    path: str


@dataclass(frozen=True)
class ClusterPlan:
    """What the stack declares in the cluster, and the derived ranges behind it."""

    region: str
    az: str
    owner: bool
    pod_cidr: IPNetwork
    service_cidr: IPNetwork
    pools: tuple[PodPool, ...]
    no_nat: tuple[IPNetwork, ...]
    autodetect: tuple[IPNetwork, ...]
    ingress_addresses: tuple[IPAddress, ...]
    ingress_ports: tuple[int, ...]
    storage: IPNetwork | None
    manifests: tuple[Manifest, ...]
    releases: tuple[HelmRelease, ...]

    def manifest(self, role: str) -> Manifest:
        (found,) = [m for m in self.manifests if m.role == role]
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "kubernetes": KUBERNETES_VERSION,
            "calico": CALICO_VERSION,
            "region": self.region,
            "az": self.az,
            "owner": self.owner,
            "pod_cidr": str(self.pod_cidr),
            "service_cidr": str(self.service_cidr),
            "pools": {p.az: str(p.cidr) for p in self.pools},
            "no_nat": [str(c) for c in self.no_nat],
            "autodetect": [str(c) for c in self.autodetect],
            "ingress": {
                "addresses": [str(a) for a in self.ingress_addresses],
                "ports": list(self.ingress_ports),
            },
            "storage": str(self.storage) if self.storage else None,
            "objects": [f"{m.kind}/{m.body['metadata']['name']}" for m in self.manifests],
            "releases": [f"{r.namespace}/{r.name}" for r in self.releases],
        }


# --- ranges ---------------------------------------------------------------------------------


def region_owner(plan: Plan) -> str:
    """The AZ whose stack declares the region-wide objects."""
    return plan.config.cluster.region_az or plan.azs[0]


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


def grant_ranges(plan: Plan, grant: Grant) -> list[IPNetwork]:
    """The plan's ranges a grant names: a network, one zone of it, or one AZ's blocks."""
    return sorted(_zone_block_cidrs(plan, grant.network, grant.zone, grant.az))


def ingress_hosts(plan: Plan) -> list[HostPlan]:
    """The stack's ingress nodes that hold a traffic address, by number."""
    return [h for h in plan.stack_hosts() if h.role == "ingress" and h.address("traffic")]


def _ingress_ports(plan: Plan, hosts: list[HostPlan]) -> tuple[int, ...]:
    names = {h.name for h in hosts}
    ports = {
        port
        for gw in plan.config.gateways
        for route in gw.ingress
        if route.node in names
        for port in route.ports
    }
    return tuple(sorted(ports)) if ports else DEFAULT_INGRESS_PORTS


# --- objects --------------------------------------------------------------------------------


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(sorted(labels.items()))
    return meta


def _installation(plan: Plan, autodetect: tuple[IPNetwork, ...]) -> Manifest:
    encapsulation = plan.config.cluster.calico.encapsulation
    bgp = "Disabled" if encapsulation.startswith("VXLAN") else "Enabled"
    body = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "Installation",
        "metadata": _meta("default"),
        "spec": {
            "variant": "Calico",
            "cni": {"type": "Calico", "ipam": {"type": "Calico"}},
            "calicoNetwork": {
                "bgp": bgp,
                "ipPools": [],
                "nodeAddressAutodetectionV4": {"cidrs": [str(c) for c in autodetect]},
            },
        },
    }
    return Manifest("installation", body, protect=True, after=("calico-operator",))


def _apiserver() -> Manifest:
    body = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "APIServer",
        "metadata": _meta("default"),
        "spec": {},
    }
    return Manifest("apiserver", body, after=("calico-operator",))


def _pod_pool(cluster: Cluster, pool: PodPool) -> Manifest:
    ipip, vxlan = ENCAPSULATION_MODES[cluster.calico.encapsulation]
    body = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "IPPool",
        "metadata": _meta(f"lanes-{pool.az}", labels={ZONE_LABEL: pool.az}),
        "spec": {
            "cidr": str(pool.cidr),
            "blockSize": cluster.calico.block_size,
            "ipipMode": ipip,
            "vxlanMode": vxlan,
            "natOutgoing": cluster.calico.nat_outgoing,
            "nodeSelector": f"{ZONE_LABEL} == '{pool.az}'",
            "allowedUses": ["Workload", "Tunnel"],
            "assignmentMode": "Automatic",
        },
    }
    return Manifest(f"ippool-{pool.az}", body, protect=True, after=("apiserver",))


def _cidr_slug(cidr: IPNetwork) -> str:
    return f"{cidr.ip}-{cidr.prefixlen}".replace(".", "-")


def _no_nat_pool(cidr: IPNetwork) -> Manifest:
    body = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "IPPool",
        "metadata": _meta(f"lanes-no-nat-{_cidr_slug(cidr)}"),
        "spec": {
            "cidr": str(cidr),
            "disabled": True,
            "natOutgoing": False,
            "disableBGPExport": True,
            "ipipMode": "Never",
            "vxlanMode": "Never",
        },
    }
    return Manifest(f"ippool-no-nat-{_cidr_slug(cidr)}", body, after=("apiserver",))


def _ingress_class(cluster: Cluster) -> Manifest:
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": _meta(cluster.ingress_class),
        "spec": {"controller": INGRESS_CONTROLLER},
    }
    return Manifest("ingress-class", body)


def _namespace(tenant: Tenant) -> Manifest:
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta(tenant.name, labels={TENANT_LABEL: tenant.name}),
    }
    return Manifest(f"namespace-{tenant.name}", body)


def _policy(tenant: Tenant, name: str, spec: dict[str, Any]) -> Manifest:
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(f"lanes-{name}", tenant.name, {TENANT_LABEL: tenant.name}),
        "spec": spec,
    }
    return Manifest(f"netpol-{tenant.name}-{name}", body, after=(f"namespace-{tenant.name}",))


def _peer(namespace: str, pods: dict[str, str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}},
        "podSelector": {"matchLabels": dict(sorted(pods.items()))},
    }


def _grant_rule(plan: Plan, grant: Grant) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "to": [{"ipBlock": {"cidr": str(c)}} for c in grant_ranges(plan, grant)]
    }
    if grant.ports:
        rule["ports"] = [{"protocol": grant.protocol, "port": p} for p in sorted(set(grant.ports))]
    return rule


def _tenant_policies(plan: Plan, tenant: Tenant) -> list[Manifest]:
    """Default deny both ways; then DNS, the tenant itself, the ingress controller, grants."""
    everything: dict[str, Any] = {}
    policies = [
        _policy(
            tenant,
            "default-deny",
            {"podSelector": everything, "policyTypes": ["Ingress", "Egress"]},
        ),
        _policy(
            tenant,
            "allow-dns",
            {
                "podSelector": everything,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [_peer(DNS_NAMESPACE, DNS_POD_LABELS)],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
        _policy(
            tenant,
            "allow-same-tenant",
            {
                "podSelector": everything,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": everything}]}],
                "egress": [{"to": [{"podSelector": everything}]}],
            },
        ),
        _policy(
            tenant,
            "allow-from-ingress",
            {
                "podSelector": everything,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [_peer(INGRESS_NAMESPACE, INGRESS_POD_LABELS)]}],
            },
        ),
    ]
    if tenant.egress:
        policies.append(
            _policy(
                tenant,
                "allow-egress-grants",
                {
                    "podSelector": everything,
                    "policyTypes": ["Egress"],
                    "egress": [_grant_rule(plan, g) for g in tenant.egress],
                },
            )
        )
    return policies


def _node_patch(plan: Plan, host: HostPlan) -> Manifest:
    labels = {
        **host.config.labels,
        ZONE_LABEL: host.az,
        REGION_LABEL: plan.region,
        ROLE_LABEL: host.role,
    }
    body = {"apiVersion": "v1", "kind": "Node", "metadata": _meta(host.name, labels=labels)}
    return Manifest(f"node-{host.name}", body, patch=True)


def _ingress_release(plan: Plan) -> HelmRelease:
    name = f"ingress-nginx-{plan.az}"
    cluster = plan.config.cluster
    values = {
        "fullnameOverride": name,
        "controller": {
            "kind": "DaemonSet",
            "hostNetwork": False,
            "nodeSelector": {
                "kubernetes.io/os": "linux",
                ROLE_LABEL: "ingress",
                ZONE_LABEL: plan.az,
            },
            "ingressClass": cluster.ingress_class,
            "ingressClassResource": {
                "enabled": False,
                "name": cluster.ingress_class,
                "controllerValue": INGRESS_CONTROLLER,
            },
            "electionID": f"{name}-leader",
            "extraArgs": {"update-status": "false"},
            "publishService": {"enabled": False},
            "service": {"enabled": False},
        },
    }
    return HelmRelease("ingress-nginx", name, INGRESS_NAMESPACE, INGRESS_CHART, values)


def _ingress_service(
    plan: Plan, addresses: tuple[IPAddress, ...], ports: tuple[int, ...]
) -> Manifest:
    name = f"ingress-nginx-{plan.az}"
    selector = {**INGRESS_POD_LABELS, "app.kubernetes.io/instance": name}
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, INGRESS_NAMESPACE, {ZONE_LABEL: plan.az}),
        "spec": {
            "type": "ClusterIP",
            "externalIPs": [str(a) for a in addresses],
            "externalTrafficPolicy": "Local",
            "selector": dict(sorted(selector.items())),
            "ports": [
                {
                    "name": INGRESS_PORT_NAMES.get(port, f"tcp-{port}"),
                    "protocol": "TCP",
                    "port": port,
                    "targetPort": INGRESS_PORT_NAMES.get(port, port),
                }
                for port in ports
            ],
        },
    }
    return Manifest(f"ingress-service-{plan.az}", body, after=("ingress-nginx",))


def _operator_release() -> HelmRelease:
    values = {
        "installation": {"enabled": False},
        "apiServer": {"enabled": False},
        "goldmane": {"enabled": False},
        "whisker": {"enabled": False},
    }
    return HelmRelease("calico-operator", "calico", OPERATOR_NAMESPACE, OPERATOR_CHART, values)


def plan_cluster(plan: Plan) -> ClusterPlan:
    """Everything this stack declares in the cluster; assumes ``rules.checked_plan`` passed."""
    cluster = plan.config.cluster
    owner = region_owner(plan) == plan.az
    traffic = plan.network("traffic")
    storage_net = plan.network("storage")
    assert traffic is not None and storage_net is not None
    pools = carve_pools(cluster, plan.azs)
    storage = storage_net.cidr if cluster.storage == "host-nat" else None
    no_nat = no_nat_ranges(IPNetwork(cluster.pod_cidr), storage)
    autodetect = tuple(b.cidr for b in traffic.blocks())
    hosts = ingress_hosts(plan)
    addresses = tuple(h.address("traffic").address for h in hosts)  # type: ignore[union-attr]
    ports = _ingress_ports(plan, hosts)

    manifests: list[Manifest] = []
    releases: list[HelmRelease] = []
    if owner:
        releases.append(_operator_release())
        manifests += [_installation(plan, autodetect), _apiserver()]
        manifests += [_pod_pool(cluster, p) for p in pools]
        manifests += [_no_nat_pool(c) for c in no_nat]
        manifests.append(_ingress_class(cluster))
        for tenant in sorted(cluster.tenants, key=lambda t: t.name):
            manifests += [_namespace(tenant), *_tenant_policies(plan, tenant)]
    nodes = sorted((h for h in plan.stack_hosts() if h.role in NODE_ROLES), key=lambda h: h.name)
    manifests += [_node_patch(plan, h) for h in nodes]
    if addresses:
        releases.append(_ingress_release(plan))
        manifests.append(_ingress_service(plan, addresses, ports))
    return ClusterPlan(
        region=plan.region,
        az=plan.az,
        owner=owner,
        pod_cidr=IPNetwork(cluster.pod_cidr),
        service_cidr=IPNetwork(cluster.service_cidr),
        pools=pools,
        no_nat=no_nat,
        autodetect=autodetect,
        ingress_addresses=addresses,
        ingress_ports=ports,
        storage=storage,
        manifests=tuple(manifests),
        releases=tuple(releases),
    )
