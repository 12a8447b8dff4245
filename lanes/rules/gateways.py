"""Rules of gateways: references, own addresses, listeners, and the derived NAT models."""

from __future__ import annotations

from netaddr import IPAddress

from lanes.config import Gateway, StackConfig
from lanes.intents import kinds, step_kind
from lanes.intents.base import Finding, Listener, OwnAddress
from lanes.intents.gateway import GatewayModel, MapEntry, derive_gateways, nat_maps
from lanes.model.plan import PLATFORM_SPACE, Plan
from lanes.rules.core import Violation, network_names, path_key

__all__ = [
    "RefCheck",
    "check_gateway_refs",
    "check_gateway_addresses",
    "check_gateway_listeners",
    "check_gateway_model",
    "check_gateway_intents",
    "check_gateways",
]


class RefCheck:
    """What the intent kinds check their references against: the inventory and the networks.
    Each method returns the findings (path, message) of one reference, none when it holds."""

    def __init__(self, cfg: StackConfig):
        self.hosts = {h.name: h for h in cfg.hosts}
        platform, outside = network_names(cfg)
        self.platform = set(platform)
        self.outside = set(outside)

    def host(self, name: str, path: str, role: str | None = None) -> list[Finding]:
        host = self.hosts.get(name)
        if host is None:
            return [(path, f"{name} is not a host")]
        if role is not None and host.role != role:
            return [(path, f"{name} has role {host.role}, not {role}")]
        return []

    def platform_network(self, name: str, path: str) -> list[Finding]:
        return [] if name in self.platform else [(path, f"{name} is not a platform network")]

    def outside_network(self, name: str, path: str) -> list[Finding]:
        return [] if name in self.outside else [(path, f"{name} is not an outside network")]

    def any_network(self, name: str, path: str) -> list[Finding]:
        known = self.platform | self.outside
        return [] if name in known else [(path, f"{name} is not a network")]

    def carried(self, host: str, network: str, path: str) -> list[Finding]:
        """The host (when it exists) has a NIC on ``network``: an intent's leg needs one."""
        found = self.hosts.get(host)
        if found is None or network in found.networks:
            return []
        return [(path, f"no NIC of {host} carries {network}")]


def check_gateway_refs(cfg: StackConfig) -> list[Violation]:
    """Gateways name hosts and networks that exist, with the role they need."""
    found = []
    check = RefCheck(cfg)
    names: set[str] = set()
    for i, gw in enumerate(cfg.gateways):
        path = f"gateways[{i}]"
        if gw.name in names:
            found.append(Violation(f"{path}.name", "gateway-ref", f"{gw.name} is listed twice"))
        names.add(gw.name)
        for where, message in check.host(gw.host, f"{path}.host", role="gateway"):
            found.append(Violation(where, "gateway-ref", message))
        for kind in kinds():
            for where, message in kind.refs(gw, path, check):
                found.append(Violation(where, "gateway-ref", message))
    found += _check_gateway_hosts(cfg)
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


def _own_addresses(gw: Gateway, path: str) -> list[OwnAddress]:
    """(path, address, network or None for any) of every address the gateway claims as its own."""
    return [own for kind in kinds() for own in kind.own_addresses(gw, path)]


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


def _listeners(gw: Gateway, path: str) -> list[Listener]:
    """(path, address, protocol, port or None for every port) of what the gateway answers."""
    return [listener for kind in kinds() for listener in kind.listeners(gw, path)]


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


def _kind_says(snat: str, flag: str) -> bool:
    """Whether the kind making SNAT steps of kind ``snat`` has ``flag`` set."""
    kind = step_kind(snat)
    return kind is not None and getattr(kind, flag)


def check_gateway_model(model: GatewayModel) -> list[Violation]:
    """Steps that leave for an outside network exempt 100.64.0.0/10; egress SNAT comes last;
    no map key has two values."""
    found = _check_map_conflicts(model)
    for k, step in enumerate(model.snat):
        where = step.egress.path if step.egress is not None else f"{model.path}.{step.kind}"
        if _kind_says(step.kind, "snat_exempt") and (
            step.exempt is None or PLATFORM_SPACE not in step.exempt
        ):
            found.append(
                Violation(
                    where,
                    "gateway-snat-exempt",
                    f"{step.kind} SNAT of {model.name} would translate traffic to {PLATFORM_SPACE}",
                )
            )
        later = [s.kind for s in model.snat[k + 1 :] if not _kind_says(s.kind, "snat_general")]
        if _kind_says(step.kind, "snat_general") and later:
            found.append(
                Violation(
                    where,
                    "gateway-snat-order",
                    f"egress SNAT of {model.name} comes before its {', '.join(later)} SNAT",
                )
            )
    return found


def check_gateway_intents(plan: Plan) -> list[Violation]:
    """Intents make sense together: no address that many sources are translated to is also
    mapped 1:1 to one host (inbound to it would all go there), and each kind's own sense."""
    found = []
    for i, gw in enumerate(plan.config.gateways):
        path = f"gateways[{i}]"
        shared = {
            address: where for kind in kinds() for where, address in kind.shared_sources(gw, path)
        }
        for where, address, _, port in _listeners(gw, path):
            if port is None and address in shared:
                found.append(
                    Violation(
                        where,
                        "gateway-intent",
                        f"{address} is the SNAT address of {shared[address]}: a 1:1 mapping "
                        "there would take every connection made to it",
                    )
                )
        for kind in kinds():
            found += [Violation(w, "gateway-intent", m) for w, m in kind.sense(gw, path, plan)]
    return found


def check_gateways(plan: Plan) -> list[Violation]:
    """Gateway addresses, listeners, intents and the derived models (once every reference
    resolves)."""
    cfg = plan.config
    found = check_gateway_addresses(plan) + check_gateway_listeners(cfg)
    if check_gateway_refs(cfg):
        return found  # reported by check_config; models need every reference
    found += check_gateway_intents(plan)
    for model in derive_gateways(plan):
        found += check_gateway_model(model)
    return found
