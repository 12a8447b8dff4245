"""Rules of the platform networks: boundaries, VLANs, AZs, zones and blocks, pins, reserved space."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from netaddr import IPNetwork

from lanes.config import StackConfig
from lanes.model.addressing import block_gateway, nth_subnet
from lanes.model.plan import (
    PLATFORM_SPACE,
    LinePlan,
    NetworkPlan,
    OutsidePlan,
    Plan,
    PlanError,
    ZonePlan,
    parse_cidr,
)
from lanes.rules.catalog import RuleId
from lanes.rules.core import VLAN_RANGE, Violation, find_overlaps

__all__ = [
    "check_boundaries",
    "check_vlans",
    "check_azs",
    "check_platform_space",
    "check_network_layout",
    "check_disjoint_networks",
    "check_pins",
    "check_prefix_boundaries",
    "iter_network_prefixes",
    "check_network_boundaries",
    "check_vlan_entries",
    "check_network_vlans",
    "check_management_zones",
    "list_reserved_space",
    "check_reserved_unused",
]


def _config_cidrs(cfg: StackConfig) -> Iterator[tuple[str, str]]:
    """(path, cidr) of every prefix written in the config."""
    for name, net in cfg.networks.items():
        base = f"networks.{name}"
        yield f"{base}.cidr", net.cidr
        yield from ((f"{base}.blocks.{az}", c) for az, c in net.blocks.items())
        yield from ((f"{base}.reserved_blocks[{j}]", c) for j, c in enumerate(net.reserved_blocks))
        for i, zone in enumerate(net.zones):
            zpath = f"{base}.zones[{i}]"
            if zone.cidr is not None:
                yield f"{zpath}.cidr", zone.cidr
            yield from ((f"{zpath}.blocks.{az}", c) for az, c in zone.blocks.items())
            yield from (
                (f"{zpath}.reserved_blocks[{j}]", c) for j, c in enumerate(zone.reserved_blocks)
            )
    for i, outside in enumerate(cfg.outside):
        yield f"outside[{i}].cidr", outside.cidr


def check_boundaries(cfg: StackConfig) -> list[Violation]:
    """Every CIDR sits on its own boundary: 100.64.111.0/20 is an error, never 100.64.96.0/20."""
    found = []
    for path, cidr in _config_cidrs(cfg):
        try:
            parse_cidr(cidr, path)
        except PlanError as exc:
            found.append(Violation(path, RuleId.CIDR_BOUNDARY, exc.message))
    return found


def check_vlans(cfg: StackConfig) -> list[Violation]:
    """VLAN ids are 1..4094 and no two networks share one."""
    vlans = [(f"networks.{name}.vlan", name, net.vlan) for name, net in cfg.networks.items()]
    vlans += [
        (f"outside[{i}].vlan", net.name, net.vlan)
        for i, net in enumerate(cfg.outside)
        if net.vlan is not None
    ]
    if cfg.line is not None and cfg.line.vlan is not None:
        vlans.append(("line.vlan", cfg.line.name, cfg.line.vlan))
    return check_vlan_entries(vlans)


def check_azs(cfg: StackConfig) -> list[Violation]:
    """AZ names are unique and the stack's AZ is one of them."""
    found = []
    seen: set[str] = set()
    for i, az in enumerate(cfg.azs):
        if az in seen:
            found.append(Violation(f"azs[{i}]", RuleId.AZ_LIST, f"{az} is listed twice"))
        seen.add(az)
    if cfg.az not in seen:
        found.append(Violation("az", RuleId.AZ_LIST, f"{cfg.az} is not one of azs {cfg.azs}"))
    return found


def check_platform_space(networks: Iterable[NetworkPlan]) -> list[Violation]:
    """Platform networks are inside 100.64.0.0/10 (RFC 6598)."""
    return [
        Violation(
            f"{net.path}.cidr", RuleId.PLATFORM_SPACE, f"{net.cidr} is not inside {PLATFORM_SPACE}"
        )
        for net in networks
        if net.cidr not in PLATFORM_SPACE
    ]


