"""Every invariant of the plan, as functions returning violations; used by the CLI and policy pack.

Config rules look at the stack config before anything is computed (boundaries, VLANs, NIC
layout, references). Plan rules look at a computed plan, or at one rebuilt from resource props
by the policy pack: containment, order, overlap, host addresses. Overlap checks sweep sorted
ranges once (O(n log n)), never compare all pairs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from netaddr import IPAddress, IPNetwork

from lanes.config import PLATFORM_NETWORKS, Grant, StackConfig
from lanes.config.gateway import Gateway
from lanes.config.host import Host
from lanes.gateway import GatewayModel, MapEntry, derive_gateways, nat_maps
from lanes.hostnet import HostNet, Link
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
    "check_gateway_addresses",
    "check_gateway_listeners",
    "check_gateway_model",
    "check_gateways",
    "check_config",
    "check_platform_space",
    "check_network_layout",
    "check_disjoint_networks",
    "check_pins",
    "check_host_addresses",
    "check_unique_addresses",
    "check_unique_holdings",
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
    "check_nic_sharing",
    "check_host_links",
    "check_kubelet_zone",
    "check_kubelet_node_ip",
    "check_pinned_host_keys",
    "check_tenant_default_deny",
    "check_autodetect",
    "check_pools_disjoint",
    # host network rules (issue 3)
    "check_host_networks",
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
                Violation(
                    f"{path}.name", "host-unique", f"{host.name} is also hosts[{names[host.name]}]"
                )
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
            found.append(
                Violation(f"{path}.az", "host-az", f"{host.az} is not one of azs {cfg.azs}")
            )
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
                    Violation(
                        f"{path}.outside.{net}", "host-network", f"{net} is not an outside network"
                    )
                )
            elif net not in attached:
                found.append(
                    Violation(
                        f"{path}.outside.{net}",
                        "host-network",
                        f"no NIC of {host.name} carries {net}",
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


def _network_vlans(cfg: StackConfig) -> dict[str, int | None]:
    """network name -> VLAN id, platform and outside networks alike (None: untagged only)."""
    vlans: dict[str, int | None] = {name: net.vlan for name, net in cfg.networks.items()}
    return vlans | {net.name: net.vlan for net in cfg.outside}


def _check_host_nics(host: Host, path: str, cfg: StackConfig) -> list[Violation]:
    platform, outside = _network_names(cfg)
    vlans = _network_vlans(cfg)
    found = []
    carried: dict[str, str] = {}
    devices: dict[str, str] = {}
    for j, nic in enumerate(host.nics):
        npath = f"{path}.nics[{j}]"
        where = f"{host.name} {nic.name}"
        for dev in [nic.name] + (nic.bond.members if nic.bond else []):
            if dev in devices:
                found.append(
                    Violation(
                        npath, "nic-layout", f"{where}: {dev} is already used by {devices[dev]}"
                    )
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
        found += check_nic_sharing(npath, where, nets)
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
    return [
        v for i, host in enumerate(cfg.hosts) for v in _check_host_nics(host, f"hosts[{i}]", cfg)
    ]


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
                Violation(
                    f"{path}.host", "gateway-ref", f"{gw.host} has role {host.role}, not gateway"
                )
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
                        f"{path}.egress[{j}].outside",
                        "gateway-ref",
                        f"{egress.outside} is not an outside network",
                    )
                )
        for j, mapping in enumerate(gw.mappings):
            if mapping.host not in hosts:
                found.append(
                    Violation(
                        f"{path}.mappings[{j}].host", "gateway-ref", f"{mapping.host} is not a host"
                    )
                )
        for j, route in enumerate(gw.ingress):
            node = hosts.get(route.node)
            if node is None:
                found.append(
                    Violation(
                        f"{path}.ingress[{j}].node", "gateway-ref", f"{route.node} is not a host"
                    )
                )
            elif node.role != "ingress":
                found.append(
                    Violation(
                        f"{path}.ingress[{j}].node",
                        "gateway-ref",
                        f"{route.node} has role {node.role}, not ingress",
                    )
                )
        found += _check_gateway_networks(gw, path, platform, set(outside))
    found += _check_gateway_hosts(cfg)
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
        + check_host_networks(cfg)
        + check_cluster_config(cfg)
    )


# --- plan rules ---------------------------------------------------------------------------


def check_platform_space(networks: Iterable[NetworkPlan]) -> list[Violation]:
    """Platform networks are inside 100.64.0.0/10 (RFC 6598)."""
    return [
        Violation(
            f"{net.path}.cidr", "platform-space", f"{net.cidr} is not inside {PLATFORM_SPACE}"
        )
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
                Violation(
                    block.path, "block-outside-parent", f"{block.cidr} is outside {zone.cidr}"
                )
            )
        if block.gateway != IPAddress(block.cidr.first + 1):
            found.append(
                Violation(
                    block.path,
                    "block-gateway",
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
                "block-order",
                f"blocks must be carved in AZ order ({want}); found {have}",
            )
        )
    items = [(b.cidr, b.path) for b in zone.blocks] + [
        (c, f"{zone.path}.reserved") for c in zone.reserved_blocks
    ]
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
                f"{blamed[1]}.cidr",
                "network-overlap",
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
        return Violation(path, "block-outside-parent", f"{pinned} is outside its parent {parent}")
    return Violation(path, "block-order", f"{pinned} is not the {what}; the plan gives {actual}")


def _check_zone_pins(
    path: str, blocks: dict[str, str], reserved: list[str], zone: ZonePlan
) -> list[Violation]:
    found = []
    for az, pinned in blocks.items():
        block = zone.block(az)
        if block is None:
            found.append(
                Violation(f"{path}.blocks.{az}", "block-order", f"{az} gets no block here")
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
                rule = (
                    "zone-outside-parent"
                    if IPNetwork(zone.cidr) not in network.cidr
                    else "zone-order"
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
            IPAddress(entry.block.first),
            IPAddress(entry.block.last),
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


def check_unique_holdings(holdings: Iterable[tuple[str, str, str, str]]) -> list[Violation]:
    """No address is held twice; ``holdings`` are (path, host, network, address) in host order.

    Outside networks may reuse each other's addresses (two tenant VPCs on 192.168.0.0/24).
    """
    owner: dict[tuple[str, str], str] = {}
    found = []
    for path, host, network, address in holdings:
        scope = "platform" if network in PLATFORM_NETWORKS else network
        key = (scope, address)
        if key in owner and owner[key] != host:
            found.append(
                Violation(
                    path,
                    "address-unique",
                    f"{host} {network} address {address} is also held by {owner[key]}",
                )
            )
        owner.setdefault(key, host)
    return found


def check_unique_addresses(hosts: Iterable[HostPlan]) -> list[Violation]:
    """No address is held twice by the plan's hosts (see check_unique_holdings)."""
    return check_unique_holdings(
        (host.path, host.name, entry.network, str(entry.address))
        for host in hosts
        for entry in host.addresses
    )


