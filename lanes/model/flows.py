"""The cells of the reachability matrix and the boxes at their ends: plain data.

``lanes.lab.matrix`` derives them; the intent kinds (``lanes.intents``) make their own, and
``lanes.lab.crossaz`` the cells between AZs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "PROBE_PORT",
    "DEPLOY",
    "L2_KINDS",
    "Flow",
    "Expect",
    "Mode",
    "Deploy",
    "Party",
    "PartyRole",
]

PROBE_PORT = 7907
DEPLOY = "deploy"
# Cells that are no TCP connection: an ARP request, a broadcast datagram (lanes.lab.crossaz).
L2_KINDS = ("arp", "broadcast")

# lan, routed, inbound, and the name of each intent kind that makes flows (egress, mapping, ...)
FlowKind = str
Expect = Literal["reach", "blocked"]
Mode = Literal["tcp", "http"]
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
    expect: Expect
    seen: str | None
    mode: Mode = field(default="tcp", compare=False)
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