def _expected_blocks(zone: ZonePlan, azs: Iterable[str], block_prefix: int) -> dict[str, IPNetwork]:
    return {az: nth_subnet(zone.cidr, block_prefix, i) for i, az in enumerate(azs)}


def _check_zone(zone: ZonePlan, network: str, azs: tuple[str, ...]) -> list[Violation]:
    found = []
    for block in zone.blocks:
        if block.cidr not in zone.cidr:
            found.append(
                Violation(
                    block.path, RuleId.BLOCK_OUTSIDE_PARENT, f"{block.cidr} is outside {zone.cidr}"
                )
            )
        if block.gateway != block_gateway(block.cidr):
            found.append(
                Violation(
                    block.path,
                    RuleId.BLOCK_GATEWAY,
                    f"gateway {block.gateway} is not the first address of {block.cidr}",
                )
            )
    if zone.reserved or not zone.blocks:
        return found
    expected = _expected_blocks(zone, azs, zone.blocks[0].cidr.prefixlen)
    actual = {b.az: b.cidr for b in zone.blocks}
    if actual != expected:
        want = ", ".join(f"{az} {c}" for az, c in expected.items())
        have = ", ".join(f"{az} {c}" for az, c in actual.items())
        found.append(
            Violation(
                f"{zone.path}.blocks",
                RuleId.BLOCK_ORDER,
                f"blocks must be carved in AZ order ({want}); found {have}",
            )
        )
    items = [(b.cidr, b.path) for b in zone.blocks] + [
        (c, f"{zone.path}.reserved") for c in zone.reserved_blocks
    ]
    found += [
        Violation(later, RuleId.BLOCK_OVERLAP, f"overlaps {earlier}")
        for earlier, later in find_overlaps(items)
    ]
    return found


def check_network_layout(net: NetworkPlan, azs: tuple[str, ...]) -> list[Violation]:
    """Zones inside the network and disjoint; blocks inside their zone, disjoint, in AZ order."""
    found = []
    for zone in net.zones:
        if zone.cidr not in net.cidr:
            found.append(
                Violation(
                    zone.path, RuleId.ZONE_OUTSIDE_PARENT, f"{zone.cidr} is outside {net.cidr}"
                )
            )
        found += _check_zone(zone, net.name, azs)
    found += [
        Violation(later, RuleId.ZONE_OVERLAP, f"overlaps {earlier}")
        for earlier, later in find_overlaps((z.cidr, z.path) for z in net.zones)
    ]
    return found


def check_disjoint_networks(
    networks: Iterable[NetworkPlan], outside: Iterable[OutsidePlan]
) -> list[Violation]:
    """Platform networks overlap nothing; outside networks may overlap only each other."""
    items: list[tuple[IPNetwork, tuple[bool, str, IPNetwork]]] = [
        (n.cidr, (False, n.path, n.cidr)) for n in networks
    ]
    items += [(n.cidr, (True, n.path, n.cidr)) for n in outside]
    found = []
    for earlier, later in find_overlaps(items, tolerated=lambda item: item[0]):
        # Blame the outside network: the platform's own plan is what it collides with.
        blamed, other = (earlier, later) if earlier[0] else (later, earlier)
        found.append(
            Violation(
                f"{blamed[1]}.cidr",
                RuleId.NETWORK_OVERLAP,
                f"{blamed[2]} overlaps {other[1]} ({other[2]})",
            )
        )
    return found


def _pin_mismatch(
    path: str, pinned: str, actual: IPNetwork, parent: IPNetwork, what: str
) -> Violation | None:
    net = IPNetwork(pinned)
    if net == actual:
        return None
    if net not in parent:
        return Violation(
            path, RuleId.BLOCK_OUTSIDE_PARENT, f"{pinned} is outside its parent {parent}"
        )
    return Violation(
        path, RuleId.BLOCK_ORDER, f"{pinned} is not the {what}; the plan gives {actual}"
    )