def check_plan(plan: Plan) -> list[Violation]:
    """Rules over a computed plan."""
    found = check_platform_space(plan.networks) + check_disjoint_networks(
        plan.networks, plan.outside
    )
    for net in plan.networks:
        found += check_network_layout(net, plan.azs)
    for host in plan.hosts:
        found += check_host_addresses(host)
    found += check_unique_addresses(plan.hosts)
    found += check_pack_rules(plan)
    found += check_cluster_plan(plan)
    return ordered(found)


def check(cfg: StackConfig) -> Report:
    """Config rules, then the plan and the plan rules: every violation, sorted by path."""
    violations = check_config(cfg)
    if any(v.rule == "cidr-boundary" for v in violations):
        return Report(None, tuple(violations))  # planning would have to mask them
    try:
        plan = plan_region(cfg)
    except PlanError as exc:
        return Report(
            None, tuple(ordered([*violations, Violation(exc.path, "plan-layout", exc.message)]))
        )
    found = violations + check_plan(plan) + check_pins(cfg, plan) + check_gateways(plan)
    return Report(plan, tuple(ordered(found)))


# --- rules the policy pack brought (issue 7) ----------------------------------------------
# Rules a props-rebuilt plan can break but the planner never does on its own; check_plan runs
# them too, so the CLI and the pack give one verdict from one implementation.

# Seed 000's management zones, in order; the last holds no AZ block.
MANAGEMENT_ZONES: tuple[str, ...] = (
    "cloud-management",
    "k8s-nodes",
    "enterprise-mapping",
    "reserved",
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
                    "host-az-block",
                    f"{host.name} {entry.address} is placed in {entry.block}, "
                    f"but {where} has {want}",
                )
            )
    return found


