"""Each AZ's topology: networks as lanes, hosts (grouped per role past ``GROUP_THRESHOLD``) and
gateways as boxes with a leg per address, exposures as paths through the adjacency network.

Devices, VLANs and addresses come from ``lanes.model.hostnet``, exposures from ``lanes.intents.gateway``;
this module only arranges them, in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lanes.intents.gateway import GatewayModel
from lanes.model.addressing import overlaps
from lanes.model.hostnet import build_host_net
from lanes.model.plan import HostPlan, Plan

__all__ = [
    "GROUP_THRESHOLD",
    "ROLE_ORDER",
    "Line",
    "Node",
    "Lane",
    "ExposurePath",
    "AzView",
    "az_view",
]

GROUP_THRESHOLD = 24
ROLE_ORDER = ("gateway", "master", "ingress", "worker", "service")


@dataclass(frozen=True)
class Line:
    """A line of a node's box: a bond, or a leg from a device to its network's lane."""

    label: str  # a bond and its members, or a device and its VLAN
    network: str | None = None
    device: str | None = None
    address: str | None = None  # an address with its prefix, or a group's block

    @property
    def text(self) -> str:
        return f"{self.label}  {self.address}" if self.address else self.label


NodeKind = Literal["host", "group", "gateway"]


@dataclass(frozen=True)
class Node:
    """A host, a group of hosts of one role and NIC layout, or a gateway host."""

    key: str
    kind: NodeKind
    title: str
    subtitle: str
    lines: tuple[Line, ...]
    members: tuple[str, ...]  # host names
    gateways: tuple[str, ...] = ()  # the gateway intents a gateway host carries out
    role: str = ""

    def networks(self) -> tuple[str, ...]:
        return tuple(sorted({line.network for line in self.lines if line.network}))


@dataclass(frozen=True)
class Lane:
    """A network as a lane of an AZ's topology; outside lanes span only the nodes they reach."""

    network: str
    cidr: str
    vlan: int | None
    outside: bool
    column: int  # platform lanes: their order; outside lanes: the packed column
    first: int  # index of the first and last node it reaches
    last: int
    overlaps: tuple[str, ...]  # other outside networks with an overlapping range


@dataclass(frozen=True)
class ExposurePath:
    """A service published in one network and consumed in another through the adjacency network."""

    name: str
    protocol: str
    port: int
    consumer_network: str | None
    consumer_gateway: str | None
    consumer_address: str | None
    adjacency_address: str
    publisher_gateway: str | None
    service_network: str | None
    service_address: str | None
    via: str  # the network between the two gateways (the adjacency network)

    def hops(self) -> tuple[tuple[str, str], ...]:
        """(where, address) from the consumers to the service; ends not in the region left out."""
        hops = []
        if self.consumer_network:
            hops.append((f"{self.consumer_network} (consumers)", self.consumer_address or ""))
        if self.consumer_gateway:
            hops.append((f"{self.consumer_gateway} (consume: DNAT, SNAT)", ""))
        hops.append((self.via, self.adjacency_address))
        if self.publisher_gateway:
            hops.append((f"{self.publisher_gateway} (publish: DNAT, SNAT)", ""))
        if self.service_network:
            hops.append((f"{self.service_network} (service)", self.service_address or ""))
        return tuple(hops)


@dataclass(frozen=True)
class AzView:
    az: str
    managed: bool  # the AZ this stack applies
    lanes: tuple[Lane, ...]
    nodes: tuple[Node, ...]
    exposures: tuple[ExposurePath, ...]
    grouped: bool
    host_count: int
    exposure_network: str  # the lane exposures cross between their gateways


def _role_rank(role: str) -> int:
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)


def _host_lines(host: HostPlan, plan: Plan) -> tuple[Line, ...]:
    """Bonds, then one line per address on its device (each a leg to its network's lane)."""
    net = build_host_net(host, plan)
    lines = [
        Line(f"{link.name} = {' + '.join(link.members)} (active-backup)")
        for link in net.links
        if link.kind == "bond"
    ]
    vlans = {link.name: link.vlan for link in net.links}
    for address in net.addresses:
        vlan = vlans.get(address.device)
        tag = f" vlan {vlan}" if vlan is not None else ""
        lines.append(Line(f"{address.device}{tag}", address.network, address.device, address.cidr))
    return tuple(lines)


