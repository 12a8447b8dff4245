"""Every invariant of the plan, as functions returning violations; used by the CLI and policy pack.

Config rules look at the stack config before anything is computed (boundaries, VLANs, NIC
layout, references). Plan rules look at a computed plan, or at one rebuilt from resource props
by the policy pack: containment, order, overlap, host addresses. Overlap checks sweep sorted
ranges once (O(n log n)), never compare all pairs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from netaddr import IPAddress, IPNetwork

from lanes.config import PLATFORM_NETWORKS, StackConfig
from lanes.config.host import Host
from lanes.plan import (
    PLATFORM_SPACE,
    HostAddress,
    HostPlan,
    NetworkPlan,
    OutsidePlan,
    Plan,
    PlanError,
    ZonePlan,
    parse_cidr,
    plan_region,
)

__all__ = [
    "Violation",
    "Report",
    "ordered",
    "find_overlaps",
    "check_boundaries",
    "check_vlans",
    "check_azs",
    "check_hosts",
    "check_nics",
    "check_gateway_refs",
    "check_config",
    "check_platform_space",
    "check_network_layout",
    "check_disjoint_networks",
    "check_pins",
    "check_host_addresses",
    "check_unique_addresses",
    "check_plan",
    "check",
    # rules the policy pack brought (issue 7)
    "MANAGEMENT_ZONES",
    "check_prefix_boundaries",
    "network_prefixes",
    "check_network_boundaries",
    "vlan_violations",
    "check_network_vlans",
    "check_management_zones",
    "reserved_space",
    "check_reserved_unused",
    "check_host_numbering",
    "check_host_blocks",
    "host_prefixes",
    "check_pack_rules",
]

VLAN_RANGE = (1, 4094)
# Only traffic and storage may share a NIC (brief: hosts); management stays on its own.
SHAREABLE = frozenset({"traffic", "storage"})
IFNAMSIZ = 15

T = TypeVar("T")


@dataclass(frozen=True)
class Violation:
    """A broken rule: which rule, where in the config, and what is wrong with which value."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.rule}]"


def _path_key(violation: Violation) -> list[tuple[int, str]]:
    # hosts[2] before hosts[10]; within one path, the order the rules found them.
    return [(int(p), "") if p.isdigit() else (0, p) for p in re.split(r"(\d+)", violation.path)]


def ordered(violations: Iterable[Violation]) -> list[Violation]:
    """Violations without duplicates, by config path in natural order (a stable sort)."""
    return sorted(dict.fromkeys(violations), key=_path_key)


@dataclass(frozen=True)
class Report:
    """The outcome of ``check``: the plan (None when it could not be computed) and violations."""

    plan: Plan | None
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class _Range(Generic[T]):
    first: int
    last: int
    item: T


def find_overlaps(
    items: Iterable[tuple[IPNetwork, T]], tolerated: Callable[[T], bool] = lambda _: False
) -> list[tuple[T, T]]:
    """Overlapping (earlier, later) pairs in one sorted sweep, O(n log n).

    Each item that overlaps anything before it is reported once, against the earlier item
    reaching furthest. Two ``tolerated`` items may overlap each other (outside networks such
    as two tenant VPCs both on 192.168.0.0/24), but never anything else.
    """
    ranges = sorted(
        (_Range(net.first, net.last, item) for net, item in items),
        key=lambda r: (r.first, -r.last),
    )
    found: list[tuple[T, T]] = []
    reach_any: _Range[T] | None = None
    reach_strict: _Range[T] | None = None
    for current in ranges:
        loose = tolerated(current.item)
        other = reach_strict if loose else reach_any
        if other is not None and current.first <= other.last:
            found.append((other.item, current.item))
        if reach_any is None or current.last > reach_any.last:
            reach_any = current
        if not loose and (reach_strict is None or current.last > reach_strict.last):
            reach_strict = current
    return found


# --- config rules -------------------------------------------------------------------------


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
    for i, net in enumerate(cfg.outside):
        yield f"outside[{i}].cidr", net.cidr


def check_boundaries(cfg: StackConfig) -> list[Violation]:
    """Every CIDR sits on its own boundary: 100.64.111.0/20 is an error, never 100.64.96.0/20."""
    found = []
    for path, cidr in _config_cidrs(cfg):
        try:
            parse_cidr(cidr, path)
        except PlanError as exc:
            found.append(Violation(path, "cidr-boundary", exc.message))
    return found


