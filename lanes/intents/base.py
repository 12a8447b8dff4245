"""What a gateway intent kind is (``IntentKind``) and the pieces every kind shares.

A kind is one module of ``lanes.intents``: its derivation into NAT or proxy entries, its
contributions to the nftables ruleset and the nginx config, its rules and its lab flows, behind
the hooks below (its config model is written out with the others in ``lanes.config.gateway``).
Every hook has a default that contributes nothing, so a kind overrides only what it does. The
gateway model, the renderers, the rules and the lab iterate over a table of kinds
(``lanes.intents.kinds``) and never name one.

What a hook needs comes in through its arguments: the plan's lookups (a ``Deriver``), the
inventory (a ``RefCheck``), and from the layers above, as the protocols they fulfil, the
gateway's model (``GatewayView``) and the lab's matrix (``PartyMaker``, ``MatrixView``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Protocol

from netaddr import IPAddress, IPNetwork

from lanes.config import Gateway, StackConfig
from lanes.config.host import Role
from lanes.config.kinds import NetworkKinds
from lanes.model.flows import Deploy, Flow, PartyRole
from lanes.model.hostnet import HostNet, device_for
from lanes.model.plan import PLATFORM_SPACE, HostPlan, Plan

__all__ = [
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
    "host_addresses",
    "Deriver",
    "RefCheck",
    "GatewayView",
    "PartyMaker",
    "MatrixView",
    "IntentKind",
    "optional_net",
    "plain_step",
]


class Finding(NamedTuple):
    """A broken reference of an intent: where in the config, and what is wrong."""

    path: str
    message: str


class OwnAddress(NamedTuple):
    """An address an intent claims as the gateway's own (``network`` None: any of its host's)."""

    path: str
    address: str
    network: str | None


class Listener(NamedTuple):
    """What an intent answers on the gateway (``port`` None: every port of the address)."""

    path: str
    address: str
    protocol: str
    port: int | None


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


def host_addresses(host: HostPlan, network: str) -> list[IPAddress]:
    """Every address ``host`` holds in ``network``, in plan order."""
    return [a.address for a in host.addresses if a.network == network]


class Deriver:
    """Resolves the names of one gateway's intents against the plan for the kinds' ``derive``;
    errors name the config path."""

    # What no SNAT toward an outside network ever translates (the platform's own space).
    exempt = PLATFORM_SPACE

    def __init__(self, plan: Plan, gw: Gateway, path: str):
        self.plan = plan
        self.kinds = plan.kinds
        self.gw = gw
        self.path = path
        host = plan.host(gw.host)
        if host is None:
            raise GatewayError(f"{path}.host", f"{gw.host} is not a host")
        self.host = host

    def iface(self, network: str, path: str) -> str:
        """The gateway host's interface in ``network``."""
        name = device_for(self.host, network, self.plan)
        if name is None:
            raise GatewayError(path, f"no NIC of {self.host.name} carries {network}")
        return name

    def own(self, network: str, path: str) -> IPAddress:
        """The gateway host's first address in ``network``."""
        found = host_addresses(self.host, network)
        if not found:
            raise GatewayError(path, f"{self.host.name} has no address in {network}")
        return found[0]

    def peer(self, name: str, network: str, path: str) -> IPAddress:
        """Host ``name``'s first address in ``network``."""
        other = self.plan.host(name)
        if other is None:
            raise GatewayError(path, f"{name} is not a host")
        found = host_addresses(other, network)
        if not found:
            raise GatewayError(path, f"{name} has no {network} address")
        return found[0]

    def interfaces(self) -> tuple[tuple[str, str], ...]:
        nets = sorted(self.host.networks)
        return tuple((n, self.iface(n, f"{self.host.path}.nics")) for n in nets)