def _group_key(host: HostPlan) -> tuple:
    layout = tuple(
        (n.name, tuple(n.networks), n.tagged, tuple(n.bond.members) if n.bond else ())
        for n in host.nics
    )
    return (host.role, layout, tuple((a.network, a.zone, str(a.block)) for a in host.addresses))


def _group_lines(host: HostPlan, plan: Plan) -> tuple[Line, ...]:
    """A group's lines: the representative's devices, each with its block instead of an address."""
    blocks = {str(a.address): str(a.block) for a in host.addresses}
    lines = []
    for line in _host_lines(host, plan):
        if line.network is None:
            lines.append(line)
            continue
        block = blocks[str(line.address).split("/")[0]]
        lines.append(Line(line.label, line.network, line.device, f"block {block}"))
    return tuple(dict.fromkeys(lines))


def _host_node(host: HostPlan, plan: Plan, gateways: list[GatewayModel]) -> Node:
    mine = [g.name for g in gateways if g.host == host.name]
    subtitle = f"{host.role} #{host.number}"
    if mine:
        return Node(
            host.name,
            "gateway",
            f"{', '.join(mine)} @ {host.name}",
            f"{subtitle}: NAT and proxies below",
            _host_lines(host, plan),
            (host.name,),
            tuple(mine),
            host.role,
        )
    lines = _host_lines(host, plan)
    return Node(host.name, "host", host.name, subtitle, lines, (host.name,), (), host.role)


def _group_nodes(hosts: list[HostPlan], plan: Plan) -> list[Node]:
    groups: dict[tuple, list[HostPlan]] = {}
    for host in hosts:
        groups.setdefault(_group_key(host), []).append(host)
    nodes = []
    for i, (_, members) in enumerate(
        sorted(groups.items(), key=lambda kv: (_role_rank(kv[0][0]), kv[1][0].number))
    ):
        first, last = members[0], members[-1]
        nodes.append(
            Node(
                f"{first.az}-group-{i}",
                "group",
                f"{first.role} × {len(members)}",
                f"#{first.number}–#{last.number} ({first.name} … {last.name})",
                _group_lines(first, plan),
                tuple(h.name for h in members),
                (),
                first.role,
            )
        )
    return nodes


def _az_nodes(az: str, plan: Plan, gateways: list[GatewayModel]) -> tuple[list[Node], bool]:
    hosts = [h for h in plan.hosts if h.az == az]
    gateway_hosts = {g.host for g in gateways}
    special = [h for h in hosts if h.name in gateway_hosts]
    rest = [h for h in hosts if h.name not in gateway_hosts]
    # Gateways first, by the first outside network they reach, so overlapping networks whose
    # gateways sit side by side can share a lane column.
    outside = {n.name for n in plan.outside}
    special.sort(
        key=lambda h: (
            min((a.network for a in h.addresses if a.network in outside), default="~"),
            h.name,
        )
    )
    nodes = [_host_node(h, plan, gateways) for h in special]
    grouped = len(rest) > GROUP_THRESHOLD
    if grouped:
        nodes += _group_nodes(rest, plan)
    else:
        rest.sort(key=lambda h: (_role_rank(h.role), h.number, h.name))
        nodes += [_host_node(h, plan, gateways) for h in rest]
    return nodes, grouped


def _overlapping(plan: Plan) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {n.name: [] for n in plan.outside}
    for a in plan.outside:
        for b in plan.outside:
            if a.name != b.name and overlaps(a.cidr, b.cidr):
                found[a.name].append(b.name)
    return {name: tuple(sorted(others)) for name, others in found.items()}