def check_vlans(cfg: StackConfig) -> list[Violation]:
    """VLAN ids are 1..4094 and no two networks share one."""
    vlans = [(f"networks.{name}.vlan", name, net.vlan) for name, net in cfg.networks.items()]
    vlans += [
        (f"outside[{i}].vlan", net.name, net.vlan)
        for i, net in enumerate(cfg.outside)
        if net.vlan is not None
    ]
    return vlan_violations(vlans)


def check_azs(cfg: StackConfig) -> list[Violation]:
    """AZ names are unique and the stack's AZ is one of them."""
    found = []
    seen: set[str] = set()
    for i, az in enumerate(cfg.azs):
        if az in seen:
            found.append(Violation(f"azs[{i}]", "az-list", f"{az} is listed twice"))
        seen.add(az)
    if cfg.az not in seen:
        found.append(Violation("az", "az-list", f"{cfg.az} is not one of azs {cfg.azs}"))
    return found


def _network_names(cfg: StackConfig) -> tuple[set[str], dict[str, str]]:
    outside = {net.name: net.cidr for net in cfg.outside}
    return set(PLATFORM_NETWORKS), outside


def check_hosts(cfg: StackConfig) -> list[Violation]:
    """Host names unique, numbers unique per AZ, AZ, zones and outside addresses consistent."""
    found = []
    platform, outside = _network_names(cfg)
    zones = {z.name: z.reserved for z in cfg.networks.management.zones}
    names: dict[str, int] = {}
    numbers: dict[tuple[str, int], str] = {}
    for i, host in enumerate(cfg.hosts):
        path = f"hosts[{i}]"
        if host.name in names:
            found.append(
                Violation(f"{path}.name", "host-unique", f"{host.name} is also hosts[{names[host.name]}]")
            )
        names.setdefault(host.name, i)
        key = (host.az, host.number)
        if key in numbers:
            found.append(
                Violation(
                    f"{path}.number",
                    "host-number-unique",
                    f"{host.number} is already the number of {numbers[key]} in {host.az}",
                )
            )
        numbers.setdefault(key, host.name)
        if host.az not in cfg.azs:
            found.append(Violation(f"{path}.az", "host-az", f"{host.az} is not one of azs {cfg.azs}"))
        for j, zone in enumerate(host.zones or []):
            if zone not in zones:
                found.append(
                    Violation(f"{path}.zones[{j}]", "host-zone", f"{zone} is not a management zone")
                )
            elif zones[zone]:
                found.append(
                    Violation(f"{path}.zones[{j}]", "host-zone", f"{zone} is a reserved zone")
                )
        attached = {net for nic in host.nics for net in nic.networks}
        for net in sorted(host.outside):
            if net not in outside:
                found.append(
                    Violation(f"{path}.outside.{net}", "host-network", f"{net} is not an outside network")
                )
            elif net not in attached:
                found.append(
                    Violation(
                        f"{path}.outside.{net}", "host-network", f"no NIC of {host.name} carries {net}"
                    )
                )
        for net in sorted((attached & outside.keys()) - host.outside.keys()):
            found.append(
                Violation(
                    f"{path}.outside",
                    "host-network",
                    f"{host.name} carries {net} but has no address in it",
                )
            )
    return found