def _check_zone_pins(
    path: str, blocks: dict[str, str], reserved: list[str], zone: ZonePlan
) -> list[Violation]:
    found = []
    for az, pinned in blocks.items():
        block = zone.block(az)
        if block is None:
            found.append(
                Violation(f"{path}.blocks.{az}", RuleId.BLOCK_ORDER, f"{az} gets no block here")
            )
            continue
        bad = _pin_mismatch(f"{path}.blocks.{az}", pinned, block.cidr, zone.cidr, f"{az} block")
        found += [bad] if bad else []
    if reserved and [IPNetwork(c) for c in reserved] != list(zone.reserved_blocks):
        leftover = ", ".join(str(c) for c in zone.reserved_blocks) or "nothing"
        for j, pinned in enumerate(reserved):
            if IPNetwork(pinned) not in zone.cidr:
                found.append(
                    Violation(
                        f"{path}.reserved_blocks[{j}]",
                        RuleId.BLOCK_OUTSIDE_PARENT,
                        f"{pinned} is outside its parent {zone.cidr}",
                    )
                )
                break
        else:
            found.append(
                Violation(
                    f"{path}.reserved_blocks",
                    RuleId.BLOCK_ORDER,
                    f"{', '.join(reserved)} is not what is left after the AZ blocks: {leftover}",
                )
            )
    return found


def check_pins(cfg: StackConfig, plan: Plan) -> list[Violation]:
    """CIDRs written out in the config (zones, blocks) are the ones the plan computes."""
    found = []
    for name, net in cfg.networks.items():
        network = plan.network(name)
        assert network is not None
        base = f"networks.{name}"
        if not net.zones:
            found += _check_zone_pins(base, net.blocks, net.reserved_blocks, network.zones[0])
        for i, zone in enumerate(net.zones):
            zplan = network.zones[i]
            zpath = f"{base}.zones[{i}]"
            if zone.cidr is not None and IPNetwork(zone.cidr) != zplan.cidr:
                rule = (
                    RuleId.ZONE_OUTSIDE_PARENT
                    if IPNetwork(zone.cidr) not in network.cidr
                    else RuleId.ZONE_ORDER
                )
                found.append(
                    Violation(
                        f"{zpath}.cidr",
                        rule,
                        f"{zone.cidr} is not zone {i + 1} of /{zplan.cidr.prefixlen} in "
                        f"{network.cidr}; the plan gives {zplan.cidr}",
                    )
                )
            found += _check_zone_pins(zpath, zone.blocks, zone.reserved_blocks, zplan)
    return found


def check_prefix_boundaries(prefixes: Iterable[tuple[str, str]]) -> list[Violation]:
    """Each ``(path, cidr)`` sits on its own boundary (the one test: ``parse_cidr``)."""
    found = []
    for path, cidr in prefixes:
        try:
            parse_cidr(cidr, path)
        except PlanError as exc:
            found.append(Violation(path, RuleId.CIDR_BOUNDARY, exc.message))
    return found


def iter_network_prefixes(net: NetworkPlan) -> Iterator[tuple[str, str]]:
    """(path, cidr) of every prefix of a network plan, host bits kept as they were written."""
    yield f"{net.path}.cidr", str(net.cidr)
    for zone in net.zones:
        if zone.name is not None:
            yield f"{zone.path}.cidr", str(zone.cidr)
        yield from ((b.path, str(b.cidr)) for b in zone.blocks)
        for j, c in enumerate(zone.reserved_blocks):
            yield f"{zone.path}.reserved_blocks[{j}]", str(c)
    yield from ((f"{net.path}.reserved[{j}]", str(c)) for j, c in enumerate(net.reserved))


def check_network_boundaries(net: NetworkPlan) -> list[Violation]:
    """Every prefix of a network plan sits on its own boundary."""
    return check_prefix_boundaries(iter_network_prefixes(net))


def check_vlan_entries(entries: Iterable[tuple[str, str, int]]) -> list[Violation]:
    """``(path, network, vlan)``: ids in 1..4094 and no id carried by two networks."""
    found = []
    owner: dict[int, str] = {}
    low, high = VLAN_RANGE
    for path, name, vlan in entries:
        if not low <= vlan <= high:
            found.append(Violation(path, RuleId.VLAN_RANGE, f"{vlan} is outside {low}..{high}"))
        elif vlan in owner:
            found.append(
                Violation(
                    path, RuleId.VLAN_DISTINCT, f"{vlan} is already the VLAN of {owner[vlan]}"
                )
            )
        else:
            owner[vlan] = name
    return found


