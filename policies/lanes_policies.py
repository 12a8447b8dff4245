"""The lanes-network-rules policies: resource props -> the core's model -> the rules in lanes.rules.

Every policy names the core rules it enforces (``Violation.rule``); its check rebuilds the core's
objects from what the engine hands it and calls the one implementation of each rule, the same
function ``lanes plan`` runs over the computed plan. Nothing here decides what is right or wrong.

Resource policies see the props a resource was registered with (a component: the props passed to
``ComponentResource.__init__``). Stack policies see every resource's outputs (a component: what
``register_outputs`` set; a custom resource: its provider's outputs), so their adapters read
outputs. A violation is reported as ``<config path>: <message> [<core rule>]``, the line the
plan command prints for the same fault.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netaddr import IPAddress, IPNetwork

# The engine runs a pack with the pack's folder as cwd; the core (lanes/) is one level up.
_PROJECT = str(Path(__file__).resolve().parents[1])
if _PROJECT not in sys.path:
    sys.path.append(_PROJECT)

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.bgp import BgpSpeaker  # noqa: E402
from components.cluster import ClusterNetwork  # noqa: E402
from components.gateway import EdgeGateway  # noqa: E402
from components.host import BareMetalHost  # noqa: E402
from components.network import PlatformNetworkResource  # noqa: E402
from lanes.config.kinds import NETWORK_KINDS  # noqa: E402
from lanes.intents.gateway import GatewayModel, gateway_from_dict  # noqa: E402
from lanes.model.addressing import block_gateway, host_number  # noqa: E402
from lanes.model.cluster import TENANT_LABEL  # noqa: E402
from lanes.model.hostnet import Address, HostNet  # noqa: E402
from lanes.model.plan import Block, HostAddress, HostPlan, NetworkPlan, ZonePlan  # noqa: E402
from lanes.rules import (  # noqa: E402
    RuleId,
    Violation,
    check_as_number,
    check_autodetect,
    check_bgp_import,
    check_cluster_overlaps,
    check_disjoint_networks,
    check_exposure_egress,
    check_gateway_model,
    check_host_addresses,
    check_host_links,
    check_host_numbering,
    check_kubelet_node_ip,
    check_management_zones,
    check_network_boundaries,
    check_network_layout,
    check_network_vlans,
    check_object,
    check_pinned_host_keys,
    check_platform_space,
    check_pools_disjoint,
    check_prefix_boundaries,
    check_reserved_unused,
    check_route_listeners,
    check_tenant_default_deny,
    check_unique_holdings,
    sort_violations,
)

__all__ = [
    "PACK_NAME",
    "LanesPolicy",
    "SPECS",
    "POLICIES",
    "network_types",
    "network_from_props",
    "network_from_outputs",
    "networks_of_stack",
    "hostnet_from_dict",
    "host_from_props",
    "gateway_from_props",
]

PACK_NAME = "lanes-network-rules"
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

# The components' own type tokens; every network kind's component shares the module prefix.
NETWORKS = (PlatformNetworkResource.TYPE.rpartition(":")[0] + ":",)
HOSTS = (BareMetalHost.TYPE,)
GATEWAYS = (EdgeGateway.TYPE,)
CLUSTER = (ClusterNetwork.TYPE,)
BGP_SPEAKERS = (BgpSpeaker.TYPE,)
SSH_RESOURCES = ("command:remote:Command", "command:remote:CopyToRemote")
IPPOOL = "kubernetes:projectcalico.org/v3:IPPool"
INSTALLATION = "kubernetes:operator.tigera.io/v1:Installation"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
GATEWAY = ("kubernetes:gateway.networking.k8s.io/v1:Gateway",)
KUBERNETES = ("kubernetes:",)

BGP_OBJECTS = (
    "kubernetes:projectcalico.org/v3:BGPConfiguration",
    "kubernetes:projectcalico.org/v3:BGPPeer",
)

Props = Mapping[str, Any]


def network_types() -> dict[str, str]:
    """Type token -> network name, one per network kind (lanes.config.kinds)."""
    return {k.type_token: k.name for k in NETWORK_KINDS}


ResourceCheck = Callable[[str, str, Props], list[Violation]]
StackCheck = Callable[[Sequence[Any]], list[Violation]]


def _memo(adapter: Callable[[Props], Any]) -> Callable[[Props], Any]:
    """Rebuild a resource's model once per props object: several policies read one resource.

    Keyed by the object's identity, held with a weak reference so a recycled id never hits.
    """
    cache: dict[int, tuple[weakref.ref, Any]] = {}

    def cached(props: Props) -> Any:
        hit = cache.get(id(props))
        if hit is not None and hit[0]() is props:
            return hit[1]
        model = adapter(props)
        key = id(props)
        try:
            ref = weakref.ref(props, lambda _: cache.pop(key, None))
        except TypeError:  # a plain dict cannot be weakly referenced: no memo
            return model
        cache[key] = (ref, model)
        return model

    return cached


def _int(value: Any) -> int | None:
    # The engine hands numbers over as floats.
    return None if value is None else int(value)


# --- adapters: networks -------------------------------------------------------------------


@_memo
def network_from_props(props: Props) -> NetworkPlan:
    """A network component's registered props (``NetworkPlan.to_dict`` + region, azs)."""
    return NetworkPlan.from_dict(props)


