"""Rules of gateways: references, own addresses, listeners, and the derived NAT models."""

from __future__ import annotations

from collections.abc import Sequence

from netaddr import IPAddress

from lanes.config import Gateway, StackConfig
from lanes.config.kinds import NetworkKinds
from lanes.intents.base import Listener, OwnAddress, RefCheck
from lanes.intents.gateway import GatewayModel, MapEntry, derive_gateways, nat_maps
from lanes.intents.kinds import INTENT_KINDS, IntentKinds
from lanes.model.plan import PLATFORM_SPACE, Plan
from lanes.rules.catalog import RuleId
from lanes.rules.core import Violation, path_key

__all__ = [
    "check_gateway_refs",
    "check_gateway_addresses",
    "check_gateway_listeners",
    "check_gateway_model",
    "check_gateway_intents",
    "check_gateways",
]


def check_gateway_refs(cfg: StackConfig, kinds: IntentKinds = INTENT_KINDS) -> list[Violation]:
    """Gateways name hosts and networks that exist, with the role they need."""
    found = []
    check = RefCheck(cfg)
    names: set[str] = set()
    for i, gw in enumerate(cfg.gateways):
        path = f"gateways[{i}]"
        if gw.name in names:
            found.append(
                Violation(f"{path}.name", RuleId.GATEWAY_REF, f"{gw.name} is listed twice")
            )
        names.add(gw.name)
        for where, message in check.host(gw.host, f"{path}.host", role="gateway"):
            found.append(Violation(where, RuleId.GATEWAY_REF, message))
        for kind in kinds:
            for where, message in kind.refs(gw, path, check):
                found.append(Violation(where, RuleId.GATEWAY_REF, message))
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
                    RuleId.GATEWAY_REF,
                    f"{gw.host} already runs gateway {owner[gw.host]}",
                )
            )
        owner.setdefault(gw.host, gw.name)
    return found


def _own_addresses(
    gw: Gateway, path: str, kinds: IntentKinds, networks: NetworkKinds
) -> list[OwnAddress]:
    """Every address the gateway claims as its own (in a network, or any of its host's)."""
    return [own for kind in kinds for own in kind.own_addresses(gw, path, networks)]


def check_gateway_addresses(plan: Plan, kinds: IntentKinds = INTENT_KINDS) -> list[Violation]:
    """Every address a gateway translates to or listens on is one its host holds, in that network."""
    found = []
    for i, gw in enumerate(plan.gateways):
        host = plan.host(gw.host)
        if host is None:
            continue  # check_gateway_refs
        for where, address, network in _own_addresses(gw, f"gateways[{i}]", kinds, plan.kinds):
            held = [a for a in host.addresses if network is None or a.network == network]
            if IPAddress(address) not in {a.address for a in held}:
                scope = f" in {network}" if network else ""
                have = ", ".join(str(a.address) for a in held) or "none"
                found.append(
                    Violation(
                        where,
                        RuleId.GATEWAY_ADDRESS,
                        f"{address} is not an address of {host.name}{scope} (it holds {have})",
                    )
                )
    return found


def _listeners(gw: Gateway, path: str, kinds: IntentKinds) -> list[Listener]:
    """What the gateway answers (a port, or every port of an address)."""
    return [listener for kind in kinds for listener in kind.listeners(gw, path)]