def host_prefixes(hosts: Iterable[HostPlan]) -> list[tuple[IPNetwork, str]]:
    """(address/32, path) of every platform address of ``hosts``, for reserved-space sweeps."""
    return [
        (IPNetwork((int(e.address), 32)), f"{h.path}.number")
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
        found += check_kubelet_zone(host)
    return found


def check_nic_sharing(npath: str, where: str, networks: Iterable[str]) -> list[Violation]:
    """Never management, traffic and storage on one NIC; only traffic and storage share one."""
    on_nic = set(networks) & set(PLATFORM_NETWORKS)
    if {"management", "traffic", "storage"} <= on_nic:
        return [
            Violation(
                f"{npath}.networks",
                "nic-three-networks",
                f"{where} carries management, traffic and storage: "
                "all three networks on one NIC is never allowed",
            )
        ]
    if len(on_nic) > 1 and not on_nic <= SHAREABLE:
        return [
            Violation(
                f"{npath}.networks",
                "nic-shared",
                f"{where} carries {', '.join(sorted(on_nic))}: only traffic and storage "
                "may share a NIC",
            )
        ]
    return []


def _nic_devices(net: HostNet) -> list[tuple[int, Link, list[Link]]]:
    """(NIC index, the NIC or bond, its VLAN interfaces), in the host's NIC order."""
    tops = [link for link in net.links if link.kind != "vlan" and link.bond is None]
    return [
        (j, top, [v for v in net.links if v.kind == "vlan" and v.parent == top.name])
        for j, top in enumerate(tops)
    ]


def check_host_links(net: HostNet, path: str) -> list[Violation]:
    """A host's devices as rendered: NIC sharing, VLAN ids in 1..4094 and distinct per NIC."""
    found = []
    low, high = VLAN_RANGE
    for j, top, vlans in _nic_devices(net):
        npath, where = f"{path}.nics[{j}]", f"{net.host} {top.name}"
        found += check_nic_sharing(
            npath, where, [*top.networks, *(n for v in vlans for n in v.networks)]
        )
        owner: dict[int, str] = {}
        for link in vlans:
            name = link.networks[0] if link.networks else link.name
            if link.vlan is None or not low <= link.vlan <= high:
                found.append(
                    Violation(
                        f"{npath}.networks",
                        "nic-vlan-range",
                        f"{where}: {link.name} carries {name} on VLAN {link.vlan}, "
                        f"outside {low}..{high}",
                    )
                )
            elif link.vlan in owner:
                found.append(
                    Violation(
                        f"{npath}.networks",
                        "nic-vlan-distinct",
                        f"{where}: {owner[link.vlan]} and {name} both use VLAN {link.vlan}; "
                        "one VLAN per network",
                    )
                )
            else:
                owner[link.vlan] = name
    return found


def _kubelet_where(host: HostPlan) -> tuple[HostAddress | None, str]:
    """The address kubelet must bind: management, in the k8s-nodes zone when zoned."""
    management = [e for e in host.addresses if e.network == "management"]
    zoned = any(e.zone is not None for e in management)
    entry = next((e for e in management if not zoned or e.zone == "k8s-nodes"), None)
    return entry, "management/k8s-nodes" if zoned else "management"


def check_kubelet_zone(host: HostPlan) -> list[Violation]:
    """A Kubernetes node holds a management address in the k8s-nodes zone for kubelet."""
    entry, where = _kubelet_where(host)
    if host.role not in K8S_NODE_ROLES or entry is not None:
        return []
    return [
        Violation(
            f"{host.path}.zones",
            "kubelet-node-ip",
            f"{host.name} ({host.role}) holds no {where} address for kubelet's --node-ip",
        )
    ]


def check_kubelet_node_ip(host: HostPlan, node_ip: str | None) -> list[Violation]:
    """A Kubernetes node's kubelet binds its management address in the k8s-nodes zone."""
    entry, where = _kubelet_where(host)
    if host.role not in K8S_NODE_ROLES or entry is None:
        return check_kubelet_zone(host)
    if node_ip != str(entry.address):
        return [
            Violation(
                f"{host.path}.node_ip",
                "kubelet-node-ip",
                f"kubelet on {host.name} binds --node-ip {node_ip}, not its {where} "
                f"address {entry.address}",
            )
        ]
    return []


def check_pinned_host_keys(targets: Iterable[tuple[str, str, str | None]]) -> list[Violation]:
    """``(path, host, host key)`` of SSH connections: each one pins the key it accepts."""
    return [
        Violation(
            path,
            "connection-host-key",
            f"SSH to {host} accepts whatever key it is shown; pin the host's key "
            "(ssh-keyscan) so a spoofed host is refused",
        )
        for path, host, key in targets
        if not key
    ]


def _denies_everything(spec: Mapping[str, Any]) -> bool:
    selector = spec.get("podSelector") or {}
    return (
        not selector.get("matchLabels")
        and not selector.get("matchExpressions")
        and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or ())
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def check_tenant_default_deny(
    namespaces: Iterable[tuple[str, str]], policies: Iterable[tuple[str, Mapping[str, Any]]]
) -> list[Violation]:
    """``(path, name)`` tenant namespaces each hold a NetworkPolicy ``(namespace, spec)`` that
    selects every pod and denies all ingress and egress; everything else is allowed on top."""
    denied = {namespace for namespace, spec in policies if _denies_everything(spec)}
    return [
        Violation(
            path,
            "tenant-default-deny",
            f"tenant namespace {name} has no default-deny NetworkPolicy (podSelector {{}}, "
            "policyTypes Ingress and Egress, no rules)",
        )
        for path, name in namespaces
        if name not in denied
    ]


def check_autodetect(path: str, cidrs: Iterable[str], traffic: NetworkPlan) -> list[Violation]:
    """Calico finds node addresses in the traffic blocks only, whatever holds the default route."""
    want = sorted(str(b.cidr) for b in traffic.blocks())
    have = sorted(str(c) for c in cidrs)
    if have == want:
        return []
    return [
        Violation(
            path,
            "cni-autodetect",
            f"node address autodetection uses {', '.join(have) or 'no CIDR'}; it must be "
            f"pinned to the traffic blocks {', '.join(want)}",
        )
    ]


def check_pools_disjoint(
    pools: Iterable[tuple[str, IPNetwork]],
    networks: Iterable[NetworkPlan],
    outside: Iterable[OutsidePlan] = (),
) -> list[Violation]:
    """``(path, cidr)`` pod pools overlap no network, no CNI-internal range, nor each other."""
    refs: list[tuple[IPNetwork, tuple[bool, str, object]]] = [
        (n.cidr, (True, n.path, f"the {n.name} network {n.cidr}")) for n in networks
    ]
    refs += [(n.cidr, (True, n.path, f"outside network {n.name} {n.cidr}")) for n in outside]
    refs += [(IPNetwork(c), (True, "", f"the {what} {c}")) for c, what in CNI_INTERNAL_RANGES]
    # A pool's label is formatted only when it is reported (str(IPNetwork) is not cheap).
    items = refs + [(cidr, (False, path, cidr)) for path, cidr in pools]
    found = []
    for earlier, later in find_overlaps(items, tolerated=lambda item: item[0]):
        pool, other = (later, earlier) if not later[0] else (earlier, later)
        what = other[2] if other[0] else f"pool {other[2]}"
        found.append(Violation(pool[1], "pool-overlap", f"pool {pool[2]} overlaps {what}"))
    return found


# --- host network rules (issue 3: netplan, SSH provisioning) ------------------------------

K8S_NODE_ROLES = frozenset({"master", "worker", "ingress"})


def _check_nic_vlans(host: Host, path: str, cfg: StackConfig) -> list[Violation]:
    vlans = _network_vlans(cfg)
    mtus = {name: net.mtu for name, net in cfg.networks.items()}
    found = []
    for j, nic in enumerate(host.nics):
        npath, where = f"{path}.nics[{j}]", f"{host.name} {nic.name}"
        known = [n for n in nic.networks if n in vlans]
        if nic.tagged and len(known) > 1:
            owner: dict[int, str] = {}
            for net in known:
                vlan = vlans[net]
                if vlan is None:
                    found.append(
                        Violation(
                            f"{npath}.networks",
                            "nic-vlan-missing",
                            f"{where}: {net} has no VLAN id, so it cannot share the NIC with "
                            f"{', '.join(n for n in known if n != net)}",
                        )
                    )
                elif vlan in owner:
                    found.append(
                        Violation(
                            f"{npath}.networks",
                            "nic-vlan-distinct",
                            f"{where}: {owner[vlan]} and {net} both use VLAN {vlan}; one VLAN per network",
                        )
                    )
                else:
                    owner[vlan] = net
        for net in known:
            if nic.mtu is not None and net in mtus and nic.mtu < mtus[net]:
                found.append(
                    Violation(
                        f"{npath}.mtu",
                        "nic-mtu",
                        f"{where}: mtu {nic.mtu} is below {net}'s mtu {mtus[net]}",
                    )
                )
    return found


def _check_host_access(host: Host, path: str, cfg: StackConfig) -> list[Violation]:
    # A Kubernetes node without a management address is check_kubelet_zone's (kubelet-node-ip).
    found = []
    carried = {net for nic in host.nics for net in nic.networks}
    if host.ssh.host_key is None:
        found.append(
            Violation(
                f"{path}.ssh.host_key",
                "ssh-host-key",
                f"{host.name} has no pinned host key; add the `ssh-keyscan` line of its key",
            )
        )
    if host.ssh.address is None and "management" not in carried:
        found.append(
            Violation(
                f"{path}.ssh.address",
                "ssh-address",
                f"{host.name} has no management address to reach it by; set ssh.address",
            )
        )
    return found


def check_host_networks(cfg: StackConfig) -> list[Violation]:
    """Per host NIC: distinct VLAN ids, a VLAN for every shared network, MTUs that fit; the
    stack's hosts reachable over SSH with a pinned key (and the jump host's pinned too)."""
    found = []
    for i, host in enumerate(cfg.hosts):
        path = f"hosts[{i}]"
        found += _check_nic_vlans(host, path, cfg)
        if host.az == cfg.az:
            found += _check_host_access(host, path, cfg)
    jump = cfg.ssh.jump
    uses_jump = any(h.az == cfg.az and h.ssh.via_jump for h in cfg.hosts)
    if jump is not None and jump.host_key is None and uses_jump:
        found.append(
            Violation(
                "ssh.jump.host_key",
                "ssh-host-key",
                f"jump host {jump.address} has no pinned host key; add its `ssh-keyscan` line",
            )
        )
    return found


# --- gateway rules (issue 4) --------------------------------------------------------------
# A gateway's intents name its own addresses (the SNAT targets, the addresses it listens on);
# the derived model keeps every step that leaves for an outside network off 100.64.0.0/10 and
# the specific SNAT steps before the general egress SNAT (seed 000's warning).


def _check_gateway_networks(
    gw: Gateway, path: str, platform: set[str], outside: set[str]
) -> list[Violation]:
    found = []
    wanted = [
        (f"{path}.mappings[{j}].network", m.network, outside) for j, m in enumerate(gw.mappings)
    ]
    wanted += [
        (f"{path}.ingress[{j}].network", r.network, outside) for j, r in enumerate(gw.ingress)
    ]
    wanted += [
        (f"{path}.publish[{j}].network", p.network, platform | outside)
        for j, p in enumerate(gw.publish)
    ]
    wanted += [
        (f"{path}.consume[{j}].network", c.network, platform | outside)
        for j, c in enumerate(gw.consume)
    ]
    for where, net, allowed in wanted:
        if net not in allowed:
            kind = "an outside network" if allowed is outside else "a network"
            found.append(Violation(where, "gateway-ref", f"{net} is not {kind}"))
    return found


def _check_gateway_hosts(cfg: StackConfig) -> list[Violation]:
    """One gateway per host: a host has one lanes table and one lanes nginx."""
    owner: dict[str, str] = {}
    found = []
    for i, gw in enumerate(cfg.gateways):
        if gw.host in owner:
            found.append(
                Violation(
                    f"gateways[{i}].host",
                    "gateway-ref",
                    f"{gw.host} already runs gateway {owner[gw.host]}",
                )
            )
        owner.setdefault(gw.host, gw.name)
    return found


def _own_addresses(gw: Gateway, path: str) -> Iterator[tuple[str, str, str | None]]:
    """(path, address, network or None for any) of every address the gateway claims as its own."""
    for j, e in enumerate(gw.egress):
        yield f"{path}.egress[{j}].to", e.to, e.outside
    for j, m in enumerate(gw.mappings):
        yield f"{path}.mappings[{j}].outside", m.outside, m.network
    for j, r in enumerate(gw.ingress):
        yield f"{path}.ingress[{j}].front", r.front, r.network
    for j, p in enumerate(gw.publish):
        yield f"{path}.publish[{j}].at", p.at, "adjacency"
    for j, c in enumerate(gw.consume):
        yield f"{path}.consume[{j}].at", c.at, c.network
    for j, x in enumerate(gw.proxies):
        yield f"{path}.proxies[{j}].listen", x.listen, None
        yield f"{path}.proxies[{j}].source", x.source, None


def check_gateway_addresses(plan: Plan) -> list[Violation]:
    """Every address a gateway translates to or listens on is one its host holds, in that network."""
    found = []
    for i, gw in enumerate(plan.config.gateways):
        host = plan.host(gw.host)
        if host is None:
            continue  # check_gateway_refs
        for where, address, network in _own_addresses(gw, f"gateways[{i}]"):
            held = [a for a in host.addresses if network is None or a.network == network]
            if IPAddress(address) not in {a.address for a in held}:
                scope = f" in {network}" if network else ""
                have = ", ".join(str(a.address) for a in held) or "none"
                found.append(
                    Violation(
                        where,
                        "gateway-address",
                        f"{address} is not an address of {host.name}{scope} (it holds {have})",
                    )
                )
    return found


def _listeners(gw: Gateway, path: str) -> Iterator[tuple[str, str, str, int | None]]:
    """(path, address, protocol, port or None for every port) of what the gateway answers."""
    for j, m in enumerate(gw.mappings):
        yield f"{path}.mappings[{j}].outside", m.outside, "any", None
    for j, r in enumerate(gw.ingress):
        for port in r.ports:
            yield f"{path}.ingress[{j}].front", r.front, "tcp", port
    for j, p in enumerate(gw.publish):
        yield f"{path}.publish[{j}].at", p.at, p.protocol, p.port
    for j, c in enumerate(gw.consume):
        yield f"{path}.consume[{j}].at", c.at, c.protocol, c.port
    for j, x in enumerate(gw.proxies):
        yield f"{path}.proxies[{j}].listen", x.listen, "tcp", x.port


def check_gateway_listeners(cfg: StackConfig) -> list[Violation]:
    """No two intents of a gateway answer the same address, protocol and port (a 1:1 mapping takes
    every port of its address): the first DNAT would silently win."""
    found = []
    for i, gw in enumerate(cfg.gateways):
        first: dict[str, str] = {}
        whole: dict[str, str] = {}
        ports: dict[tuple[str, str, int], str] = {}
        for where, address, proto, port in _listeners(gw, f"gateways[{i}]"):
            if port is None:
                clash = first.get(address)
            else:
                clash = whole.get(address) or ports.get((address, proto, port))
            if clash:
                what = f"{address}:{port}/{proto}" if port else address
                found.append(
                    Violation(where, "gateway-listener", f"{what} is already taken by {clash}")
                )
                continue
            first.setdefault(address, where)
            if port is None:
                whole[address] = where
            else:
                ports[(address, proto, port)] = where
    return found


def _check_map_conflicts(model: GatewayModel) -> list[Violation]:
    found = []
    for name, entries in nat_maps(model).items():
        first: dict[tuple, MapEntry] = {}
        for entry in sorted(entries, key=lambda e: _path_key(Violation(e.path, "", ""))):
            other = first.setdefault(entry.key, entry)
            if other.value != entry.value:
                key = " . ".join(str(k) for k in entry.key)
                found.append(
                    Violation(
                        entry.path,
                        "gateway-map-conflict",
                        f"{name} {key} already goes to {' . '.join(map(str, other.value))} "
                        f"({other.path}); the kernel would refuse the ruleset",
                    )
                )
    return found


def check_gateway_model(model: GatewayModel) -> list[Violation]:
    """Steps that leave for an outside network exempt 100.64.0.0/10; egress SNAT comes last;
    no map key has two values."""
    found = _check_map_conflicts(model)
    for k, step in enumerate(model.snat):
        where = step.egress.path if step.egress is not None else f"{model.path}.{step.kind}"
        if step.kind in ("mapping", "egress") and (
            step.exempt is None or PLATFORM_SPACE not in step.exempt
        ):
            found.append(
                Violation(
                    where,
                    "gateway-snat-exempt",
                    f"{step.kind} SNAT of {model.name} would translate traffic to {PLATFORM_SPACE}",
                )
            )
        later = [s.kind for s in model.snat[k + 1 :] if s.kind != "egress"]
        if step.kind == "egress" and later:
            found.append(
                Violation(
                    where,
                    "gateway-snat-order",
                    f"egress SNAT of {model.name} comes before its {', '.join(later)} SNAT",
                )
            )
    return found


def check_gateways(plan: Plan) -> list[Violation]:
    """Gateway addresses, listeners and the derived models (once every reference resolves)."""
    cfg = plan.config
    found = check_gateway_addresses(plan) + check_gateway_listeners(cfg)
    if check_gateway_refs(cfg):
        return found  # reported by check_config; models need every reference
    for model in derive_gateways(plan):
        found += check_gateway_model(model)
    return found


# --- cluster network rules (issue 6: Calico, ingress, tenants) ----------------------------
# Pod and service ranges, pools, tenants and grants of the ``cluster`` section.

# Ranges CNIs keep for themselves: a pod or service range inside one breaks that CNI (or any
# later move to it), so they are refused like the plan's own networks.
CNI_INTERNAL_RANGES: tuple[tuple[str, str], ...] = (
    ("100.64.0.0/16", "OVN-Kubernetes join subnet"),
    ("100.88.0.0/16", "OVN-Kubernetes transit switch subnet"),
    ("169.254.0.0/17", "OVN-Kubernetes masquerade subnet"),
    ("169.254.0.0/16", "link-local (Calico refuses pools there)"),
)
# Namespaces the platform owns; a tenant may not take one.
SYSTEM_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "ingress-nginx",
        "tigera-operator",
        "calico-system",
        "calico-apiserver",
    }
)
GRANTABLE = frozenset({"management", "storage", "adjacency"})