def network_from_outputs(type_: str, outputs: Props) -> NetworkPlan:
    """A network component's outputs (cidr, vlan, per-AZ blocks and gateways) as a NetworkPlan.

    Outputs carry no zone prefixes, MTU or reserved space: the zones rebuilt here hold only
    their blocks (zone CIDR = the network's), enough for overlap, VLAN and block-membership
    rules, never for the layout rules (resource policies judge the layout from the props).
    """
    name = network_types()[type_]
    path = f"networks.{name}"
    blocks: dict[str, list[Block]] = {}
    gateways = outputs.get("gateways") or {}
    for az, zones in (outputs.get("blocks") or {}).items():
        for zone, cidr in zones.items():
            block = IPNetwork(cidr)
            gateway = (gateways.get(az) or {}).get(zone)
            zone_name = None if zone == "-" else zone
            zpath = path if zone_name is None else f"{path}.zones.{zone}"
            blocks.setdefault(zone, []).append(
                Block(
                    name,
                    zone_name,
                    az,
                    block,
                    IPAddress(gateway) if gateway else block_gateway(block),
                    f"{zpath}.blocks.{az}",
                )
            )
    network = IPNetwork(outputs["cidr"])
    zones = tuple(
        ZonePlan(
            None if zone == "-" else zone,
            network,
            False,
            tuple(sorted(found, key=lambda b: b.cidr.first)),
            (),
            path if zone == "-" else f"{path}.zones.{zone}",
        )
        for zone, found in sorted(blocks.items())
    )
    return NetworkPlan(name, network, int(outputs["vlan"]), 0, zones, (), path)


def networks_of_stack(resources: Iterable[Any]) -> list[NetworkPlan]:
    """The platform networks among a stack's resources, in the canonical order."""
    types = network_types()
    order = list(types)
    found = sorted(
        (r for r in resources if r.resource_type in types),
        key=lambda r: order.index(r.resource_type),
    )
    return [network_from_outputs(r.resource_type, r.props) for r in found]


# --- adapters: hosts ----------------------------------------------------------------------


def hostnet_from_dict(data: Props, path: str = "") -> HostNet:
    """``HostNet.to_dict`` back into the model: the core's own inverse."""
    return HostNet.from_dict(data, path)


def _gateway_of(net: HostNet, address: Address, block: IPNetwork) -> IPAddress | None:
    """The network's gateway as the host routes to it; a block's first+1 when the host is it."""
    kind = NETWORK_KINDS.kind(address.network)
    table = kind.table if kind is not None else None
    via = next(
        (r.via for r in net.routes if r.table == table and r.to == "default" and r.via), None
    )
    if via is not None:
        return IPAddress(via)
    return block_gateway(block) if kind is not None else None