def _check_host_nics(host: Host, path: str, cfg: StackConfig) -> list[Violation]:
    platform, outside = _network_names(cfg)
    vlans = {name: net.vlan for name, net in cfg.networks.items()}
    vlans |= {net.name: net.vlan for net in cfg.outside}
    found = []
    carried: dict[str, str] = {}
    devices: dict[str, str] = {}
    for j, nic in enumerate(host.nics):
        npath = f"{path}.nics[{j}]"
        where = f"{host.name} {nic.name}"
        for dev in [nic.name] + (nic.bond.members if nic.bond else []):
            if dev in devices:
                found.append(
                    Violation(npath, "nic-layout", f"{where}: {dev} is already used by {devices[dev]}")
                )
            devices.setdefault(dev, nic.name)
        if nic.bond is not None:
            if len(nic.bond.members) < 2:
                found.append(
                    Violation(
                        f"{npath}.bond.members",
                        "bond-members",
                        f"{where}: an active-backup bond needs at least 2 members, has "
                        f"{len(nic.bond.members)}",
                    )
                )
            if nic.bond.primary is not None and nic.bond.primary not in nic.bond.members:
                found.append(
                    Violation(
                        f"{npath}.bond.primary",
                        "bond-members",
                        f"{where}: primary {nic.bond.primary} is not a member",
                    )
                )
        nets = nic.networks
        on_nic = set(nets) & platform
        if {"management", "traffic", "storage"} <= on_nic:
            found.append(
                Violation(
                    f"{npath}.networks",
                    "nic-three-networks",
                    f"{where} carries management, traffic and storage: "
                    "all three networks on one NIC is never allowed",
                )
            )
        elif len(on_nic) > 1 and not on_nic <= SHAREABLE:
            found.append(
                Violation(
                    f"{npath}.networks",
                    "nic-shared",
                    f"{where} carries {', '.join(sorted(on_nic))}: only traffic and storage "
                    "may share a NIC",
                )
            )
        if not nic.tagged and len(nets) > 1:
            found.append(
                Violation(
                    f"{npath}.networks",
                    "nic-layout",
                    f"{where} is untagged but carries {len(nets)} networks",
                )
            )
        for k, net in enumerate(nets):
            if net not in platform and net not in outside:
                found.append(
                    Violation(f"{npath}.networks[{k}]", "host-network", f"{net} is not a network")
                )
                continue
            if net in carried:
                found.append(
                    Violation(
                        f"{npath}.networks[{k}]",
                        "nic-layout",
                        f"{where}: {net} is already carried by {carried[net]}",
                    )
                )
            carried.setdefault(net, nic.name)
            vlan = vlans.get(net)
            if nic.tagged and vlan is not None and len(f"{nic.name}.{vlan}") > IFNAMSIZ:
                found.append(
                    Violation(
                        f"{npath}.name",
                        "nic-layout",
                        f"{where}: VLAN interface {nic.name}.{vlan} is longer than "
                        f"{IFNAMSIZ} characters",
                    )
                )
    return found


def check_nics(cfg: StackConfig) -> list[Violation]:
    """NIC layouts: bonds of 2+, one NIC per network, never three networks on one NIC."""
    return [v for i, host in enumerate(cfg.hosts) for v in _check_host_nics(host, f"hosts[{i}]", cfg)]


def check_gateway_refs(cfg: StackConfig) -> list[Violation]:
    """Gateways name hosts and networks that exist, with the role they need."""
    found = []
    hosts = {h.name: h for h in cfg.hosts}
    platform, outside = _network_names(cfg)
    names: set[str] = set()
    for i, gw in enumerate(cfg.gateways):
        path = f"gateways[{i}]"
        if gw.name in names:
            found.append(Violation(f"{path}.name", "gateway-ref", f"{gw.name} is listed twice"))
        names.add(gw.name)
        host = hosts.get(gw.host)
        if host is None:
            found.append(Violation(f"{path}.host", "gateway-ref", f"{gw.host} is not a host"))
        elif host.role != "gateway":
            found.append(
                Violation(f"{path}.host", "gateway-ref", f"{gw.host} has role {host.role}, not gateway")
            )
        for j, egress in enumerate(gw.egress):
            for k, net in enumerate(egress.networks):
                if net not in platform:
                    found.append(
                        Violation(
                            f"{path}.egress[{j}].networks[{k}]",
                            "gateway-ref",
                            f"{net} is not a platform network",
                        )
                    )
            if egress.outside not in outside:
                found.append(
                    Violation(
                        f"{path}.egress[{j}].outside", "gateway-ref", f"{egress.outside} is not an outside network"
                    )
                )
        for j, mapping in enumerate(gw.mappings):
            if mapping.host not in hosts:
                found.append(
                    Violation(f"{path}.mappings[{j}].host", "gateway-ref", f"{mapping.host} is not a host")
                )
        for j, route in enumerate(gw.ingress):
            node = hosts.get(route.node)
            if node is None:
                found.append(
                    Violation(f"{path}.ingress[{j}].node", "gateway-ref", f"{route.node} is not a host")
                )
            elif node.role != "ingress":
                found.append(
                    Violation(
                        f"{path}.ingress[{j}].node",
                        "gateway-ref",
                        f"{route.node} has role {node.role}, not ingress",
                    )
                )
    return found


def check_config(cfg: StackConfig) -> list[Violation]:
    """Rules over the config alone; the planner needs none of these to be broken."""
    return ordered(
        check_boundaries(cfg)
        + check_vlans(cfg)
        + check_azs(cfg)
        + check_hosts(cfg)
        + check_nics(cfg)
        + check_gateway_refs(cfg)
    )


