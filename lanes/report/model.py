"""The report's model: what the pictures and tables show, read from the plan, host and gateway models.

Nothing here computes an address: blocks, host addresses, devices and NAT steps come from
``lanes.plan``, ``lanes.hostnet`` and ``lanes.gateway``. This module only arranges them: bars
to scale, per-AZ lanes and nodes (hosts grouped per role past ``GROUP_THRESHOLD``), exposures
as paths through the adjacency network, and the lab's matrix as a grid. Every list is sorted,
so the same config gives the same report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from netaddr import IPNetwork, IPSet

from lanes.gateway import NAT_MAPS, GatewayModel, derive_gateway, nat_maps
from lanes.hostnet import build_host_net
from lanes.plan import PLATFORM_SPACE, HostPlan, NetworkPlan, Plan
from lanes.report.matrix import Matrix

__all__ = [
    "GROUP_THRESHOLD",
    "ROLE_ORDER",
    "Span",
    "Bar",
    "OutsideGroup",
    "Line",
    "Node",
    "Lane",
    "ExposurePath",
    "AzView",
    "Table",
    "GatewayView",
    "HostRow",
    "Report",
    "build_report",
]

# More hosts than this in one AZ (gateways aside) are drawn as one box per role and NIC layout.
GROUP_THRESHOLD = 24
ROLE_ORDER = ("gateway", "master", "ingress", "worker", "service")

SpanKind = Literal["network", "zone", "block", "reserved", "outside", "overlap"]


@dataclass(frozen=True)
class Span:
    """A piece of an allocation bar: ``start`` and ``width`` are fractions of the bar."""

    label: str
    cidr: str
    kind: SpanKind
    start: float
    width: float
    used: int | None = None  # host addresses taken (blocks only)
    free: int | None = None
    zone: str | None = None  # the zone a block belongs to


@dataclass(frozen=True)
class Bar:
    """One network (or the whole platform space) to scale, one row of spans per level."""

    name: str
    cidr: str
    size: int
    rows: tuple[tuple[Span, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class OutsideGroup:
    """Outside networks drawn on one scale: the union of their ranges, overlaps marked."""

    cidr: str
    members: tuple[Span, ...]
    overlaps: tuple[Span, ...]


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

    def hops(self) -> tuple[tuple[str, str], ...]:
        """(where, address) from the consumers to the service; ends not in the region left out."""
        hops = []
        if self.consumer_network:
            hops.append((f"{self.consumer_network} (consumers)", self.consumer_address or ""))
        if self.consumer_gateway:
            hops.append((f"{self.consumer_gateway} (consume: DNAT, SNAT)", ""))
        hops.append(("adjacency", self.adjacency_address))
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


@dataclass(frozen=True)
class Table:
    title: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class GatewayView:
    name: str
    host: str
    az: str
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class HostRow:
    name: str
    number: int
    role: str
    az: str
    addresses: tuple[tuple[str, str], ...]  # (network, address) in plan order


@dataclass(frozen=True)
class Report:
    region: str
    environment: str
    stack: str
    az: str
    azs: tuple[str, ...]
    space: Bar
    networks: tuple[Bar, ...]
    outside: tuple[OutsideGroup, ...]
    views: tuple[AzView, ...]
    gateways: tuple[GatewayView, ...]
    hosts: tuple[HostRow, ...]
    matrix: Matrix | None

    def network_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.networks) + tuple(
            s.label for g in self.outside for s in g.members
        )


# -- address space ---------------------------------------------------------------------------


def _span(
    label: str, cidr: IPNetwork, parent: IPNetwork, kind: SpanKind, used: int | None = None
) -> Span:
    free = None if used is None else max(cidr.size - 2 - used, 0)
    return Span(
        label,
        str(cidr),
        kind,
        (cidr.first - parent.first) / parent.size,
        cidr.size / parent.size,
        used,
        free,
    )


def _used_per_block(plan: Plan) -> dict[str, set[int]]:
    """Addresses taken in each block: the hosts' and the block's gateway."""
    used: dict[str, set[int]] = {}
    for net in plan.networks:
        for block in net.blocks():
            used.setdefault(str(block.cidr), set()).add(int(block.gateway))
    for host in plan.hosts:
        for entry in host.addresses:
            key = str(entry.block)
            if key in used:
                used[key].add(int(entry.address))
    return used


def _network_bar(net: NetworkPlan, used: dict[str, set[int]]) -> Bar:
    zones = tuple(
        _span(z.name or net.name, z.cidr, net.cidr, "reserved" if z.reserved else "zone")
        for z in net.zones
    )
    blocks = [
        replace(_span(b.az, b.cidr, net.cidr, "block", len(used.get(str(b.cidr), ()))), zone=z.name)
        for z in net.zones
        for b in z.blocks
    ]
    reserved = [
        _span("reserved", c, net.cidr, "reserved")
        for c in (*(r for z in net.zones for r in z.reserved_blocks), *net.reserved)
    ]
    rows = (zones, tuple(sorted(blocks + reserved, key=lambda s: s.start)))
    note = f"vlan {net.vlan}, mtu {net.mtu}"
    return Bar(net.name, str(net.cidr), net.cidr.size, rows if net.zoned else rows[1:], note)


def _space_bar(plan: Plan) -> Bar:
    spans = tuple(
        _span(n.name, n.cidr, PLATFORM_SPACE, "network")
        for n in sorted(plan.networks, key=lambda n: n.cidr.first)
    )
    return Bar("platform", str(PLATFORM_SPACE), PLATFORM_SPACE.size, (spans,), "RFC 6598")


def _overlap_groups(plan: Plan) -> tuple[OutsideGroup, ...]:
    """Outside networks in clusters of overlapping ranges, each cluster on its own scale."""
    groups: list[list] = []
    for net in sorted(plan.outside, key=lambda n: (n.cidr.first, n.name)):
        if groups and net.cidr.first <= max(m.cidr.last for m in groups[-1]):
            groups[-1].append(net)
        else:
            groups.append([net])
    result = []
    for members in groups:
        union = IPSet(m.cidr for m in members)
        scale = IPNetwork(f"{members[0].cidr.network}/{members[0].cidr.prefixlen}")
        for cidr in union.iter_cidrs():
            while not (cidr.first >= scale.first and cidr.last <= scale.last):
                scale = scale.supernet(scale.prefixlen - 1)[0]
        spans = tuple(_span(m.name, m.cidr, scale, "outside") for m in members)
        overlaps = tuple(
            _span(f"{a.name} ∩ {b.name}", shared, scale, "overlap")
            for i, a in enumerate(members)
            for b in members[i + 1 :]
            for shared in (IPSet([a.cidr]) & IPSet([b.cidr])).iter_cidrs()
        )
        result.append(OutsideGroup(str(scale), spans, overlaps))
    return tuple(result)


# -- topology --------------------------------------------------------------------------------


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
        for n in host.config.nics
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
        )
    return Node(host.name, "host", host.name, subtitle, _host_lines(host, plan), (host.name,))


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
            if a.name != b.name and a.cidr.first <= b.cidr.last and b.cidr.first <= a.cidr.last:
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
    lanes = [
        Lane(n.name, str(n.cidr), n.vlan, False, i, 0, max(len(nodes) - 1, 0), ())
        for i, n in enumerate(plan.networks)
    ]
    reach: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        for network in node.networks():
            reach.setdefault(network, []).append(i)
    outside = [n for n in plan.outside if n.name in reach]
    columns = _pack_columns([(n.name, reach[n.name][0], reach[n.name][-1]) for n in outside])
    overlaps = _overlapping(plan)
    lanes += [
        Lane(
            n.name,
            str(n.cidr),
            n.vlan,
            True,
            columns[n.name],
            reach[n.name][0],
            reach[n.name][-1],
            overlaps[n.name],
        )
        for n in outside
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
                )
            )
    return tuple(sorted(paths, key=lambda p: (p.name, p.adjacency_address)))


def _az_view(az: str, plan: Plan, gateways: list[GatewayModel]) -> AzView:
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
    )


# -- gateway tables --------------------------------------------------------------------------


def _cell(value: object) -> str:
    if isinstance(value, tuple | list):
        return " . ".join(_cell(v) for v in value)
    return str(value)


def _snat_table(model: GatewayModel) -> Table:
    rows = []
    for i, step in enumerate(model.snat, 1):
        e = step.egress
        what = (
            f"{', '.join(str(s) for s in e.sources)} -> {e.to} on {e.interface}"
            if e
            else "per map (below)"
        )
        rows.append((str(i), step.kind, what, str(step.exempt) if step.exempt else "-"))
    return Table(
        "SNAT, in the order the kernel tries it",
        ("#", "kind", "translates", "never to"),
        tuple(rows),
    )


def _map_tables(model: GatewayModel) -> list[Table]:
    return [
        Table(
            f"map {name}",
            (f"key ({NAT_MAPS[name][0]})", f"value ({NAT_MAPS[name][1]})", "from"),
            tuple((_cell(m.key), _cell(m.value), m.path) for m in entries),
        )
        for name, entries in nat_maps(model).items()
        if entries
    ]


def _proxy_table(model: GatewayModel) -> Table:
    return Table(
        "proxies (nginx)",
        ("name", "mode", "listen", "upstream", "from"),
        tuple(
            (
                p.name,
                p.mode,
                f"{p.listen}:{p.port}",
                f"{p.upstream}:{p.upstream_port}",
                str(p.source),
            )
            for p in model.proxies
        ),
    )


def _gateway_view(model: GatewayModel) -> GatewayView:
    tables = [
        Table("interfaces", ("network", "interface"), tuple(model.interfaces)),
        _snat_table(model),
        *_map_tables(model),
    ]
    if model.proxies:
        tables.append(_proxy_table(model))
    return GatewayView(model.name, model.host, model.az, tuple(t for t in tables if t.rows))


def _region_gateways(plan: Plan) -> list[GatewayModel]:
    """Every gateway of the region (the stack derives only its AZ's), sorted by AZ and name."""
    models = [
        derive_gateway(plan, i)
        for i, gw in enumerate(plan.config.gateways)
        if plan.host(gw.host) is not None
    ]
    return sorted(models, key=lambda m: (m.az, m.name))


def build_report(plan: Plan, stack: str, matrix: Matrix | None = None) -> Report:
    """The report of a checked plan (rules passed); ``matrix`` from ``lanes lab check``."""
    gateways = _region_gateways(plan)
    used = _used_per_block(plan)
    return Report(
        plan.region,
        plan.environment,
        stack,
        plan.az,
        plan.azs,
        _space_bar(plan),
        tuple(_network_bar(n, used) for n in plan.networks),
        _overlap_groups(plan),
        tuple(_az_view(az, plan, gateways) for az in plan.azs),
        tuple(_gateway_view(g) for g in gateways),
        tuple(
            HostRow(
                h.name,
                h.number,
                h.role,
                h.az,
                tuple((a.network, str(a.address)) for a in h.addresses),
            )
            for h in plan.hosts
        ),
        matrix,
    )