@_memo
def host_from_props(props: Props) -> tuple[HostPlan, HostNet]:
    """A host component's props: its HostPlan (addresses as rendered) and its HostNet.

    ``number``, ``az`` and ``path`` are read when the component registers them; until it does,
    the number is the one the first platform address carries, the path names the host
    (``hosts.<name>``) and messages say "AZ" where the plan command names it.
    """
    name = props["host"]
    path = props.get("path") or f"hosts.{name}"
    net = hostnet_from_dict(props["network"], path)
    addresses = []
    for a in net.addresses:
        block = IPNetwork(a.cidr).cidr
        addresses.append(
            HostAddress(a.network, a.zone, IPAddress(a.address), block, _gateway_of(net, a, block))
        )
    number = _int(props.get("number"))
    if number is None:
        first = next((e for e in addresses if e.network in NETWORK_KINDS), None)
        number = host_number(first.address, first.block) if first else 0
    plan = HostPlan(name, number, props["role"], props.get("az") or "AZ", tuple(addresses), path)
    return plan, net


def _connection_targets(name: str, props: Props) -> list[tuple[str, str, str | None]]:
    connection = props.get("connection") or {}
    found = [(f"{name}.connection.hostKey", connection.get("host", "?"), connection.get("hostKey"))]
    proxy = connection.get("proxy")
    if proxy:
        found.append(
            (f"{name}.connection.proxy.hostKey", proxy.get("host", "?"), proxy.get("hostKey"))
        )
    return found


# --- adapters: gateways -------------------------------------------------------------------


@_memo
def gateway_from_props(props: Props) -> GatewayModel:
    """An EdgeGateway's props (``GatewayModel.to_dict`` + ssh, files) back into the model."""
    return gateway_from_dict(props, props.get("path") or f"gateways.{props['name']}")


# --- adapters: the cluster ----------------------------------------------------------------


def _cluster_prefixes(props: Props) -> list[tuple[str, str]]:
    found = [
        ("cluster.pod_cidr", props["pod_cidr"]),
        ("cluster.service_cidr", props["service_cidr"]),
    ]
    found += [
        (f"cluster.pod_cidr[{az}]", c) for az, c in sorted((props.get("pools") or {}).items())
    ]
    return found


def _of_type(resources: Iterable[Any], type_: str) -> list[Any]:
    return sorted((r for r in resources if r.resource_type == type_), key=lambda r: r.name)


def _spec(resource: Any) -> Props:
    return resource.props.get("spec") or {}


def _metadata(resource: Any) -> Props:
    return resource.props.get("metadata") or {}


# --- resource checks ----------------------------------------------------------------------


def _prefix_boundaries(type_: str, name: str, props: Props) -> list[Violation]:
    if type_.startswith(NETWORKS):
        return check_network_boundaries(network_from_props(props))
    return check_prefix_boundaries(_cluster_prefixes(props))


def _network_space(type_: str, name: str, props: Props) -> list[Violation]:
    return check_platform_space([network_from_props(props)])


def _network_layout(type_: str, name: str, props: Props) -> list[Violation]:
    return check_network_layout(network_from_props(props), tuple(props["azs"]))


def _network_reserved(type_: str, name: str, props: Props) -> list[Violation]:
    net = network_from_props(props)
    return check_reserved_unused(net) + check_network_layout(net, tuple(props["azs"]))


def _management_zones(type_: str, name: str, props: Props) -> list[Violation]:
    net = network_from_props(props)
    kind = NETWORK_KINDS.kind(net.name)
    return check_management_zones(net, kind.zones if kind is not None else ())


def _host_addresses(type_: str, name: str, props: Props) -> list[Violation]:
    host, _ = host_from_props(props)
    platform = NETWORK_KINDS.names
    return check_host_addresses(host, platform) + check_host_numbering(host, platform)


def _host_links(type_: str, name: str, props: Props) -> list[Violation]:
    host, net = host_from_props(props)
    return check_host_links(net, host.path, NETWORK_KINDS)


def _node_ip(type_: str, name: str, props: Props) -> list[Violation]:
    host, net = host_from_props(props)
    return check_kubelet_node_ip(host, net.node_ip, NETWORK_KINDS.nodes_network)


def _gateway_snat(type_: str, name: str, props: Props) -> list[Violation]:
    return check_gateway_model(gateway_from_props(props))


def _cluster_ranges(type_: str, name: str, props: Props) -> list[Violation]:
    """The pod and service ranges a ClusterNetwork carries, against the CNI-internal ranges and
    each other (it carries no networks: the stack policy ``pod-pools-disjoint`` checks the
    declared pools against them)."""
    return check_cluster_overlaps(props["pod_cidr"], props["service_cidr"])


