"""Rules of host addresses: each in its AZ block at block + number, none held twice."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

from netaddr import IPAddress, IPNetwork

from lanes.model.addressing import host_address
from lanes.model.plan import HostAddress, HostPlan, NetworkPlan
from lanes.rules.catalog import RuleId
from lanes.rules.core import Violation

__all__ = [
    "check_host_addresses",
    "check_unique_holdings",
    "check_unique_addresses",
    "check_host_numbering",
    "check_host_blocks",
    "list_host_prefixes",
]


def check_host_addresses(host: HostPlan, platform: Collection[str]) -> list[Violation]:
    """Each address is a usable address of its AZ block (the gateway's .1 only for gateways);
    ``platform`` names the platform networks (the others are outside networks and the line)."""
    found = []
    for entry in host.addresses:
        if entry.zone is None and entry.network not in platform:
            if entry.address not in entry.block:
                found.append(
                    Violation(
                        f"{host.path}.outside.{entry.network}",
                        RuleId.HOST_IN_BLOCK,
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
                    RuleId.HOST_IN_BLOCK,
                    f"{host.number} gives {host.name} {entry.address} in {where}, which is not a "
                    f"usable address of its {host.az} block {entry.block}",
                )
            )
        elif entry.address == entry.gateway and host.role != "gateway":
            found.append(
                Violation(
                    path,
                    RuleId.HOST_IN_BLOCK,
                    f"{host.number} gives {host.name} {entry.address}, the {where} gateway of "
                    f"{entry.block}; only a gateway host may hold it",
                )
            )
    return found


def check_unique_holdings(
    holdings: Iterable[tuple[str, str, str, str]], platform: Collection[str]
) -> list[Violation]:
    """No address is held twice; ``holdings`` are (path, host, network, address) in host order.

    Outside networks may reuse each other's addresses (two tenant VPCs on 192.168.0.0/24);
    the ``platform`` networks share one space.
    """
    owner: dict[tuple[str, str], str] = {}
    found = []
    for path, host, network, address in holdings:
        scope = "platform" if network in platform else network
        key = (scope, address)
        if key in owner and owner[key] != host:
            found.append(
                Violation(
                    path,
                    RuleId.ADDRESS_UNIQUE,
                    f"{host} {network} address {address} is also held by {owner[key]}",
                )
            )
        owner.setdefault(key, host)
    return found


def check_unique_addresses(hosts: Iterable[HostPlan], platform: Collection[str]) -> list[Violation]:
    """No address is held twice by the plan's hosts (see check_unique_holdings)."""
    return check_unique_holdings(
        (
            (host.path, host.name, entry.network, str(entry.address))
            for host in hosts
            for entry in host.addresses
        ),
        platform,
    )


def _platform_entries(host: HostPlan, platform: Collection[str]) -> Iterator[HostAddress]:
    return (e for e in host.addresses if e.network in platform)


def check_host_numbering(host: HostPlan, platform: Collection[str]) -> list[Violation]:
    """A host holds its own number in every ``platform`` network: block first address +
    number."""
    found = []
    for entry in _platform_entries(host, platform):
        expected = host_address(entry.block, host.number)
        if entry.address != expected:
            where = entry.network + (f"/{entry.zone}" if entry.zone else "")
            found.append(
                Violation(
                    f"{host.path}.number",
                    RuleId.HOST_NUMBER_SAME,
                    f"{host.name} holds {entry.address} in {where}, not {expected}: "
                    f"a host keeps its number {host.number} in every network",
                )
            )
    return found


def check_host_blocks(host: HostPlan, networks: Iterable[NetworkPlan]) -> list[Violation]:
    """Each platform address names the block the network plan gives the host's AZ and zone."""
    plans = {n.name: n for n in networks}
    found = []
    for entry in _platform_entries(host, plans):
        net = plans.get(entry.network)
        zone = net.zone(entry.zone) if net else None
        block = zone.block(host.az) if zone else None
        if block is None or block.cidr != entry.block:
            where = entry.network + (f"/{entry.zone}" if entry.zone else "")
            want = f"its {host.az} block {block.cidr}" if block else f"no {host.az} block"
            found.append(
                Violation(
                    f"{host.path}.az",
                    RuleId.HOST_AZ_BLOCK,
                    f"{host.name} {entry.address} is placed in {entry.block}, "
                    f"but {where} has {want}",
                )
            )
    return found


def list_host_prefixes(
    hosts: Iterable[HostPlan], platform: Collection[str]
) -> list[tuple[IPNetwork, str]]:
    """(address/32, path) of every ``platform`` address of ``hosts``, for reserved-space sweeps."""
    return [
        (IPNetwork((int(e.address), 32)), f"{h.path}.number")
        for h in hosts
        for e in _platform_entries(h, platform)
    ]