# --- plan rules ---------------------------------------------------------------------------


def check_platform_space(networks: Iterable[NetworkPlan]) -> list[Violation]:
    """Platform networks are inside 100.64.0.0/10 (RFC 6598)."""
    return [
        Violation(f"{net.path}.cidr", "platform-space", f"{net.cidr} is not inside {PLATFORM_SPACE}")
        for net in networks
        if net.cidr not in PLATFORM_SPACE
    ]


def _expected_blocks(zone: ZonePlan, azs: Iterable[str], block_prefix: int) -> dict[str, IPNetwork]:
    size = 1 << (32 - block_prefix)
    return {
        az: IPNetwork(f"{IPAddress(zone.cidr.first + i * size)}/{block_prefix}")
        for i, az in enumerate(azs)
    }


def _check_zone(zone: ZonePlan, network: str, azs: tuple[str, ...]) -> list[Violation]:
    found = []
    for block in zone.blocks:
        if block.cidr not in zone.cidr:
            found.append(
                Violation(block.path, "block-outside-parent", f"{block.cidr} is outside {zone.cidr}")
            )
        if block.gateway != IPAddress(block.cidr.first + 1):
            found.append(
                Violation(
                    block.path, "block-gateway", f"gateway {block.gateway} is not the first address of {block.cidr}"
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
                "block-order",
                f"blocks must be carved in AZ order ({want}); found {have}",
            )
        )
    items = [(b.cidr, b.path) for b in zone.blocks] + [(c, f"{zone.path}.reserved") for c in zone.reserved_blocks]
    found += [
        Violation(later, "block-overlap", f"overlaps {earlier}")
        for earlier, later in find_overlaps(items)
    ]
    return found


def check_network_layout(net: NetworkPlan, azs: tuple[str, ...]) -> list[Violation]:
    """Zones inside the network and disjoint; blocks inside their zone, disjoint, in AZ order."""
    found = []
    for zone in net.zones:
        if zone.cidr not in net.cidr:
            found.append(
                Violation(zone.path, "zone-outside-parent", f"{zone.cidr} is outside {net.cidr}")
            )
        found += _check_zone(zone, net.name, azs)
    found += [
        Violation(later, "zone-overlap", f"overlaps {earlier}")
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
                f"{blamed[1]}.cidr", "network-overlap", f"{blamed[2]} overlaps {other[1]} ({other[2]})"
            )
        )
    return found


def _pin_mismatch(path: str, pinned: str, actual: IPNetwork, parent: IPNetwork, what: str) -> Violation | None:
    net = IPNetwork(pinned)
    if net == actual:
        return None
    if net not in parent:
        return Violation(path, "block-outside-parent", f"{pinned} is outside its parent {parent}")
    return Violation(path, "block-order", f"{pinned} is not the {what}; the plan gives {actual}")