def _route_listeners(type_: str, name: str, props: Props) -> list[Violation]:
    metadata = props.get("metadata") or {}
    listeners = (props.get("spec") or {}).get("listeners") or []
    return check_route_listeners(
        f"{name}.spec.listeners", listeners, metadata.get("namespace") or "default"
    )


def _object_limits(type_: str, name: str, props: Props) -> list[Violation]:
    """A declared Kubernetes object (``kubernetes:<group>/<version>:<Kind>``; a NodePatch is a
    Node's) against the API server's limits; providers and Helm releases carry no metadata."""
    if "metadata" not in props:
        return []
    kind = type_.rpartition(":")[2].removesuffix("Patch")
    return [
        dataclasses.replace(v, path=f"{name}.{v.path}")
        for v in check_object(kind, {**props, "kind": kind})
    ]


def _as_numbers(type_: str, name: str, props: Props) -> list[Violation]:
    number = _int((props.get("spec") or {}).get("asNumber"))
    return [] if number is None else check_as_number(f"{name}.spec.asNumber", number)


def _host_keys(type_: str, name: str, props: Props) -> list[Violation]:
    return check_pinned_host_keys(_connection_targets(name, props))


# --- stack checks -------------------------------------------------------------------------


def _networks_disjoint(resources: Sequence[Any]) -> list[Violation]:
    return check_disjoint_networks(networks_of_stack(resources), [])


def _network_vlans(resources: Sequence[Any]) -> list[Violation]:
    return check_network_vlans(networks_of_stack(resources))


def _hosts_unique(resources: Sequence[Any]) -> list[Violation]:
    # Addresses as rendered (canonical dotted quads), without rebuilding each host's model.
    holdings = [
        (f"hosts.{name}", name, entry["network"], entry["address"])
        for r in sorted(resources, key=lambda r: r.name)
        if _applies(HOSTS, r.resource_type)
        for name in [r.props["host"]]
        for entry in r.props["network"].get("addresses") or ()
    ]
    return check_unique_holdings(holdings, NETWORK_KINDS.names)


def _pod_pools(resources: Sequence[Any]) -> list[Violation]:
    pools = [
        (f"{r.name}.spec.cidr", IPNetwork(_spec(r)["cidr"]))
        for r in _of_type(resources, IPPOOL)
        if not _spec(r).get("disabled")  # disabled pools only mark no-NAT destinations
    ]
    return check_pools_disjoint(pools, networks_of_stack(resources))


def _autodetect(resources: Sequence[Any]) -> list[Violation]:
    pods = NETWORK_KINDS.pods_network
    traffic = next((n for n in networks_of_stack(resources) if n.name == pods), None)
    if traffic is None:
        return []
    found = []
    for r in _of_type(resources, INSTALLATION):
        network = _spec(r).get("calicoNetwork") or {}
        cidrs = (network.get("nodeAddressAutodetectionV4") or {}).get("cidrs") or []
        found += check_autodetect(
            f"{r.name}.spec.calicoNetwork.nodeAddressAutodetectionV4", cidrs, traffic
        )
    return found


def _bgp_import(type_: str, name: str, props: Props) -> list[Violation]:
    return check_bgp_import(
        name, props["pool"], props["podCidr"], props.get("neighbors") or [], props["block"]
    )


def _grant_exposures(resources: Sequence[Any]) -> list[Violation]:
    """Tenants' egress rules against where the stack's gateways consume exposures (their
    outputs): another port of a consume address is the gateway host's own."""
    consumed: dict[str, set[tuple[str, int]]] = {}
    for r in resources:
        if _applies(GATEWAYS, r.resource_type):
            for point in r.props.get("consumes") or ():
                key = (str(point["protocol"]), int(point["port"]))
                consumed.setdefault(str(point["address"]), set()).add(key)
    if not consumed:
        return []
    found = []
    for r in _of_type(resources, NETWORK_POLICY):
        found += check_exposure_egress(
            f"{r.name}.spec.egress", _spec(r).get("egress") or [], consumed
        )
    return found