def _cluster_cidr(path: str, value: str) -> tuple[IPNetwork | None, list[Violation]]:
    try:
        net = parse_cidr(value, path)
    except PlanError as exc:
        return None, [Violation(path, "cluster-boundary", exc.message)]
    if net not in PLATFORM_SPACE:
        return net, [Violation(path, "cluster-space", f"{value} is not inside {PLATFORM_SPACE}")]
    return net, []


def _check_cluster_ranges(cfg: StackConfig) -> list[Violation]:
    cluster = cfg.cluster
    pod, found = _cluster_cidr("cluster.pod_cidr", cluster.pod_cidr)
    found += _cluster_cidr("cluster.service_cidr", cluster.service_cidr)[1]
    if pod is None:
        return found
    pools = 1 << max(cluster.pool_prefix - pod.prefixlen, 0)
    if cluster.pool_prefix < pod.prefixlen or pools < len(cfg.azs):
        found.append(
            Violation(
                "cluster.pool_prefix",
                "cluster-pools",
                f"/{cluster.pool_prefix} pools: {cluster.pod_cidr} holds "
                f"{pools if cluster.pool_prefix >= pod.prefixlen else 0}, fewer than the "
                f"{len(cfg.azs)} AZs",
            )
        )
    if cluster.calico.block_size < cluster.pool_prefix:
        found.append(
            Violation(
                "cluster.calico.block_size",
                "cluster-pools",
                f"/{cluster.calico.block_size} blocks do not fit in /{cluster.pool_prefix} pools",
            )
        )
    return found


