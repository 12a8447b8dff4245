"""Rules of gateways: references, own addresses, listeners, and the derived NAT models."""

from __future__ import annotations

from collections.abc import Iterator

from netaddr import IPAddress

from lanes.config import StackConfig
from lanes.config.gateway import Gateway
from lanes.gateway import GatewayModel, MapEntry, derive_gateways, nat_maps
from lanes.plan import PLATFORM_SPACE, Plan
from lanes.rules.core import Violation, network_names, path_key

__all__ = [
    "check_gateway_refs",
    "check_gateway_addresses",
    "check_gateway_listeners",
    "check_gateway_model",
    "check_gateways",
]


def check_gateway_refs(cfg: StackConfig) -> list[Violation]:
    """Gateways name hosts and networks that exist, with the role they need."""
    found = []
    hosts = {h.name: h for h in cfg.hosts}
    platform, outside = network_names(cfg)
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
        for entry in sorted(entries, key=lambda e: path_key(Violation(e.path, "", ""))):
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