def _tenant_isolation(resources: Sequence[Any]) -> list[Violation]:
    namespaces = [
        (f"{r.name}.metadata", _metadata(r)["name"])
        for r in _of_type(resources, NAMESPACE)
        if TENANT_LABEL in (_metadata(r).get("labels") or {})
    ]
    policies = [
        (str(_metadata(r).get("namespace")), _spec(r)) for r in _of_type(resources, NETWORK_POLICY)
    ]
    return check_tenant_default_deny(namespaces, policies)


# --- the policies -------------------------------------------------------------------------


@functools.cache
def _applies(types: tuple[str, ...], type_: str) -> bool:
    return any(type_ == t or (t.endswith(":") and type_.startswith(t)) for t in types)


@dataclass(frozen=True)
class LanesPolicy:
    """One policy: stable name, what it guards, the core rules it reports and how it checks."""

    name: str
    description: str
    rules: frozenset[RuleId]
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    types: tuple[str, ...] = ()
    level: EnforcementLevel = MANDATORY

    def applies_to(self, type_: str) -> bool:
        """``types`` holds exact type tokens and module prefixes ending in ``:``."""
        return _applies(self.types, type_)

    def resource_violations(self, type_: str, name: str, props: Props) -> list[Violation]:
        if self.resource_check is None or not self.applies_to(type_):
            return []
        return [
            v
            for v in sort_violations(self.resource_check(type_, name, props))
            if v.rule in self.rules
        ]

    def stack_violations(self, resources: Sequence[Any]) -> list[Violation]:
        if self.stack_check is None:
            return []
        return [v for v in sort_violations(self.stack_check(resources)) if v.rule in self.rules]

    def build(self) -> ResourceValidationPolicy | StackValidationPolicy:
        """The pulumi_policy object the engine runs."""
        if self.stack_check is not None:

            def validate_stack(args: StackValidationArgs, report_violation) -> None:
                for violation in self.stack_violations(args.resources):
                    report_violation(str(violation), None)

            return StackValidationPolicy(
                name=self.name,
                description=self.description,
                validate=validate_stack,
                enforcement_level=self.level,
            )

        def validate_resource(args: ResourceValidationArgs, report_violation) -> None:
            if not self.applies_to(args.resource_type):
                return  # every resource reaches every resource policy: leave the others fast
            for violation in self.resource_violations(args.resource_type, args.name, args.props):
                report_violation(str(violation), None)

        return ResourceValidationPolicy(
            name=self.name,
            description=self.description,
            validate=validate_resource,
            enforcement_level=self.level,
        )