def _check_grant(cfg: StackConfig, grant: Grant, path: str) -> list[Violation]:
    nets = dict(cfg.networks.items())
    if grant.network not in GRANTABLE:
        return [
            Violation(
                f"{path}.network",
                "cluster-grant",
                f"{grant.network} is not an exposure network; grant one of "
                f"{', '.join(sorted(GRANTABLE))}",
            )
        ]
    found = []
    zones = {z.name: z for z in nets[grant.network].zones}
    if grant.zone is not None and grant.zone not in zones:
        found.append(
            Violation(
                f"{path}.zone", "cluster-grant", f"{grant.zone} is not a zone of {grant.network}"
            )
        )
    elif grant.zone is not None and zones[grant.zone].reserved:
        found.append(Violation(f"{path}.zone", "cluster-grant", f"{grant.zone} is a reserved zone"))
    elif grant.zone is None and grant.network == "management":
        found.append(
            Violation(
                f"{path}.zone",
                "cluster-grant",
                "management is granted by zone only (never the whole network: it holds the "
                "API server, etcd and kubelet)",
            )
        )
    if grant.az is not None and grant.az not in cfg.azs:
        found.append(
            Violation(f"{path}.az", "cluster-grant", f"{grant.az} is not one of azs {cfg.azs}")
        )
    if grant.network == "storage" and cfg.cluster.storage == "none":
        found.append(
            Violation(
                f"{path}.network",
                "cluster-grant",
                "storage is granted but cluster.storage is none: pods have no way to storage",
            )
        )
    found += [
        Violation(f"{path}.ports[{k}]", "cluster-grant", f"{port} is outside 1..65535")
        for k, port in enumerate(grant.ports)
        if not 1 <= port <= 65535
    ]
    return found


