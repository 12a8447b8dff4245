"""The cells of the reachability matrix and the boxes at their ends: plain data, no lanes imports.

``lanes.lab.matrix`` derives them; the intent kinds (``lanes.intents``) make their own, so this
module is light enough for them to import while the config schema loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from netaddr import IPAddress, IPNetwork

if TYPE_CHECKING:
    from lanes.model.hostnet import HostNet

__all__ = [
    "PROBE_PORT",
    "DEPLOY",
    "L2_KINDS",
    "Flow",
    "Deploy",
    "Party",
    "source_address",
]

PROBE_PORT = 7907
DEPLOY = "deploy"
# Cells that are no TCP connection: an ARP request, a broadcast datagram (lanes.lab.crossaz).
L2_KINDS = ("arp", "broadcast")

# lan, routed, inbound, and the name of each intent kind that makes flows (egress, mapping, ...)
FlowKind = str
PartyRole = Literal["balancer", "upstream", "service", "client"]


@dataclass(frozen=True, order=True)
class Flow:
    """One probe: ``source`` namespace connects to ``address``:``port``.

    ``seen`` is the client address the receiver must report (None: a connection is enough, the
    service is not the lab's probe server). ``served`` is the port the receiver listens on when a
    gateway translates ``port`` (0: ``port`` itself); ``mode`` "http" for an L7 proxy's upstream.
    ``l2`` (the ``L2_KINDS``): the sender's device and address the request or broadcast leaves
    from; the answer is the target's ARP reply, or the broadcast as the target heard it.
    """

    kind: FlowKind
    source: str
    target: str
    network: str
    address: str
    port: int
    expect: Literal["reach", "blocked"]
    seen: str | None
    mode: Literal["tcp", "http"] = field(default="tcp", compare=False)
    served: int = field(default=0, compare=False)
    l2: tuple[str, str] | None = field(default=None, compare=False)

    @property
    def target_port(self) -> int:
        return self.served or self.port

    def cell(self) -> str:
        return f"{self.source} -> {self.target} {self.network} {self.where}"

    @property
    def where(self) -> str:
        """``address:port``; an ARP cell's address alone."""
        return f"{self.address}:{self.port}" if self.port else self.address

    def to_dict(self) -> dict[str, Any]:
        l2 = {"device": self.l2[0], "from": self.l2[1]} if self.l2 else {}
        return l2 | {
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "network": self.network,
            "address": self.address,
            "port": self.port,
            "expect": self.expect,
            "seen": self.seen,
            "mode": self.mode,
            "target_port": self.target_port,
        }


@dataclass(frozen=True)
class Deploy:
    """The box Pulumi runs on, on an outside network: address, prefix, and its way inside."""

    network: str
    address: str
    prefixlen: int
    gateway: str  # the gateway host's first address on that network


@dataclass(frozen=True, order=True)
class Party:
    """A box outside the platform that a gateway intent talks to, in a lab namespace of its own."""

    name: str
    role: PartyRole
    network: str
    address: str
    prefixlen: int
    gateway: str  # the gateway host's first address on that network: its way inside
    path: str  # the intent it stands in for


def source_address(net: HostNet, destination: str) -> str | None:
    """The source the kernel picks for a connection the host opens: the main table's best route.

    Connected routes (each address's prefix) count as the kernel adds them; a route without an
    explicit source takes the first address of its device. None when no route matches.
    """
    dest = IPAddress(destination)
    candidates: list[tuple[int, str]] = []
    for a in net.addresses:
        if dest in IPNetwork(a.cidr).cidr:
            candidates.append((IPNetwork(a.cidr).prefixlen, a.address))
    for r in net.routes:
        if r.table != 254:
            continue
        to = IPNetwork("0.0.0.0/0") if r.to == "default" else IPNetwork(r.to)
        if dest in to:
            own = r.source or next((a.address for a in net.addresses_of(r.device)), None)
            if own is not None:
                candidates.append((to.prefixlen, own))
    if not candidates:
        return None
    best = max(c[0] for c in candidates)
    return next(c[1] for c in candidates if c[0] == best)