SPECS: tuple[LanesPolicy, ...] = (
    # --- networks
    LanesPolicy(
        name="cidr-on-boundary",
        description="Every CIDR a network or the cluster declares sits on its own boundary "
        "(100.64.111.0/20 is refused, never masked to 100.64.96.0/20).",
        rules=frozenset({RuleId.CIDR_BOUNDARY}),
        resource_check=_prefix_boundaries,
        types=NETWORKS + CLUSTER,
    ),
    LanesPolicy(
        name="platform-space",
        description="Every platform network lies inside 100.64.0.0/10 (RFC 6598 shared address "
        "space), so it collides with no enterprise range.",
        rules=frozenset({RuleId.PLATFORM_SPACE}),
        resource_check=_network_space,
        types=NETWORKS,
    ),
    LanesPolicy(
        name="blocks-in-az-order",
        description="Zones lie inside their network and per-AZ blocks inside their zone, carved "
        "in AZ order from the start, each with its first address as gateway.",
        rules=frozenset(
            {
                RuleId.BLOCK_ORDER,
                RuleId.BLOCK_OUTSIDE_PARENT,
                RuleId.BLOCK_GATEWAY,
                RuleId.ZONE_OUTSIDE_PARENT,
                RuleId.ZONE_OVERLAP,
            }
        ),
        resource_check=_network_layout,
        types=NETWORKS,
    ),
    LanesPolicy(
        name="reserved-blocks-unused",
        description="Reserved blocks and reserved zones stay empty: no AZ block lies in them and "
        "no two blocks overlap.",
        rules=frozenset({RuleId.RESERVED_UNUSED, RuleId.BLOCK_OVERLAP}),
        resource_check=_network_reserved,
        types=NETWORKS,
    ),
    LanesPolicy(
        name="management-zones",
        description="A zoned management network has the plan's four zones, in order: "
        "cloud-management, k8s-nodes, enterprise-mapping and reserved (the last one reserved), "
        "each a quarter of the network.",
        rules=frozenset({RuleId.MANAGEMENT_ZONES}),
        resource_check=_management_zones,
        types=tuple(k.type_token for k in NETWORK_KINDS if k.zones),
    ),
    LanesPolicy(
        name="networks-disjoint",
        description="No two platform networks of the stack overlap: management, traffic, "
        "storage and adjacency never share an address.",
        rules=frozenset({RuleId.NETWORK_OVERLAP}),
        stack_check=_networks_disjoint,
    ),
    LanesPolicy(
        name="vlan-ids",
        description="Every platform network's VLAN id is within 1..4094 and no two networks "
        "share one.",
        rules=frozenset({RuleId.VLAN_RANGE, RuleId.VLAN_DISTINCT}),
        stack_check=_network_vlans,
    ),
    # --- hosts
    LanesPolicy(
        name="host-addresses-unique",
        description="No two hosts of the stack hold the same address (two outside networks, "
        "such as overlapping tenant VPCs, may reuse each other's addresses).",
        rules=frozenset({RuleId.ADDRESS_UNIQUE}),
        stack_check=_hosts_unique,
    ),
    LanesPolicy(
        name="host-in-block",
        description="Every host address is a usable address of the host's AZ block of that "
        "network (never the block's network or broadcast address; the gateway's only for "
        "gateway hosts).",
        rules=frozenset({RuleId.HOST_IN_BLOCK}),
        resource_check=_host_addresses,
        types=HOSTS,
    ),
    LanesPolicy(
        name="host-number-same",
        description="A host keeps the same host number in every platform network: its address "
        "is its block's first address plus its number everywhere.",
        rules=frozenset({RuleId.HOST_NUMBER_SAME}),
        resource_check=_host_addresses,
        types=HOSTS,
    ),
    LanesPolicy(
        name="nic-networks",
        description="Management, traffic and storage never share one NIC; only traffic and "
        "storage may share one (as two VLANs).",
        rules=frozenset({RuleId.NIC_THREE_NETWORKS, RuleId.NIC_SHARED}),
        resource_check=_host_links,
        types=HOSTS,
    ),
    LanesPolicy(
        name="host-vlans",
        description="Every VLAN interface of a host carries an id within 1..4094, and no two "
        "networks on one NIC use the same VLAN.",
        rules=frozenset({RuleId.NIC_VLAN_RANGE, RuleId.NIC_VLAN_DISTINCT}),
        resource_check=_host_links,
        types=HOSTS,
    ),
    LanesPolicy(
        name="nic-mtu",
        description="No VLAN interface of a host carries its network at a larger MTU than its "
        "NIC has: a NIC at MTU 1500 never carries the line or a network at 9000 as a VLAN.",
        rules=frozenset({RuleId.NIC_MTU}),
        resource_check=_host_links,
        types=HOSTS,
    ),
    LanesPolicy(
        name="kubelet-node-ip",
        description="kubelet on every Kubernetes node (master, worker, ingress) binds --node-ip "
        "to the node's management address in the k8s-nodes zone.",
        rules=frozenset({RuleId.KUBELET_NODE_IP}),
        resource_check=_node_ip,
        types=HOSTS,
    ),
    LanesPolicy(
        name="ssh-host-keys-pinned",
        description="Every SSH connection Pulumi opens (to a host, and through the jump host) "
        "pins the host key it accepts. Advisory: a first bootstrap may not know a key yet.",
        rules=frozenset({RuleId.CONNECTION_HOST_KEY}),
        resource_check=_host_keys,
        types=SSH_RESOURCES,
        level=ADVISORY,
    ),
    # --- gateways
    LanesPolicy(
        name="egress-snat-exempts-platform",
        description="A gateway's egress SNAT and 1:1 mappings never translate traffic toward "
        "100.64.0.0/10: between the platform's own networks addresses are kept.",
        rules=frozenset({RuleId.GATEWAY_SNAT_EXEMPT}),
        resource_check=_gateway_snat,
        types=GATEWAYS,
    ),
    LanesPolicy(
        name="specific-snat-before-egress",
        description="A gateway tries its specific SNAT (ingress replies, exposures, mappings) "
        "before the general egress SNAT, so an ingress node's reply leaves as its front address.",
        rules=frozenset({RuleId.GATEWAY_SNAT_ORDER}),
        resource_check=_gateway_snat,
        types=GATEWAYS,
    ),
    # --- the cluster
    LanesPolicy(
        name="cluster-ranges-disjoint",
        description="The pod and service ranges overlap each other and no range a CNI keeps for "
        "itself (OVN-Kubernetes join 100.64.0.0/16 and transit 100.88.0.0/16, link-local).",
        rules=frozenset({RuleId.CLUSTER_OVERLAP}),
        resource_check=_cluster_ranges,
        types=CLUSTER,
    ),
    LanesPolicy(
        name="pod-pools-disjoint",
        description="Every Calico IP pool pods get addresses from overlaps no platform network, "
        "no CNI-internal range and no other pool.",
        rules=frozenset({RuleId.POOL_OVERLAP}),
        stack_check=_pod_pools,
    ),
    LanesPolicy(
        name="cni-autodetect-traffic",
        description="Calico finds each node's address in the traffic blocks (cidrs method), so "
        "pod traffic uses the traffic NIC whatever holds the default route.",
        rules=frozenset({RuleId.CNI_AUTODETECT}),
        stack_check=_autodetect,
    ),
    LanesPolicy(
        name="router-bgp-imports-pods",
        description="An AZ router's BGP speaker imports only prefixes inside the pod range, "
        "from its AZ's nodes' traffic addresses, so no node can steer its platform routes.",
        rules=frozenset({RuleId.BGP_IMPORT}),
        resource_check=_bgp_import,
        types=BGP_SPEAKERS,
    ),
    LanesPolicy(
        name="tenant-default-deny",
        description="Every tenant namespace holds a NetworkPolicy that selects all its pods and "
        "denies all ingress and egress; what a tenant may reach is allowed on top of it.",
        rules=frozenset({RuleId.TENANT_DEFAULT_DENY}),
        stack_check=_tenant_isolation,
    ),
    LanesPolicy(
        name="gateway-routes-tenant-scoped",
        description="Every listener of a Gateway admits HTTPRoutes of one tenant namespace only "
        "(selected by kubernetes.io/metadata.name) and serves only that tenant's certificate.",
        rules=frozenset({RuleId.GATEWAY_LISTENER_SCOPE}),
        resource_check=_route_listeners,
        types=GATEWAY,
    ),
    LanesPolicy(
        name="kubernetes-objects-within-limits",
        description="Every declared Kubernetes object's name, namespace and labels are within "
        "the API server's limits; a Gateway's and its class's names fit the label Envoy Gateway "
        "makes of them, its listener names are unique SectionNames, its hostnames DNS names "
        "and its addresses at most 16; a BGP AS fits Calico's int32 asNumber.",
        rules=frozenset(
            {
                RuleId.K8S_NAME,
                RuleId.GATEWAY_LISTENER_NAME,
                RuleId.GATEWAY_ADDRESSES,
                RuleId.HOSTNAME_DNS,
                RuleId.CALICO_AS_NUMBER,
            }
        ),
        resource_check=_object_limits,
        types=KUBERNETES,
    ),
    LanesPolicy(
        name="tenant-grants-within-exposures",
        description="A tenant's egress rule to an address where a gateway consumes an "
        "exposure opens only the ports and protocols consumed there (any other is the "
        "gateway host's own: its SSH, its proxies).",
        rules=frozenset({RuleId.GRANT_EXPOSURE}),
        stack_check=_grant_exposures,
    ),
    LanesPolicy(
        name="bgp-as-numbers-usable",
        description="Calico's BGP AS numbers (the nodes' and the AZ routers') are neither "
        "reserved (RFC 6793 AS_TRANS, RFC 7300, RFC 7607) nor documentation numbers (RFC 5398).",
        rules=frozenset({RuleId.BGP_AS_NUMBER}),
        resource_check=_as_numbers,
        types=BGP_OBJECTS,
    ),
)

POLICIES = [spec.build() for spec in SPECS]
