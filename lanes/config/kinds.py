"""Network kinds: one row per platform network, in the one table every other module reads.

A row says what a kind of network is to lanes: its config key, what it carries, the routing
table its addresses answer from on a host, where it ranks for a host's main default route,
whether it may share a NIC or be granted to a tenant, which of the platform's lanes it is (the
nodes' own addresses, the pods', the storage the pods reach, the exposures), the zones it is
split in, the ComponentResource it is declared as, and its column in the plan table. The config
schema, the planner, the host model, the rules, the renderers, the components and the policy
pack read these rows; none of them lists network names of its own.

``NETWORK_KINDS`` is the table of seed 000's four networks. It is a plain value: a test that
adds a fifth kind builds a table of its own (``NetworkKinds((*NETWORK_KINDS, backup))``) and
hands it in with a schema that has the kind's key (``lanes.config.Networks.KINDS``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "TABLE_RANGE",
    "MANAGEMENT_ZONES",
    "NODE_ZONE",
    "KindError",
    "NetworkKind",
    "NetworkKinds",
    "NETWORK_KINDS",
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
# The zone of the nodes' network that Kubernetes nodes live in (kubelet's --node-ip).
NODE_ZONE = MANAGEMENT_ZONES[1]


class KindError(ValueError):
    """A table of kinds that cannot be: a name, table id or component taken twice."""


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
    nodes: bool = False  # the nodes' own addresses: kubelet, SSH, the inside of a 1:1 mapping
    pods: bool = False  # the pods' lane: ingress nodes, CNI autodetection, BGP, pods' rules
    storage: bool = False  # storage the pods reach through their node's NAT
    zones: tuple[str, ...] = ()  # the zones a zoned network of this kind has, in order
    colour: str = "#4a4a4a"  # how the report draws it

    @property
    def type_token(self) -> str:
        return f"lanes:network:{self.component}"


# The lanes of the platform, each held by exactly one kind of a table.
_LANES: tuple[tuple[str, Callable[[NetworkKind], bool]], ...] = (
    ("exposures", lambda k: k.exposures),
    ("nodes", lambda k: k.nodes),
    ("pods", lambda k: k.pods),
    ("storage", lambda k: k.storage),
)


@dataclass(frozen=True)
class NetworkKinds:
    """The kinds, in the order plans and tables list them, and the lookups their readers make."""

    rows: tuple[NetworkKind, ...]

    def __post_init__(self) -> None:
        low, high = TABLE_RANGE
        seen: list[NetworkKind] = []
        for new in self.rows:
            if not low <= new.table <= high:
                raise KindError(f"{new.name}: table {new.table} is outside {low}..{high}")
            for old in seen:
                if new.name == old.name or new.table == old.table or new.component == old.component:
                    raise KindError(
                        f"{new.name}: name, table or component already taken by {old.name}"
                    )
            seen.append(new)
        for lane, holds in _LANES:
            holders = [k.name for k in self.rows if holds(k)]
            if len(holders) != 1:
                raise KindError(f"{lane}: one kind holds it, not {', '.join(holders) or 'none'}")

    def __iter__(self) -> Iterator[NetworkKind]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a kind's (a platform network's) name."""
        return name in self.names

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.rows)

    def kind(self, name: str) -> NetworkKind | None:
        return next((k for k in self.rows if k.name == name), None)

    def table(self, name: str) -> int:
        """The routing table of a kind's addresses."""
        found = self.kind(name)
        if found is None:
            raise KeyError(name)
        return found.table

    @functools.cached_property
    def default_order(self) -> tuple[str, ...]:
        """Kinds by default-route rank: the first one a host carries holds its main default."""
        return tuple(k.name for k in sorted(self.rows, key=lambda k: (k.default_rank, k.name)))

    @functools.cached_property
    def shareable(self) -> frozenset[str]:
        return frozenset(k.name for k in self.rows if k.shares_nic)

    @property
    def grantable(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.rows if k.grantable)

    @property
    def grant_text(self) -> str:
        """What a tenant's grant may name, in the words the schema and the grant rule both use:
        ``management (by zone) or storage; never traffic or adjacency (...)``."""
        names = [f"{n} (by zone)" if n == self.nodes_network else n for n in self.grantable]
        never = [k.name for k in self.rows if not k.grantable]
        text = _either(names)
        if never:
            text += (
                f"; never {_either(never)} (an exposure is granted by name: {{exposure: <name>}})"
            )
        return text

    def _holding(self, holds: Callable[[NetworkKind], bool]) -> str:
        return next(k.name for k in self.rows if holds(k))

    @property
    def exposure_network(self) -> str:
        """The network exposures are published in (the adjacency network)."""
        return self._holding(lambda k: k.exposures)

    @property
    def nodes_network(self) -> str:
        """The network of the nodes' own addresses (management)."""
        return self._holding(lambda k: k.nodes)

    @property
    def pods_network(self) -> str:
        """The pods' network (traffic)."""
        return self._holding(lambda k: k.pods)

    @property
    def storage_network(self) -> str:
        """The storage network pods reach through their node (storage)."""
        return self._holding(lambda k: k.storage)


def _either(names: list[str]) -> str:
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names) or "none"


# The four networks of seed 000 (brief: "The networks"). Table ids are fixed so adding a
# network or a host never renumbers one; 253..255 are the kernel's.
NETWORK_KINDS = NetworkKinds(
    (
        NetworkKind(
            "management",
            "API server, etcd, kubelet, registry, git, monitoring, ops consoles",
            table=101,
            default_rank=1,
            component="ManagementNetwork",
            heading="management",
            colour="#2f6fb0",
            grantable=True,
            nodes=True,
            zones=MANAGEMENT_ZONES,
        ),
        NetworkKind(
            "traffic",
            "pod east-west and north-south, ingress and egress",
            table=102,
            default_rank=0,  # pods' egress leaves on the traffic address
            component="TrafficNetwork",
            heading="traffic",
            colour="#2e8b57",
            shares_nic=True,
            pods=True,
        ),
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
            storage=True,
        ),
        NetworkKind(
            "adjacency",
            "neutral transit: exposure addresses and NAT pairs between overlapping networks",
            table=104,
            default_rank=3,
            component="AdjacencyNetwork",
            heading="adjacency",
            colour="#7b4fa6",
            exposures=True,  # granted by exposure name, never as a network
        ),
    )
)