def _check_tenants(cfg: StackConfig) -> list[Violation]:
    found = []
    seen: dict[str, int] = {}
    for i, tenant in enumerate(cfg.cluster.tenants):
        path = f"cluster.tenants[{i}]"
        if tenant.name in seen:
            found.append(
                Violation(
                    f"{path}.name",
                    "cluster-tenant",
                    f"{tenant.name} is also cluster.tenants[{seen[tenant.name]}]",
                )
            )
        seen.setdefault(tenant.name, i)
        if tenant.name in SYSTEM_NAMESPACES:
            found.append(
                Violation(
                    f"{path}.name",
                    "cluster-tenant",
                    f"{tenant.name} is a system namespace, not a tenant",
                )
            )
        for j, grant in enumerate(tenant.egress):
            found += _check_grant(cfg, grant, f"{path}.egress[{j}]")
    return found


def _check_ingress_nodes(cfg: StackConfig) -> list[Violation]:
    return [
        Violation(
            f"hosts[{i}].nics",
            "cluster-ingress-address",
            f"{host.name} has role ingress but no NIC carries traffic: the ingress controller "
            "binds the node's traffic address (the router's DNAT target)",
        )
        for i, host in enumerate(cfg.hosts)
        if host.role == "ingress" and not any("traffic" in nic.networks for nic in host.nics)
    ]