def _pack_columns(spans: list[tuple[str, int, int]]) -> dict[str, int]:
    """Interval packing: an outside lane takes the first column free over its node range."""
    columns: list[int] = []  # last node index taken in each column
    placed = {}
    for name, first, last in sorted(spans, key=lambda s: (s[1], s[2], s[0])):
        for i, end in enumerate(columns):
            if end < first:
                columns[i] = last
                placed[name] = i
                break
        else:
            columns.append(last)
            placed[name] = len(columns) - 1
    return placed


def _lanes(plan: Plan, nodes: list[Node]) -> tuple[Lane, ...]:
    """The platform networks' lanes, the line's (beside them) and the outside networks' the
    AZ's nodes reach, from the plan's segments."""
    reach: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        for network in node.networks():
            reach.setdefault(network, []).append(i)
    platform = [s for s in plan.segments if s.scope == "platform"]
    lanes = [
        Lane(s.name, str(s.cidr), s.vlan, False, i, 0, max(len(nodes) - 1, 0), ())
        for i, s in enumerate(platform)
    ]
    # The line between the AZ routers: a routed subnet of the platform space, drawn beside the
    # platform's lanes (only the AZ's router has a leg to it).
    lanes += [
        Lane(
            s.name, str(s.cidr), s.vlan, False, len(lanes), reach[s.name][0], reach[s.name][-1], ()
        )
        for s in plan.segments
        if s.scope == "line" and s.name in reach
    ]
    outside = [s for s in plan.segments if s.scope == "outside" and s.name in reach]
    columns = _pack_columns([(s.name, reach[s.name][0], reach[s.name][-1]) for s in outside])
    overlaps = _overlapping(plan)
    lanes += [
        Lane(
            s.name,
            str(s.cidr),
            s.vlan,
            True,
            columns[s.name],
            reach[s.name][0],
            reach[s.name][-1],
            overlaps[s.name],
        )
        for s in outside
    ]
    return tuple(lanes)


def _exposure_paths(gateways: Iterable[GatewayModel], plan: Plan) -> tuple[ExposurePath, ...]:
    """Pair each consumed exposure with the publication at its adjacency address."""
    published = {
        (str(e.listen), e.port): (g, e)
        for g in gateways
        for e in g.exposures
        if e.role == "publish"
    }
    networks = {g.name: dict((iface, net) for net, iface in g.interfaces) for g in gateways}
    paths, paired = [], set()
    for g in gateways:
        for e in g.exposures:
            if e.role != "consume":
                continue
            key = (str(e.target), e.target_port)
            pub = published.get(key)
            paired.add(key)
            paths.append(
                ExposurePath(
                    e.name,
                    e.protocol,
                    e.port,
                    networks[g.name].get(e.listen_interface),
                    g.name,
                    f"{e.listen}:{e.port}",
                    f"{e.target}:{e.target_port}",
                    pub[0].name if pub else None,
                    networks[pub[0].name].get(pub[1].target_interface) if pub else None,
                    f"{pub[1].target}:{pub[1].target_port}" if pub else None,
                    plan.kinds.exposure_network,
                )
            )
    for key, (g, e) in published.items():
        if key not in paired:
            paths.append(
                ExposurePath(
                    e.name,
                    e.protocol,
                    e.port,
                    None,
                    None,
                    None,
                    f"{e.listen}:{e.port}",
                    g.name,
                    networks[g.name].get(e.target_interface),
                    f"{e.target}:{e.target_port}",
                    plan.kinds.exposure_network,
                )
            )
    return tuple(sorted(paths, key=lambda p: (p.name, p.adjacency_address)))


def az_view(az: str, plan: Plan, gateways: list[GatewayModel]) -> AzView:
    """The topology of ``az`` with the gateways of the region (those of ``az`` are drawn)."""
    mine = [g for g in gateways if g.az == az]
    nodes, grouped = _az_nodes(az, plan, mine)
    return AzView(
        az,
        az == plan.az,
        _lanes(plan, nodes),
        tuple(nodes),
        _exposure_paths(mine, plan),
        grouped,
        sum(1 for h in plan.hosts if h.az == az),
        plan.kinds.exposure_network,
    )