def check_gateway_listeners(
    gateways: Sequence[Gateway], kinds: IntentKinds = INTENT_KINDS
) -> list[Violation]:
    """No two intents of a gateway answer the same address, protocol and port (a 1:1 mapping takes
    every port of its address): the first DNAT would silently win."""
    found = []
    for i, gw in enumerate(gateways):
        first: dict[str, str] = {}
        whole: dict[str, str] = {}
        ports: dict[tuple[str, str, int], str] = {}
        for where, address, proto, port in _listeners(gw, f"gateways[{i}]", kinds):
            if port is None:
                clash = first.get(address)
            else:
                clash = whole.get(address) or ports.get((address, proto, port))
            if clash:
                what = f"{address}:{port}/{proto}" if port else address
                found.append(
                    Violation(where, RuleId.GATEWAY_LISTENER, f"{what} is already taken by {clash}")
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
        for entry in sorted(entries, key=lambda e: path_key(e.path)):
            other = first.setdefault(entry.key, entry)
            if other.value != entry.value:
                key = " . ".join(str(k) for k in entry.key)
                found.append(
                    Violation(
                        entry.path,
                        RuleId.GATEWAY_MAP_CONFLICT,
                        f"{name} {key} already goes to {' . '.join(map(str, other.value))} "
                        f"({other.path}); the kernel would refuse the ruleset",
                    )
                )
    return found


def _exempting(kinds: IntentKinds, snat: str) -> bool:
    """The kind making SNAT steps of kind ``snat`` leaves for an outside network."""
    kind = kinds.step_kind(snat)
    return kind is not None and kind.snat_exempt


def _general(kinds: IntentKinds, snat: str) -> bool:
    """The kind making SNAT steps of kind ``snat`` is the catch-all SNAT."""
    kind = kinds.step_kind(snat)
    return kind is not None and kind.snat_general


def check_gateway_model(model: GatewayModel) -> list[Violation]:
    """Steps that leave for an outside network exempt 100.64.0.0/10; egress SNAT comes last;
    no map key has two values."""
    found = _check_map_conflicts(model)
    for k, step in enumerate(model.snat):
        where = step.egress.path if step.egress is not None else f"{model.path}.{step.kind}"
        if _exempting(model.kinds, step.kind) and (
            step.exempt is None or PLATFORM_SPACE not in step.exempt
        ):
            found.append(
                Violation(
                    where,
                    RuleId.GATEWAY_SNAT_EXEMPT,
                    f"{step.kind} SNAT of {model.name} would translate traffic to {PLATFORM_SPACE}",
                )
            )
        later = [s.kind for s in model.snat[k + 1 :] if not _general(model.kinds, s.kind)]
        if _general(model.kinds, step.kind) and later:
            found.append(
                Violation(
                    where,
                    RuleId.GATEWAY_SNAT_ORDER,
                    f"egress SNAT of {model.name} comes before its {', '.join(later)} SNAT",
                )
            )
    return found


def check_gateway_intents(plan: Plan, kinds: IntentKinds = INTENT_KINDS) -> list[Violation]:
    """Intents make sense together: no address that many sources are translated to is also
    mapped 1:1 to one host (inbound to it would all go there), and each kind's own sense."""
    found = []
    for i, gw in enumerate(plan.gateways):
        path = f"gateways[{i}]"
        shared = {
            address: where for kind in kinds for where, address in kind.shared_sources(gw, path)
        }
        for where, address, _, port in _listeners(gw, path, kinds):
            if port is None and address in shared:
                found.append(
                    Violation(
                        where,
                        RuleId.GATEWAY_INTENT,
                        f"{address} is the SNAT address of {shared[address]}: a 1:1 mapping "
                        "there would take every connection made to it",
                    )
                )
        for kind in kinds:
            found += [Violation(w, RuleId.GATEWAY_INTENT, m) for w, m in kind.sense(gw, path, plan)]
    return found


def check_gateways(
    cfg: StackConfig, plan: Plan, kinds: IntentKinds = INTENT_KINDS
) -> list[Violation]:
    """Gateway addresses, listeners, intents and the derived models (once every reference of
    the config resolves)."""
    found = check_gateway_addresses(plan, kinds) + check_gateway_listeners(plan.gateways, kinds)
    if check_gateway_refs(cfg, kinds):
        return found  # reported by check_config; models need every reference
    found += check_gateway_intents(plan, kinds)
    for model in derive_gateways(plan, kinds):
        found += check_gateway_model(model)
    return found
