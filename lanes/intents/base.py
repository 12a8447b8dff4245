"""What a gateway intent kind is (``IntentKind``) and the pieces every kind shares.

A kind is one module of ``lanes.intents``: its config model, its derivation into NAT or proxy
entries, its contributions to the nftables ruleset and the nginx config, its rules and its lab
flows, behind the hooks below. Every hook has a default that contributes nothing, so a kind
overrides only what it does. The gateway model, the renderers, the rules and the lab iterate
over the registered kinds (``lanes.intents.registry``) and never name one.

This module imports nothing of lanes: the config schema reads the kinds while it loads, so the
kind modules import only this, ``lanes.config.base``, ``lanes.config.kinds`` and ``lanes.model.flows``;
everything else a hook needs comes in through its arguments (a ``Deriver``, a ``RefCheck``, a
``PartyMaker``, a ``MatrixView``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from netaddr import IPAddress, IPNetwork
from pydantic import Field

if TYPE_CHECKING:
    from lanes.config.gateway import Gateway
    from lanes.intents.gateway import Deriver, GatewayModel
    from lanes.lab.matrix import MatrixView, PartyMaker
    from lanes.model.flows import Flow
    from lanes.model.plan import Plan
    from lanes.rules.gateways import RefCheck

__all__ = [
    "Port",
    "GatewayError",
    "Ifname",
    "nft_value",
    "exempt_match",
    "MapEntry",
    "SnatStep",
    "NginxBlock",
    "Finding",
    "OwnAddress",
    "Listener",
    "IntentKind",
    "optional_net",
    "plain_step",
]

Port = Annotated[int, Field(ge=1, le=65535)]

Finding = tuple[str, str]  # (config path, message) of a broken reference
OwnAddress = tuple[str, str, str | None]  # (path, address, network; None: any of the host's)
Listener = tuple[str, str, str, int | None]  # (path, address, protocol, port; None: every port)


class GatewayError(ValueError):
    """A gateway intent cannot be derived; rules.check_gateway_refs reports these first."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class Ifname(str):
    """An interface name inside a map key (nft writes it quoted)."""


def nft_value(part: Any) -> str:
    """One value as nft writes it: interface names quoted, the rest as they print."""
    return f'"{part}"' if isinstance(part, Ifname) else str(part)


def optional_net(value: Any) -> IPNetwork | None:
    return IPNetwork(value) if value else None


@dataclass(frozen=True, order=True)
class MapEntry:
    """One element of an nft map: key parts -> value parts; ``path`` is the intent it comes from."""

    key: tuple[Any, ...]
    value: tuple[Any, ...]
    path: str


@dataclass(frozen=True)
class SnatStep:
    """One step of the postrouting chain; ``exempt`` destinations are never translated.

    ``kind`` is the step kind of the intent kind that makes it (``IntentKind.snat``); ``egress``
    holds the rule of a step that carries its own (the general egress SNAT, one step each).
    """

    kind: str
    exempt: IPNetwork | None
    egress: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "exempt": str(self.exempt) if self.exempt else None,
        }
        if self.egress is not None:
            out["egress"] = self.egress.to_dict()
        return out


def plain_step(step: Mapping[str, Any]) -> SnatStep:
    """``SnatStep.to_dict`` of a step that carries no rule of its own, back into the step."""
    return SnatStep(step["kind"], optional_net(step.get("exempt")))


def exempt_match(step: SnatStep) -> str:
    """The nft match that keeps a step's exempt destinations untranslated ("" when none)."""
    return f"ip daddr != {step.exempt} " if step.exempt is not None else ""


@dataclass(frozen=True)
class NginxBlock:
    """An nginx block (``server``, ``location /``): directives and nested blocks, in order."""

    name: str
    body: tuple[str | NginxBlock, ...]
    comment: str = ""