def check_cluster_config(cfg: StackConfig) -> list[Violation]:
    """Cluster ranges on their boundary inside 100.64.0.0/10, pools that fit, tenants, grants."""
    found = _check_cluster_ranges(cfg) + _check_tenants(cfg) + _check_ingress_nodes(cfg)
    region_az = cfg.cluster.region_az
    if region_az is not None and region_az not in cfg.azs:
        found.append(
            Violation(
                "cluster.region_az", "cluster-region-az", f"{region_az} is not one of azs {cfg.azs}"
            )
        )
    return found


def _cluster_references(plan: Plan) -> list[tuple[IPNetwork, tuple[bool, str, str]]]:
    refs = [
        (n.cidr, (True, f"{n.path}.cidr", f"the {n.name} network {n.cidr}")) for n in plan.networks
    ]
    refs += [
        (n.cidr, (True, f"{n.path}.cidr", f"outside network {n.name} {n.cidr}"))
        for n in plan.outside
    ]
    refs += [(IPNetwork(c), (True, "", f"the {what} {c}")) for c, what in CNI_INTERNAL_RANGES]
    return refs


def check_cluster_overlaps(plan: Plan) -> list[Violation]:
    """Pod and service ranges overlap no network of the plan, no outside network, no range a
    CNI keeps for itself, nor each other. One ``find_overlaps`` sweep per cluster range; the
    range goes first so that every reference it overlaps is named, not only the widest."""
    cluster = plan.config.cluster
    ranges = [
        ("cluster.pod_cidr", cluster.pod_cidr),
        ("cluster.service_cidr", cluster.service_cidr),
    ]
    refs = _cluster_references(plan)
    found = []
    for path, value in ranges:
        mine = (False, path, value)
        items = [(IPNetwork(value).cidr, mine), *refs]
        hits = [b if a is mine else a for a, b in find_overlaps(items, tolerated=lambda i: i[0])]
        if hits:
            names = ", ".join(f"{h[2]}" + (f" ({h[1]})" if h[1] else "") for h in hits)
            found.append(Violation(path, "cluster-overlap", f"{value} overlaps {names}"))
    pair = [(IPNetwork(v).cidr, (False, p, v)) for p, v in ranges]
    found += [
        Violation(later[1], "cluster-overlap", f"{later[2]} overlaps {earlier[1]} {earlier[2]}")
        for earlier, later in find_overlaps(pair)
    ]
    return found


