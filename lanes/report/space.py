"""The address space to scale: the platform's supernet, each network's zones and AZ blocks with
their host counts, and the outside networks in clusters of overlapping ranges."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from netaddr import IPNetwork, IPSet

from lanes.model.plan import PLATFORM_SPACE, NetworkPlan, Plan

__all__ = ["Span", "Bar", "OutsideGroup", "space_bar", "network_bars", "outside_groups"]

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


def space_bar(plan: Plan) -> Bar:
    """The platform's supernet (RFC 6598) with each network at its place."""
    spans = tuple(
        _span(n.name, n.cidr, PLATFORM_SPACE, "network")
        for n in sorted(plan.networks, key=lambda n: n.cidr.first)
    )
    return Bar("platform", str(PLATFORM_SPACE), PLATFORM_SPACE.size, (spans,), "RFC 6598")


def outside_groups(plan: Plan) -> tuple[OutsideGroup, ...]:
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


def network_bars(plan: Plan) -> tuple[Bar, ...]:
    """Each platform network as a bar: zones, then AZ blocks (with host counts) and reserved."""
    used = _used_per_block(plan)
    return tuple(_network_bar(n, used) for n in plan.networks)
