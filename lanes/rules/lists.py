"""Rules of the lists lanes reads as sets: an entry given twice is refused, naming both places.

lanes never drops a repeated entry on its own: the same network twice in a gateway's egress,
the same hostname twice for a tenant, a port listed twice may each be a slip for another value,
and lanes cannot tell which. Each list below says what a repeat is; lists other rules already
hold to one entry each (AZs, hosts, gateways, tenants, a NIC's networks and bond members, a
gateway's listeners, reserved blocks) are theirs. A proxy's name may repeat: the two legs of
one exposure served by nginx on both sides carry the exposure's name.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator

from lanes.config import Grant, StackConfig
from lanes.rules.catalog import RuleId
from lanes.rules.core import Violation

__all__ = ["check_duplicates"]

Entry = tuple[str, Hashable, str]  # (config path, what makes two entries the same, as shown)


def _twice(entries: Iterable[Entry], why: str) -> list[Violation]:
    """Every entry whose key an earlier entry has: ``<path>: <shown> is also <first>: <why>``."""
    first: dict[Hashable, str] = {}
    found = []
    for path, key, shown in entries:
        if key in first:
            found.append(
                Violation(path, RuleId.DUPLICATE_ENTRY, f"{shown} is also {first[key]}: {why}")
            )
        else:
            first[key] = path
    return found


def _outside_names(cfg: StackConfig) -> Iterator[Entry]:
    for i, net in enumerate(cfg.outside):
        yield f"outside[{i}].name", net.name, net.name


def _host_lists(cfg: StackConfig) -> list[Violation]:
    found = []
    for i, host in enumerate(cfg.hosts):
        zones = host.zones or []
        found += _twice(
            ((f"hosts[{i}].zones[{k}]", z, z) for k, z in enumerate(zones)),
            "a host sits in a zone once",
        )
        for network, addresses in host.outside.items():
            found += _twice(
                ((f"hosts[{i}].outside.{network}[{k}]", a, a) for k, a in enumerate(addresses)),
                "a host holds an address once",
            )
    return found


def _gateway_lists(cfg: StackConfig) -> list[Violation]:
    found = []
    for i, gw in enumerate(cfg.gateways):
        found += _twice(
            (
                (f"gateways[{i}].egress[{j}].networks[{k}]", (e.outside, net), net)
                for j, e in enumerate(gw.egress)
                for k, net in enumerate(e.networks)
            ),
            "a gateway SNATs a network toward an outside network once (a second SNAT of it "
            "would never match)",
        )
        for j, route in enumerate(gw.ingress):
            found += _twice(
                (
                    (f"gateways[{i}].ingress[{j}].ports[{k}]", port, str(port))
                    for k, port in enumerate(route.ports)
                ),
                "an ingress route lists a port once",
            )
    found += _twice(
        (
            (f"gateways[{i}].publish[{j}].name", p.name, p.name)
            for i, gw in enumerate(cfg.gateways)
            for j, p in enumerate(gw.publish)
        ),
        "an exposure is published once (consumes and tenant grants name it)",
    )
    return found


def _grant_key(grant: Grant) -> Hashable:
    return (
        grant.network,
        grant.exposure,
        grant.zone,
        grant.az,
        tuple(sorted(grant.ports)),
        grant.protocol,
    )


def _tenant_lists(cfg: StackConfig) -> list[Violation]:
    found = []
    for i, tenant in enumerate(cfg.cluster.tenants):
        path = f"cluster.tenants[{i}]"
        found += _twice(
            ((f"{path}.hostnames[{k}]", h, h) for k, h in enumerate(tenant.hostnames)),
            "a tenant claims a hostname once (each is one listener per port)",
        )
        found += _twice(
            (
                (f"{path}.egress[{j}]", _grant_key(g), "this grant")
                for j, g in enumerate(tenant.egress)
            ),
            "a tenant lists a grant once",
        )
        for j, grant in enumerate(tenant.egress):
            found += _twice(
                (
                    (f"{path}.egress[{j}].ports[{k}]", port, str(port))
                    for k, port in enumerate(grant.ports)
                ),
                "a grant lists a port once",
            )
    return found


def check_duplicates(cfg: StackConfig) -> list[Violation]:
    """Every list lanes reads as a set holds each entry once."""
    found = _twice(
        _outside_names(cfg),
        "outside networks are named once (NICs, hosts and gateways name them)",
    )
    return found + _host_lists(cfg) + _gateway_lists(cfg) + _tenant_lists(cfg)