class IntentKind:
    """One kind of gateway intent. Class attributes say what it is; the hooks, grouped by the
    module that calls them, say what it contributes (the defaults contribute nothing)."""

    name: ClassVar[str]
    # Keys of the gateway's config it owns: key -> the pydantic type of its list.
    config: ClassVar[Mapping[str, Any]] = {}
    # The GatewayModel attribute and ``to_dict`` key of its entries (None: kept in the SNAT steps).
    field: ClassVar[str | None] = None
    # Its place in postrouting and forward: lower first, the specific SNATs before the general.
    rank: ClassVar[int] = 50
    snat: ClassVar[str | None] = None  # the kind of its SNAT steps, if it translates sources
    snat_exempt: ClassVar[bool] = False  # its SNAT leaves for an outside network: exempt 100.64/10
    snat_general: ClassVar[bool] = False  # the catch-all SNAT: every specific step goes first
    nat_maps: ClassVar[Mapping[str, tuple[str, str]]] = {}  # nft map -> (key type, value type)

    # --- the gateway model (lanes.intents.gateway) ---------------------------------------------------

    def derive(self, d: Deriver, gw: Gateway, path: str) -> tuple[Any, ...]:
        """The entries of ``gw``'s intents of this kind (``path`` is the gateway's)."""
        return ()

    def entries(self, model: GatewayModel) -> tuple[Any, ...]:
        """The kind's entries in a model."""
        return model.entries(self.field) if self.field else ()

    def snat_steps(self, entries: tuple[Any, ...], exempt: IPNetwork | None) -> list[SnatStep]:
        """Its postrouting steps: by default one for all its entries (they share its maps)."""
        return [SnatStep(self.snat, exempt)] if self.snat and entries else []

    def from_dicts(self, entries: Iterable[Mapping[str, Any]], path: str) -> tuple[Any, ...]:
        """``to_dict`` of its entries back into entries; ``path`` is the gateway's."""
        return ()

    def step_from_dict(self, step: Mapping[str, Any], path: str, index: int) -> SnatStep:
        """``SnatStep.to_dict`` back into the step; ``index`` counts its earlier steps."""
        return plain_step(step)

    # --- rendering (lanes.render.nftables, lanes.render.nginx) ---------------------------------

    def map_entries(self, entries: tuple[Any, ...]) -> dict[str, list[MapEntry]]:
        """The elements of its nft maps, one per intent (duplicates kept for the rules)."""
        return {}

    def prerouting(self, entries: tuple[Any, ...]) -> list[str]:
        """Its DNAT rules (called only when it has entries)."""
        return []

    def postrouting(self, step: SnatStep) -> str:
        """The SNAT rule of one of its steps."""
        raise NotImplementedError(f"{self.name} makes no SNAT step")

    def forward(self, entries: tuple[Any, ...]) -> list[str]:
        """What it lets out to an outside network (called only when it has entries)."""
        return []

    def nginx(self, entries: tuple[Any, ...]) -> dict[str, list[NginxBlock]]:
        """nginx servers per context ("stream", "http")."""
        return {}

    # --- rules (lanes.rules.gateways) ----------------------------------------------------------

    def refs(self, gw: Gateway, path: str, check: RefCheck) -> Iterator[Finding]:
        """Hosts and networks its intents name that do not exist or have the wrong kind."""
        return iter(())

    def own_addresses(self, gw: Gateway, path: str) -> Iterator[OwnAddress]:
        """Every address its intents claim as the gateway's own."""
        return iter(())

    def listeners(self, gw: Gateway, path: str) -> Iterator[Listener]:
        """What its intents answer on the gateway."""
        return iter(())

    def shared_sources(self, gw: Gateway, path: str) -> Iterator[tuple[str, str]]:
        """(path, address) of the addresses its intents translate many sources to."""
        return iter(())

    def sense(self, gw: Gateway, path: str, plan: Plan) -> Iterator[Finding]:
        """Intents whose addresses do not make sense together (a target that is the gateway
        itself, a balancer that is its own front), reported as ``gateway-intent``."""
        return iter(())

    # --- the lab (lanes.lab.matrix) ------------------------------------------------------------

    def deploy_network(self, gw: Gateway) -> str | None:
        """The outside network the deploy box sits on, if its intents decide it."""
        return None

    def leaves_as(self, entries: tuple[Any, ...], source: IPAddress) -> IPAddress | None:
        """The address a connection from ``source`` to an outside box leaves as, if it SNATs it."""
        return None

    def parties(self, make: PartyMaker, model: GatewayModel) -> None:
        """Add the outside boxes its intents talk to (servers: balancers, upstreams, services)."""

    def clients(self, make: PartyMaker, model: GatewayModel) -> None:
        """Add the outside clients its intents serve (after every kind's servers)."""

    def flows(self, view: MatrixView) -> list[Flow]:
        """Its cells of the reachability matrix."""
        return []