def _check_zone_pins(
    path: str, blocks: dict[str, str], reserved: list[str], zone: ZonePlan
) -> list[Violation]:
    found = []
    for az, pinned in blocks.items():
        block = zone.block(az)
        if block is None:
            found.append(Violation(f"{path}.blocks.{az}", "block-order", f"{az} gets no block here"))
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
                        "block-outside-parent",
                        f"{pinned} is outside its parent {zone.cidr}",
                    )
                )
                break
        else:
            found.append(
                Violation(
                    f"{path}.reserved_blocks",
                    "block-order",
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
                rule = "zone-outside-parent" if IPNetwork(zone.cidr) not in network.cidr else "zone-order"
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


def check_host_addresses(host: HostPlan) -> list[Violation]:
    """Each address is a usable address of its AZ block (the gateway's .1 only for gateways)."""
    found = []
    for entry in host.addresses:
        if entry.zone is None and entry.network not in PLATFORM_NETWORKS:
            if entry.address not in entry.block:
                found.append(
                    Violation(
                        f"{host.path}.outside.{entry.network}",
                        "host-in-block",
                        f"{entry.address} is outside {entry.network} {entry.block}",
                    )
                )
            continue
        where = f"{entry.network}" + (f"/{entry.zone}" if entry.zone else "")
        path = f"{host.path}.number"
        if entry.address not in entry.block or entry.address in (
            IPAddress(entry.block.first), IPAddress(entry.block.last)
        ):
            found.append(
                Violation(
                    path,
                    "host-in-block",
                    f"{host.number} gives {host.name} {entry.address} in {where}, which is not a "
                    f"usable address of its {host.az} block {entry.block}",
                )
            )
        elif entry.address == entry.gateway and host.role != "gateway":
            found.append(
                Violation(
                    path,
                    "host-in-block",
                    f"{host.number} gives {host.name} {entry.address}, the {where} gateway of "
                    f"{entry.block}; only a gateway host may hold it",
                )
            )
    return found


def check_unique_addresses(hosts: Iterable[HostPlan]) -> list[Violation]:
    """No address is held twice (outside networks may reuse each other's addresses)."""
    owner: dict[tuple[str, IPAddress], str] = {}
    found = []
    for host in hosts:
        for entry in host.addresses:
            scope = "platform" if entry.network in PLATFORM_NETWORKS else entry.network
            key = (scope, entry.address)
            if key in owner and owner[key] != host.name:
                found.append(
                    Violation(
                        host.path,
                        "address-unique",
                        f"{host.name} {entry.network} address {entry.address} is also held by "
                        f"{owner[key]}",
                    )
                )
            owner.setdefault(key, host.name)
    return found


def check_plan(plan: Plan) -> list[Violation]:
    """Rules over a computed plan."""
    found = check_platform_space(plan.networks) + check_disjoint_networks(plan.networks, plan.outside)
    for net in plan.networks:
        found += check_network_layout(net, plan.azs)
    for host in plan.hosts:
        found += check_host_addresses(host)
    found += check_unique_addresses(plan.hosts)
    found += check_pack_rules(plan)
    return ordered(found)


def check(cfg: StackConfig) -> Report:
    """Config rules, then the plan and the plan rules: every violation, sorted by path."""
    violations = check_config(cfg)
    if any(v.rule == "cidr-boundary" for v in violations):
        return Report(None, tuple(violations))  # planning would have to mask them
    try:
        plan = plan_region(cfg)
    except PlanError as exc:
        return Report(None, tuple(ordered([*violations, Violation(exc.path, "plan-layout", exc.message)])))
    return Report(plan, tuple(ordered(violations + check_plan(plan) + check_pins(cfg, plan))))



# --- rules the policy pack brought (issue 7) ----------------------------------------------
# Rules a props-rebuilt plan can break but the planner never does on its own; check_plan runs
# them too, so the CLI and the pack give one verdict from one implementation.

# Seed 000's management zones, in order; the last holds no AZ block.
MANAGEMENT_ZONES: tuple[str, ...] = (
    "cloud-management", "k8s-nodes", "enterprise-mapping", "reserved"
)


def check_prefix_boundaries(prefixes: Iterable[tuple[str, str]]) -> list[Violation]:
    """Each ``(path, cidr)`` sits on its own boundary (the one test: ``parse_cidr``)."""
    found = []
    for path, cidr in prefixes:
        try:
            parse_cidr(cidr, path)
        except PlanError as exc:
            found.append(Violation(path, "cidr-boundary", exc.message))
    return found


def network_prefixes(net: NetworkPlan) -> Iterator[tuple[str, str]]:
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
    return check_prefix_boundaries(network_prefixes(net))


def vlan_violations(entries: Iterable[tuple[str, str, int]]) -> list[Violation]:
    """``(path, network, vlan)``: ids in 1..4094 and no id carried by two networks."""
    found = []
    owner: dict[int, str] = {}
    low, high = VLAN_RANGE
    for path, name, vlan in entries:
        if not low <= vlan <= high:
            found.append(Violation(path, "vlan-range", f"{vlan} is outside {low}..{high}"))
        elif vlan in owner:
            found.append(
                Violation(path, "vlan-distinct", f"{vlan} is already the VLAN of {owner[vlan]}")
            )
        else:
            owner[vlan] = name
    return found


def check_network_vlans(
    networks: Iterable[NetworkPlan], outside: Iterable[OutsidePlan] = ()
) -> list[Violation]:
    """VLAN ids of planned networks, as ``check_vlans`` judges the config's."""
    entries = [(f"{n.path}.vlan", n.name, n.vlan) for n in networks]
    entries += [(f"{n.path}.vlan", n.name, n.vlan) for n in outside if n.vlan is not None]
    return vlan_violations(entries)


def check_management_zones(net: NetworkPlan) -> list[Violation]:
    """A zoned management network has seed 000's four zones, in order, each a quarter of it."""
    if net.name != "management" or not net.zoned:
        return []
    found = []
    names = tuple(z.name or "-" for z in net.zones)
    if names != MANAGEMENT_ZONES:
        found.append(
            Violation(
                f"{net.path}.zones",
                "management-zones",
                f"zones are {', '.join(names)}; a zoned management network has four zones, "
                f"in this order: {', '.join(MANAGEMENT_ZONES)}",
            )
        )
    for zone in net.zones:
        last = zone.name == MANAGEMENT_ZONES[-1]
        if zone.reserved != last:
            state = "must be reserved" if last else "must not be reserved"
            found.append(
                Violation(f"{zone.path}.reserved", "management-zones", f"zone {zone.name} {state}")
            )
        if zone.cidr.prefixlen != net.cidr.prefixlen + 2:
            found.append(
                Violation(
                    f"{zone.path}.cidr",
                    "management-zones",
                    f"zone {zone.name} {zone.cidr} is not a quarter (/{net.cidr.prefixlen + 2}) "
                    f"of {net.cidr}",
                )
            )
    return found


def reserved_space(net: NetworkPlan) -> list[tuple[IPNetwork, str]]:
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
            "reserved-unused",
            f"reserved zone {zone.name} {zone.cidr} holds AZ blocks "
            f"{', '.join(str(b.cidr) for b in zone.blocks)}; it must stay empty",
        )
        for zone in net.zones
        if zone.reserved and zone.blocks
    ]
    items = [(c, (False, path, c)) for c, path in reserved_space(net)]
    items += [(c, (True, path, c)) for c, path in used]
    for earlier, later in find_overlaps(items, tolerated=lambda item: item[0]):
        if earlier[0] == later[0]:
            continue  # two reserved prefixes: a layout fault, reported by check_network_layout
        user, reserved = (earlier, later) if earlier[0] else (later, earlier)
        found.append(
            Violation(
                user[1],
                "reserved-unused",
                f"{user[2]} lies in {net.name} reserved space {reserved[2]} ({reserved[1]})",
            )
        )
    return found


