"""The concrete NAT and proxy model of each gateway, derived from the plan and the gateway intents.

Nothing here is written by hand in the config: interfaces come from the gateway host's NICs,
egress sources from the AZ blocks, inside addresses from the inventory. Each intent kind of the
table (``lanes.intents.kinds``) derives its own entries, resolving names with a ``Deriver``;
this module collects their entries in one model and keeps the SNAT steps in the order the kernel must try
them: the specific ones (ingress replies, exposures, 1:1 mappings) before the general egress
SNAT (seed 000's warning), and no step that leaves for an outside network ever translates a
destination inside 100.64.0.0/10.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from lanes.intents import egress as egress_kind
from lanes.intents.base import (
    Deriver,
    GatewayError,
    Ifname,
    MapEntry,
    SnatStep,
    plain_step,
)
from lanes.intents.egress import EgressSnat as Egress
from lanes.intents.exposure import Exposure
from lanes.intents.ingress import IngressNat
from lanes.intents.kinds import INTENT_KINDS, IntentKinds
from lanes.intents.mapping import AddressMapping
from lanes.intents.proxy import ProxyModel
from lanes.model.plan import PLATFORM_SPACE, Plan

__all__ = [
    "gateway_from_dict",
    "GatewayError",
    "GatewayPaths",
    "Egress",
    "AddressMapping",
    "IngressNat",
    "Exposure",
    "ProxyModel",
    "SnatStep",
    "GatewayModel",
    "Ifname",
    "MapEntry",
    "nat_maps",
    "derive_gateway",
    "derive_gateways",
    "content_hash",
]

TABLE = "lanes"
_ROOT_RE = re.compile(r"^/[A-Za-z0-9_./-]*$")


@dataclass(frozen=True)
class GatewayPaths:
    """Where a gateway's files live, under ``root`` ("/" on a real host, a scratch dir in tests)."""

    root: str = "/"

    def __post_init__(self) -> None:
        # The paths also land in nginx.conf, which has its own quoting: allow only plain paths.
        if not _ROOT_RE.match(self.root):
            raise GatewayError("root", f"{self.root!r} is not an absolute path of [A-Za-z0-9_./-]")

    def _join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    @property
    def conf_dir(self) -> str:
        return self._join("etc", "lanes", "gateway")

    @property
    def ruleset(self) -> str:
        return self._join("etc", "lanes", "gateway", "lanes.nft")

    @property
    def nginx_conf(self) -> str:
        return self._join("etc", "lanes", "gateway", "nginx.conf")

    @property
    def state_dir(self) -> str:
        return self._join("var", "lib", "lanes", "gateway")

    @property
    def applied_listing(self) -> str:
        """``nft list table`` right after the last load: what an unchanged re-apply expects."""
        return self._join("var", "lib", "lanes", "gateway", "ruleset.applied")

    @property
    def nginx_prefix(self) -> str:
        return self._join("var", "lib", "lanes", "gateway", "nginx")

    @property
    def nginx_pid(self) -> str:
        return self._join("var", "lib", "lanes", "gateway", "nginx", "nginx.pid")

    @property
    def nginx_error_log(self) -> str:
        return self._join("var", "lib", "lanes", "gateway", "nginx", "error.log")

    @property
    def sysctl_conf(self) -> str:
        # After the host's 60-lanes.conf, so the gateway's forwarding wins.
        return self._join("etc", "sysctl.d", "61-lanes-gateway.conf")


@dataclass(frozen=True)
class GatewayModel:
    """Everything one gateway host must do, in the order it must do it.

    ``mappings``, ``ingress``, ``exposures`` and ``proxies`` are the entries of those kinds; a
    kind of another table (a test's) keeps its entries in ``intents`` (by its field). Read them
    through ``entries(field)`` to cover both. ``kinds`` is the table that made it: its renderers
    and rules read that one.
    """

    name: str
    host: str
    az: str
    path: str
    interfaces: tuple[tuple[str, str], ...]  # (network, interface), sorted by network
    outside_interfaces: tuple[str, ...]
    mappings: tuple[AddressMapping, ...]
    ingress: tuple[IngressNat, ...]
    exposures: tuple[Exposure, ...]
    proxies: tuple[ProxyModel, ...]
    snat: tuple[SnatStep, ...]
    table: str = TABLE
    intents: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    kinds: IntentKinds = field(default=INTENT_KINDS, compare=False, repr=False)

    @property
    def egress(self) -> tuple[Egress, ...]:
        """The general egress SNATs: each one a postrouting step of its own."""
        return egress_kind.KIND.entries(self)

    def entries(self, field: str) -> tuple[Any, ...]:
        """The entries of the kind whose model field is ``field``."""
        if field in _ATTRIBUTES:
            return getattr(self, field)
        return dict(self.intents).get(field, ())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "host": self.host,
            "az": self.az,
            "table": self.table,
            "interfaces": dict(self.interfaces),
            "outside_interfaces": list(self.outside_interfaces),
        }
        for kind in self.kinds:
            if kind.field:
                out[kind.field] = [e.to_dict() for e in self.entries(kind.field)]
        out["snat"] = [s.to_dict() for s in self.snat]
        return out