def check_network_vlans(
    networks: Iterable[NetworkPlan],
    outside: Iterable[OutsidePlan] = (),
    line: LinePlan | None = None,
) -> list[Violation]:
    """VLAN ids of planned networks (the line's too: on a trunk it must never share one), as
    ``check_vlans`` judges the config's."""
    entries = [(f"{n.path}.vlan", n.name, n.vlan) for n in networks]
    entries += [(f"{n.path}.vlan", n.name, n.vlan) for n in outside if n.vlan is not None]
    if line is not None and line.vlan is not None:
        entries.append((f"{line.path}.vlan", line.name, line.vlan))
    return check_vlan_entries(entries)


_COUNTS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight")


def check_management_zones(net: NetworkPlan, wanted: tuple[str, ...]) -> list[Violation]:
    """A zoned network of a kind with fixed zones (``wanted``; management: seed 000's four) has
    them, in order, each an equal share of it, the last one reserved."""
    if not wanted or not net.zoned:
        return []
    found = []
    names = tuple(z.name or "-" for z in net.zones)
    share = (len(wanted) - 1).bit_length()
    if names != wanted:
        found.append(
            Violation(
                f"{net.path}.zones",
                RuleId.MANAGEMENT_ZONES,
                f"zones are {', '.join(names)}; a zoned {net.name} network has "
                f"{_COUNTS[len(wanted)]} zones, in this order: {', '.join(wanted)}",
            )
        )
    for zone in net.zones:
        last = zone.name == wanted[-1]
        if zone.reserved != last:
            state = "must be reserved" if last else "must not be reserved"
            found.append(
                Violation(
                    f"{zone.path}.reserved", RuleId.MANAGEMENT_ZONES, f"zone {zone.name} {state}"
                )
            )
        if zone.cidr.prefixlen != net.cidr.prefixlen + share:
            part = "a quarter" if share == 2 else f"1/{1 << share}"
            found.append(
                Violation(
                    f"{zone.path}.cidr",
                    RuleId.MANAGEMENT_ZONES,
                    f"zone {zone.name} {zone.cidr} is not {part} (/{net.cidr.prefixlen + share}) "
                    f"of {net.cidr}",
                )
            )
    return found


def list_reserved_space(net: NetworkPlan) -> list[tuple[IPNetwork, str]]:
    """(prefix, path) of what a network keeps back: reserved zones, blocks and leftovers."""
    found = [
        (c, f"{z.path}.reserved_blocks[{j}]")
        for z in net.zones
        for j, c in enumerate(z.reserved_blocks)
    ]
    return found + [(c, f"{net.path}.reserved[{j}]") for j, c in enumerate(net.reserved)]


def check_reserved_unused(
    net: NetworkPlan, used: Iterable[tuple[IPNetwork, str]] = ()
) -> list[Violation]:
    """Reserved zones hold no AZ block; no ``(prefix, path)`` in ``used`` lies in reserved space.

    One sorted sweep over the reserved prefixes and the used ones (O(n log n)); used prefixes
    may overlap each other here (a host address lies in its block), never reserved space.
    """
    found = [
        Violation(
            f"{zone.path}.blocks",
            RuleId.RESERVED_UNUSED,
            f"reserved zone {zone.name} {zone.cidr} holds AZ blocks "
            f"{', '.join(str(b.cidr) for b in zone.blocks)}; it must stay empty",
        )
        for zone in net.zones
        if zone.reserved and zone.blocks
    ]
    items = [(c, (False, path, c)) for c, path in list_reserved_space(net)]
    items += [(c, (True, path, c)) for c, path in used]
    for earlier, later in find_overlaps(items, tolerated=lambda item: item[0]):
        if earlier[0] == later[0]:
            continue  # two reserved prefixes: a layout fault, reported by check_network_layout
        user, reserved = (earlier, later) if earlier[0] else (later, earlier)
        found.append(
            Violation(
                user[1],
                RuleId.RESERVED_UNUSED,
                f"{user[2]} lies in {net.name} reserved space {reserved[2]} ({reserved[1]})",
            )
        )
    return found