def _platform_entries(host: HostPlan) -> Iterator[HostAddress]:
    return (e for e in host.addresses if e.network in PLATFORM_NETWORKS)


def check_host_numbering(host: HostPlan) -> list[Violation]:
    """A host holds its own number in every platform network: block first address + number."""
    found = []
    for entry in _platform_entries(host):
        expected = IPAddress(entry.block.first + host.number)
        if entry.address != expected:
            where = entry.network + (f"/{entry.zone}" if entry.zone else "")
            found.append(
                Violation(
                    f"{host.path}.number",
                    "host-number-same",
                    f"{host.name} holds {entry.address} in {where}, not {expected}: "
                    f"a host keeps its number {host.number} in every network",
                )
            )
    return found


def check_host_blocks(host: HostPlan, networks: Iterable[NetworkPlan]) -> list[Violation]:
    """Each platform address names the block the network plan gives the host's AZ and zone."""
    plans = {n.name: n for n in networks}
    found = []
    for entry in _platform_entries(host):
        net = plans.get(entry.network)
        zone = net.zone(entry.zone) if net else None
        block = zone.block(host.az) if zone else None
        if block is None or block.cidr != entry.block:
            where = entry.network + (f"/{entry.zone}" if entry.zone else "")
            want = f"its {host.az} block {block.cidr}" if block else f"no {host.az} block"
            found.append(
                Violation(
                    f"{host.path}.az",
                    "host-in-block",
                    f"{host.name} {entry.address} is placed in {entry.block}, "
                    f"but {where} has {want}",
                )
            )
    return found


def host_prefixes(hosts: Iterable[HostPlan]) -> list[tuple[IPNetwork, str]]:
    """(address/32, path) of every platform address of ``hosts``, for reserved-space sweeps."""
    return [
        (IPNetwork(f"{e.address}/32"), f"{h.path}.number")
        for h in hosts
        for e in _platform_entries(h)
    ]


def check_pack_rules(plan: Plan) -> list[Violation]:
    """This section's rules over a computed plan (check_plan runs them)."""
    found = check_network_vlans(plan.networks, plan.outside)
    used = host_prefixes(plan.hosts)
    for net in plan.networks:
        found += check_network_boundaries(net) + check_management_zones(net)
        found += check_reserved_unused(net, [u for u in used if u[0] in net.cidr])
    for host in plan.hosts:
        found += check_host_numbering(host) + check_host_blocks(host, plan.networks)
    return found
