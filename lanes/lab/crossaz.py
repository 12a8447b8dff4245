"""The region's cells between AZs, derived from the plan's host models: routed across, never L2.

Pure: no I/O. The region lab (``lanes lab up --region``) builds every AZ, each with its own
segments, and the line between the AZ routers. Its matrix is every AZ's own cells
(``derive_flows`` with the AZ as the stack's) and these:

- ``cross-az``: a host of one AZ to a host of another, in each platform network both carry
  (management, whose node addresses are the k8s-nodes zone, traffic, storage). Whether it
  reaches is traced hop by hop through the host models' routes and policy rules
  (``trace``): out through the sender's gateway (its AZ's router), across the line to the
  other AZ's router, onto the receiver's segment; and the reply the same way back, from the
  address the request came to. A cell that traces through expects ``reach`` and the receiver
  to see the sender's own address of that network (``source_address``); one that does not,
  ``blocked``. ``CrossCell.uses`` keeps every (host, table, destination) route of both
  traces, so the cells that need a route are known (remove it and exactly they fail).
  Pairs: every host of an AZ sends to the first host of each role of every other AZ, and the
  first host of each role sends to every host of every other AZ (``host_pairs``' rule).
- ``arp`` and ``broadcast``: layer 2 stays inside an AZ. In each platform network and AZ, the
  first host carrying it asks by ARP on that network's device for another host of its AZ (the
  control: answered) and for the first host of every other AZ carrying the network (never
  answered), and sends a broadcast (255.255.255.255) that the control hears and no other
  AZ's host does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from netaddr import IPAddress, IPNetwork

from lanes.lab.matrix import own_address
from lanes.model.flows import PROBE_PORT, Flow
from lanes.model.hostnet import MAIN_TABLE, HostNet, Route, source_address
from lanes.model.plan import Plan

__all__ = [
    "BROADCAST",
    "CrossCell",
    "Hop",
    "route_for",
    "trace",
    "cross_pairs",
    "derive_cross_cells",
    "derive_l2_flows",
    "region_azs",
    "segment_key",
]

BROADCAST = "255.255.255.255"
MAX_HOPS = 8

Hop = tuple[str, int, str]  # host, table, the route's destination ("default" or a CIDR)


@dataclass(frozen=True)
class CrossCell:
    """A cross-AZ flow and the routes its request and its reply take."""

    flow: Flow
    uses: frozenset[Hop]


def region_azs(plan: Plan) -> tuple[str, ...]:
    """The AZs holding hosts, in ``azs`` order."""
    held = {h.az for h in plan.hosts}
    return tuple(az for az in plan.azs if az in held)


def _connected(net: HostNet) -> list[Route]:
    return [
        Route(a.network, str(IPNetwork(a.cidr).cidr), a.device, None, a.address)
        for a in net.addresses
    ]


def _best(routes: Iterable[Route], dest: IPAddress) -> tuple[int, Route] | None:
    found = [
        (IPNetwork("0.0.0.0/0" if r.to == "default" else r.to).prefixlen, r)
        for r in routes
        if r.to == "default" or dest in IPNetwork(r.to)
    ]
    return max(found, key=lambda f: f[0]) if found else None


def route_for(net: HostNet, source: str | None, dest: str) -> tuple[int, Route] | None:
    """The (table, route) the kernel takes for a packet from ``source`` to ``dest``: the
    policy rules in priority order, each table's longest match (main: connected routes too)."""
    address = IPAddress(dest)
    tables = [
        r.table
        for r in sorted(net.rules, key=lambda r: r.priority)
        if source is not None
        and IPAddress(source) in IPNetwork(r.source)
        and (r.to is None or address in IPNetwork(r.to))
    ]
    for table in [*tables, MAIN_TABLE]:
        routes = [r for r in net.routes if r.table == table]
        if table == MAIN_TABLE:
            routes += _connected(net)
        best = _best(routes, address)
        if best is not None:
            return table, best[1]
    return None