def check_cluster_grants(plan: Plan) -> list[Violation]:
    """A management zone granted to a tenant holds no cluster node's address (kubelet, etcd)."""
    found = []
    nodes = [
        (h, e)
        for h in plan.hosts
        if h.role in K8S_NODE_ROLES
        for e in h.addresses
        if e.network == "management"
    ]
    for i, tenant in enumerate(plan.config.cluster.tenants):
        for j, grant in enumerate(tenant.egress):
            if grant.network != "management" or grant.zone is None:
                continue
            zone = plan.network("management").zone(grant.zone)  # type: ignore[union-attr]
            held = sorted(h.name for h, e in nodes if zone is not None and e.address in zone.cidr)
            if held:
                found.append(
                    Violation(
                        f"cluster.tenants[{i}].egress[{j}].zone",
                        "cluster-grant",
                        f"{grant.zone} holds the cluster nodes {', '.join(held)}; a tenant is never "
                        "granted the nodes' management addresses",
                    )
                )
    return found


def check_cluster_plan(plan: Plan) -> list[Violation]:
    """The cluster rules that need the computed plan."""
    if getattr(plan, "config", None) is None:
        return []  # a plan rebuilt from resource props carries no cluster section
    return check_cluster_overlaps(plan) + check_cluster_grants(plan)
