"""Network kinds: one row per platform network, the one table every other module reads.

A row says what a kind of network is to lanes: its config key, what it carries, the routing
table its addresses answer from on a host, where it ranks for a host's main default route,
whether it may share a NIC or be granted to a tenant, whether exposures live in it, the zones
it is split in, the ComponentResource it is declared as, and its column in the plan table.
The config schema, the planner, the host model, the rules, the renderers, the components and
the policy pack read these rows; none of them lists network names of its own. Adding a kind is
one ``register`` call (a test registers a fifth one and sees it planned, rendered, checked and
declared).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "NetworkKind",
    "KindError",
    "register",
    "unregister",
    "kinds",
    "kind",
    "names",
    "default_order",
    "shareable",
    "grantable",
    "exposure_network",
    "component_type",
    "PLATFORM_NETWORKS",
    "TABLES",
    "DEFAULT_ORDER",
    "COLOURS",
    "MANAGEMENT_ZONES",
    "TABLE_RANGE",
]

# Routing table ids lanes may take: above the ids distributions use by hand, below the
# kernel's own (253 default, 254 main, 255 local).
TABLE_RANGE = (100, 252)

# Seed 000's management zones, in order; the last holds no AZ block.
MANAGEMENT_ZONES: tuple[str, ...] = (
    "cloud-management",
    "k8s-nodes",
    "enterprise-mapping",
    "reserved",
)


class KindError(ValueError):
    """A network kind that cannot be registered (a name or table id already taken)."""


@dataclass(frozen=True)
class NetworkKind:
    """One kind of platform network."""

    name: str  # config key under ``networks`` and the plan's name for it
    carries: str  # what the network is for (docs, schema descriptions)
    table: int  # routing table of its addresses on every host (``ip rule from <addr>``)
    default_rank: int  # lower ranks hold a host's main default route first
    component: str  # the ComponentResource class: type token ``lanes:network:<component>``
    heading: str  # its column in the plan's host table
    shares_nic: bool = False  # may share one NIC with the other sharing kinds (as VLANs)
    grantable: bool = False  # a tenant may be granted egress to it
    exposures: bool = False  # exposure addresses (published services) live in it
    zones: tuple[str, ...] = ()  # the zones a zoned network of this kind has, in order
    colour: str = "#4a4a4a"  # how the report draws it

    @property
    def type_token(self) -> str:
        return f"lanes:network:{self.component}"


_KINDS: dict[str, NetworkKind] = {}


def register(new: NetworkKind) -> NetworkKind:
    """Add a kind after the registered ones; its name, table and component must be new."""
    low, high = TABLE_RANGE
    if not low <= new.table <= high:
        raise KindError(f"{new.name}: table {new.table} is outside {low}..{high}")
    for old in _KINDS.values():
        if new.name == old.name or new.table == old.table or new.component == old.component:
            raise KindError(f"{new.name}: name, table or component already taken by {old.name}")
    _KINDS[new.name] = new
    return new


def unregister(name: str) -> None:
    """Remove a kind (tests that register one of their own)."""
    _KINDS.pop(name, None)


def kinds() -> tuple[NetworkKind, ...]:
    """Every kind, in the order plans and tables list them."""
    return tuple(_KINDS.values())


def kind(name: str) -> NetworkKind | None:
    return _KINDS.get(name)


def names() -> tuple[str, ...]:
    return tuple(_KINDS)


def default_order() -> tuple[str, ...]:
    """Kinds by default-route rank: the first one a host carries holds its main default."""
    return tuple(k.name for k in sorted(_KINDS.values(), key=lambda k: (k.default_rank, k.name)))


def shareable() -> frozenset[str]:
    return frozenset(k.name for k in _KINDS.values() if k.shares_nic)


def grantable() -> tuple[str, ...]:
    return tuple(k.name for k in _KINDS.values() if k.grantable)


def exposure_network() -> str:
    """The network exposures are published in (the adjacency network)."""
    return next(k.name for k in _KINDS.values() if k.exposures)


def component_type(name: str) -> str:
    """The type token of a network's component."""
    return _KINDS[name].type_token


class _Names(Sequence[str]):
    """The registered names, read at every use (a kind registered later shows up)."""

    def __getitem__(self, index):  # type: ignore[override]
        return names()[index]

    def __len__(self) -> int:
        return len(_KINDS)

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __contains__(self, value: object) -> bool:
        return value in _KINDS

    def __repr__(self) -> str:
        return repr(names())


class _DefaultOrder(_Names):
    def __getitem__(self, index):  # type: ignore[override]
        return default_order()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(default_order())


class _Tables(Mapping[str, int]):
    """network -> routing table id, read at every use."""

    def __getitem__(self, name: str) -> int:
        return _KINDS[name].table

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __len__(self) -> int:
        return len(_KINDS)

    def __repr__(self) -> str:
        return repr({k.name: k.table for k in _KINDS.values()})


class _Colours(_Tables):
    """network -> the report's colour, read at every use."""

    def __getitem__(self, name: str) -> str:  # type: ignore[override]
        return _KINDS[name].colour

    def __repr__(self) -> str:
        return repr({k.name: k.colour for k in _KINDS.values()})


# Live views for the modules that iterate names or look rows up.
PLATFORM_NETWORKS: Sequence[str] = _Names()
DEFAULT_ORDER: Sequence[str] = _DefaultOrder()
TABLES: Mapping[str, int] = _Tables()
COLOURS: Mapping[str, str] = _Colours()  # type: ignore[assignment]

# The four networks of seed 000 (brief: "The networks"). Table ids are fixed so adding a
# network or a host never renumbers one; 253..255 are the kernel's.
register(
    NetworkKind(
        "management",
        "API server, etcd, kubelet, registry, git, monitoring, ops consoles",
        table=101,
        default_rank=1,
        component="ManagementNetwork",
        heading="management",
        colour="#2f6fb0",
        grantable=True,
        zones=MANAGEMENT_ZONES,
    )
)
register(
    NetworkKind(
        "traffic",
        "pod east-west and north-south, ingress and egress",
        table=102,
        default_rank=0,  # pods' egress leaves on the traffic address
        component="TrafficNetwork",
        heading="traffic",
        colour="#2e8b57",
        shares_nic=True,
    )
)
register(
    NetworkKind(
        "storage",
        "hosts and pods to block, file and object storage, databases, caches",
        table=103,
        default_rank=2,
        component="StorageNetwork",
        heading="storage",
        colour="#c0712b",
        shares_nic=True,
        grantable=True,
    )
)
register(
    NetworkKind(
        "adjacency",
        "neutral transit: exposure addresses and NAT pairs between overlapping networks",
        table=104,
        default_rank=3,
        component="AdjacencyNetwork",
        heading="adjacency",
        colour="#7b4fa6",
        exposures=True,  # granted by exposure name, never as a network
    )
)