def _holders(plan: Plan, nets: dict[str, HostNet]) -> dict[tuple[str, str], list[str]]:
    """(network, address) -> the hosts holding it."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for net in nets.values():
        for a in net.addresses:
            found[a.network, a.address].append(net.host)
    return found


def segment_key(network: str, az: str | None, platform: Collection[str]) -> str:
    """The segment a network is on: in a region lab (``az`` given) each AZ has its own of
    every ``platform`` network; the outside networks and the line are one for the region."""
    return f"{network}-{az}" if az is not None and network in platform else network


def _segment(plan: Plan, host: str, network: str) -> str:
    """The segment ``host`` has ``network`` on, in the region lab."""
    return segment_key(network, plan.az_of(host), plan.kinds.names)


def trace(
    plan: Plan, nets: dict[str, HostNet], start: str, source: str, dest: str
) -> list[Hop] | None:
    """The routes a packet from ``start`` (sent from ``source``) takes to the host holding
    ``dest``; None when a host has no route or the next hop is not on the same segment."""
    holders = _holders(plan, nets)
    host = start
    hops: list[Hop] = []
    for _ in range(MAX_HOPS):
        if any(a.address == dest for a in nets[host].addresses):
            return hops
        found = route_for(nets[host], source, dest)
        if found is None:
            return None
        table, route = found
        hops.append((host, table, route.to))
        here = _segment(plan, host, route.network)
        nexthop = route.via or dest
        after = [
            h
            for (network, address), held in holders.items()
            if address == nexthop
            for h in held
            if _segment(plan, h, network) == here
        ]
        if len(after) != 1:
            return None
        host = after[0]
    return None


def _first_by_role(nets: list[HostNet]) -> dict[str, str]:
    firsts: dict[str, str] = {}
    for net in nets:
        firsts.setdefault(net.role, net.host)
    return firsts


def cross_pairs(senders: list[HostNet], receivers: list[HostNet]) -> list[tuple[HostNet, HostNet]]:
    """Every sender to the first receiver of each role, and the first sender of each role to
    every receiver: every (role, role) cell in O(hosts x roles) pairs, in host order."""
    first_receivers = set(_first_by_role(receivers).values())
    first_senders = set(_first_by_role(senders).values())
    return [
        (src, dst)
        for src in senders
        for dst in receivers
        if dst.host in first_receivers or src.host in first_senders
    ]


def _cross_cell(plan: Plan, nets: dict[str, HostNet], src: HostNet, dst: HostNet, network: str):
    address, own = own_address(dst, network), own_address(src, network)
    if address is None or own is None:
        return None
    seen = source_address(src, address)
    there = trace(plan, nets, src.host, seen, address) if seen else None
    back = trace(plan, nets, dst.host, address, seen) if seen and there is not None else None
    if there is None or back is None:
        flow = Flow("cross-az", src.host, dst.host, network, address, PROBE_PORT, "blocked", None)
        return CrossCell(flow, frozenset())
    flow = Flow("cross-az", src.host, dst.host, network, address, PROBE_PORT, "reach", seen)
    return CrossCell(flow, frozenset(there + back))


def derive_cross_cells(
    plan: Plan, nets: dict[str, HostNet], ends: list[HostNet]
) -> list[CrossCell]:
    """The cross-AZ cells between the end hosts (gateway hosts are the path), by flow."""
    by_az: dict[str, list[HostNet]] = defaultdict(list)
    for net in ends:
        by_az[plan.az_of(net.host)].append(net)
    cells = []
    for a in region_azs(plan):
        for b in region_azs(plan):
            if a == b:
                continue
            for src, dst in cross_pairs(by_az[a], by_az[b]):
                for network in plan.kinds.names:
                    cell = _cross_cell(plan, nets, src, dst, network)
                    if cell is not None:
                        cells.append(cell)
    return sorted(cells, key=lambda c: c.flow)


def _carriers(plan: Plan, nets: list[HostNet], network: str, az: str) -> list[HostNet]:
    """The hosts of ``az`` holding an address of ``network``, end hosts first."""
    return [n for n in nets if plan.az_of(n.host) == az and own_address(n, network)]


def _l2(kind: str, src: HostNet, dst: HostNet, network: str, reach: bool) -> Flow:
    own, theirs = own_address(src, network), own_address(dst, network)
    assert own is not None and theirs is not None  # both are carriers of the network
    device = next(a.device for a in src.addresses if a.address == own)
    address, port = (theirs, 0) if kind == "arp" else (BROADCAST, PROBE_PORT)
    return Flow(
        kind,
        src.host,
        dst.host,
        network,
        address,
        port,
        "reach" if reach else "blocked",
        own if reach else None,
        l2=(device, own),
    )


def derive_l2_flows(plan: Plan, ends: list[HostNet], others: list[HostNet]) -> list[Flow]:
    """ARP and broadcast cells per platform network and AZ: answered and heard by a host of the
    sender's AZ (the control), by no host of another AZ. ``others`` (gateway hosts) serve as a
    control or a far end only where no end host carries the network."""
    flows = []
    azs = region_azs(plan)
    for network in plan.kinds.names:
        carriers = {az: _carriers(plan, ends + others, network, az) for az in azs}
        for az in azs:
            if not carriers[az] or not own_address(carriers[az][0], network):
                continue
            src, *rest = carriers[az]
            far = [carriers[b][0] for b in azs if b != az and carriers[b]]
            for kind in ("arp", "broadcast"):
                flows += [_l2(kind, src, rest[0], network, True)] if rest else []
                flows += [_l2(kind, src, dst, network, False) for dst in far]
    return sorted(flows)