class RefCheck:
    """What the intent kinds check their references against: the inventory and the networks.
    Each method returns the findings of one reference, none when it holds."""

    def __init__(self, cfg: StackConfig):
        self.hosts = {h.name: h for h in cfg.hosts}
        self.kinds: NetworkKinds = cfg.networks.KINDS
        self.platform = set(self.kinds.names)
        self.outside = {net.name for net in cfg.outside}

    def host(self, name: str, path: str, role: Role | None = None) -> list[Finding]:
        host = self.hosts.get(name)
        if host is None:
            return [Finding(path, f"{name} is not a host")]
        if role is not None and host.role != role:
            return [Finding(path, f"{name} has role {host.role}, not {role}")]
        return []

    def platform_network(self, name: str, path: str) -> list[Finding]:
        return [] if name in self.platform else [Finding(path, f"{name} is not a platform network")]

    def outside_network(self, name: str, path: str) -> list[Finding]:
        return [] if name in self.outside else [Finding(path, f"{name} is not an outside network")]

    def any_network(self, name: str, path: str) -> list[Finding]:
        known = self.platform | self.outside
        return [] if name in known else [Finding(path, f"{name} is not a network")]

    def carried(self, host: str, network: str, path: str) -> list[Finding]:
        """The host (when it exists) has a NIC on ``network``: an intent's leg needs one."""
        found = self.hosts.get(host)
        if found is None or network in found.networks:
            return []
        return [Finding(path, f"no NIC of {host} carries {network}")]


class GatewayView(Protocol):
    """A gateway's model as the kinds read it (``lanes.intents.gateway.GatewayModel``)."""

    @property
    def name(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def snat(self) -> tuple[SnatStep, ...]: ...

    def entries(self, field: str) -> tuple[Any, ...]: ...


class PartyMaker(Protocol):
    """Where the kinds add the outside boxes of their intents (``lanes.lab.matrix``)."""

    @property
    def models(self) -> Iterable[GatewayView]: ...

    def holding(self, model: GatewayView, address: IPAddress) -> str | None: ...

    def add(
        self,
        name: str,
        role: PartyRole,
        model: GatewayView,
        network: str | None,
        address: IPAddress | str,
        path: str,
    ) -> None: ...

    def client(self, network: str | None, model: GatewayView, path: str) -> None: ...


class MatrixView(Protocol):
    """What the kinds derive their cells of the reachability matrix from (``lanes.lab.matrix``)."""

    @property
    def plan(self) -> Plan: ...

    @property
    def nets(self) -> Mapping[str, HostNet]: ...

    @property
    def ends(self) -> list[HostNet]: ...

    @property
    def models(self) -> Iterable[GatewayView]: ...

    @property
    def deploy(self) -> Deploy | None: ...

    def holding(self, host: str, address: IPAddress) -> str | None: ...

    def first_address(self, host: str, network: str) -> str | None: ...

    def end_at(
        self, network: str | None, address: IPAddress | str, parties: bool = True
    ) -> str | None: ...

    def client_in(self, network: str | None) -> str | None: ...

    def leaves_as(self, source: str | None) -> str | None: ...

    def platform_network(self, address: IPAddress) -> str: ...

    def is_platform_network(self, network: str) -> bool: ...

    def in_platform_space(self, address: IPAddress) -> bool: ...


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

    # --- the gateway model (lanes.intents.gateway) ----------------------------------------------

    def derive(self, d: Deriver, gw: Gateway, path: str) -> tuple[Any, ...]:
        """The entries of ``gw``'s intents of this kind (``path`` is the gateway's)."""
        return ()

    def entries(self, model: GatewayView) -> tuple[Any, ...]:
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

    def own_addresses(self, gw: Gateway, path: str, kinds: NetworkKinds) -> Iterator[OwnAddress]:
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

    def parties(self, make: PartyMaker, model: GatewayView) -> None:
        """Add the outside boxes its intents talk to (servers: balancers, upstreams, services)."""

    def clients(self, make: PartyMaker, model: GatewayView) -> None:
        """Add the outside clients its intents serve (after every kind's servers)."""

    def flows(self, view: MatrixView) -> list[Flow]:
        """Its cells of the reachability matrix."""
        return []