# The fields a kind's entries may have of their own (the others go to ``intents``).
_ATTRIBUTES = frozenset(f.name for f in fields(GatewayModel)) - {"intents", "kinds"}


def _with_entries(found: Mapping[str, tuple[Any, ...]]) -> dict[str, Any]:
    """GatewayModel keyword arguments holding the entries of every kind with a field."""
    own = {f: e for f, e in found.items() if f in _ATTRIBUTES}
    return {**own, "intents": tuple((f, e) for f, e in found.items() if f not in _ATTRIBUTES)}


def nat_maps(model: GatewayModel) -> dict[str, list[MapEntry]]:
    """The elements of every map, per map name; one per intent, duplicates kept for the rules."""
    maps: dict[str, list[MapEntry]] = {name: [] for name in model.kinds.nat_maps}
    for kind in model.kinds:
        for name, entries in kind.map_entries(kind.entries(model)).items():
            maps[name] += entries
    return maps


def content_hash(text: str) -> str:
    """sha256 of rendered content: the trigger that re-runs a provisioning step."""
    return hashlib.sha256(text.encode()).hexdigest()


def _snat_steps(found: Mapping[str, tuple[Any, ...]], kinds: IntentKinds) -> tuple[SnatStep, ...]:
    """The postrouting steps in chain order; a step leaving for an outside network exempts
    100.64.0.0/10, the others (exposures toward the adjacency network) translate it on purpose."""
    steps: list[SnatStep] = []
    for kind in kinds.by_rank():
        exempt = PLATFORM_SPACE if kind.snat_exempt else None
        steps += kind.snat_steps(found[kind.name], exempt)
    return tuple(steps)


def derive_gateway(plan: Plan, index: int, kinds: IntentKinds = INTENT_KINDS) -> GatewayModel:
    """The model of ``gateways[index]``, by the intent kinds of ``kinds``. Raises GatewayError
    on a dangling reference."""
    gw = plan.gateways[index]
    d = Deriver(plan, gw, f"gateways[{index}]")
    interfaces = d.interfaces()
    outside = {net.name for net in plan.outside}
    found = {kind.name: kind.derive(d, gw, d.path) for kind in kinds}
    return GatewayModel(
        name=gw.name,
        host=d.host.name,
        az=d.host.az,
        path=d.path,
        interfaces=interfaces,
        outside_interfaces=tuple(sorted({i for n, i in interfaces if n in outside})),
        snat=_snat_steps(found, kinds),
        kinds=kinds,
        **_with_entries({k.field: found[k.name] for k in kinds if k.field}),
    )


def derive_gateways(plan: Plan, kinds: IntentKinds = INTENT_KINDS) -> list[GatewayModel]:
    """Models of the gateways whose host is in the stack's AZ, sorted by name."""
    models = [
        derive_gateway(plan, i, kinds)
        for i, gw in enumerate(plan.gateways)
        if (host := plan.host(gw.host)) is not None and host.az == plan.az
    ]
    return sorted(models, key=lambda m: m.name)


def _snat_from_dicts(
    steps: Iterable[Mapping[str, Any]], path: str, kinds: IntentKinds
) -> tuple[SnatStep, ...]:
    seen: dict[str, int] = {}
    result = []
    for step in steps:
        index = seen[step["kind"]] = seen.get(step["kind"], -1) + 1
        kind = kinds.step_kind(step["kind"])
        result.append(kind.step_from_dict(step, path, index) if kind else plain_step(step))
    return tuple(result)


def gateway_from_dict(
    props: Mapping[str, Any], path: str, kinds: IntentKinds = INTENT_KINDS
) -> GatewayModel:
    """``GatewayModel.to_dict`` back into the model (each kind reads its own entries); ``path``
    names it in violations."""
    return GatewayModel(
        name=props["name"],
        host=props["host"],
        az=props.get("az") or "",
        path=path,
        interfaces=tuple(sorted((props.get("interfaces") or {}).items())),
        outside_interfaces=tuple(props.get("outside_interfaces") or ()),
        snat=_snat_from_dicts(props.get("snat") or (), path, kinds),
        kinds=kinds,
        **_with_entries(
            {k.field: k.from_dicts(props.get(k.field) or (), path) for k in kinds if k.field}
        ),
    )
