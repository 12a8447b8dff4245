"""Ingress routes (seed 000): the front load balancer sends to front address N, the gateway DNATs
it to ingress node N and SNATs the node's replies back to the front address, before any egress
SNAT (the most specific step of postrouting)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from netaddr import IPAddress

from lanes.config.gateway import Gateway, IngressRoute
from lanes.config.kinds import NetworkKinds
from lanes.intents.base import (
    Deriver,
    Finding,
    GatewayView,
    IntentKind,
    Listener,
    MapEntry,
    MatrixView,
    OwnAddress,
    PartyMaker,
    RefCheck,
    SnatStep,
    exempt_match,
)
from lanes.model.flows import DEPLOY, PROBE_PORT, Expect, Flow
from lanes.model.hostnet import source_address
from lanes.model.plan import Plan

__all__ = ["IngressNat", "KIND"]


@dataclass(frozen=True, order=True)
class IngressNat:
    """``balancer`` -> ``front``:port becomes -> ``node``:port; ``node`` -> ``balancer`` leaves as ``front``."""

    balancer: IPAddress
    front: IPAddress
    port: int
    node: IPAddress
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "balancer": str(self.balancer),
            "front": str(self.front),
            "port": self.port,
            "node": str(self.node),
        }


class IngressKind(IntentKind):
    name = "ingress"
    config = {"ingress": list[IngressRoute]}
    field = "ingress"
    rank = 10
    snat = "ingress-reply"
    nat_maps = {
        "ingress_dnat": ("ipv4_addr . ipv4_addr . inet_service", "ipv4_addr"),
        "ingress_snat": ("ipv4_addr . ipv4_addr", "ipv4_addr"),
    }

    def derive(self, d: Deriver, gw: Gateway, path: str) -> tuple[IngressNat, ...]:
        return tuple(
            sorted(
                IngressNat(
                    IPAddress(r.balancer),
                    IPAddress(r.front),
                    port,
                    d.peer(r.node, d.kinds.pods_network, f"{path}.ingress[{j}].node"),
                    f"{path}.ingress[{j}]",
                )
                for j, r in enumerate(gw.ingress)
                for port in sorted(r.ports)
            )
        )

    def from_dicts(self, entries: Iterable[Mapping[str, Any]], path: str) -> tuple[Any, ...]:
        # One route of the config gives one entry per port, in order: entries of the same
        # (balancer, front, node) share the route's index, as derive numbers them.
        routes: dict[tuple[str, str, str], int] = {}
        result = []
        for i in entries:
            j = routes.setdefault((i["balancer"], i["front"], i["node"]), len(routes))
            result.append(
                IngressNat(
                    IPAddress(i["balancer"]),
                    IPAddress(i["front"]),
                    int(i["port"]),
                    IPAddress(i["node"]),
                    f"{path}.ingress[{j}]",
                )
            )
        return tuple(result)

    def map_entries(self, entries: tuple[Any, ...]) -> dict[str, list[MapEntry]]:
        return {
            "ingress_dnat": [
                MapEntry((i.balancer, i.front, i.port), (i.node,), i.path) for i in entries
            ],
            "ingress_snat": [MapEntry((i.node, i.balancer), (i.front,), i.path) for i in entries],
        }

    def prerouting(self, entries: tuple[Any, ...]) -> list[str]:
        return ["dnat ip to ip saddr . ip daddr . tcp dport map @ingress_dnat"]

    def postrouting(self, step: SnatStep) -> str:
        return f"{exempt_match(step)}snat ip to ip saddr . ip daddr map @ingress_snat"

    def forward(self, entries: tuple[Any, ...]) -> list[str]:
        return ["ip saddr . ip daddr @ingress_snat accept"]

    def refs(self, gw: Gateway, path: str, check: RefCheck) -> Iterator[Finding]:
        for j, r in enumerate(gw.ingress):
            yield from check.host(r.node, f"{path}.ingress[{j}].node", role="ingress")
            yield from check.outside_network(r.network, f"{path}.ingress[{j}].network")

    def own_addresses(self, gw: Gateway, path: str, kinds: NetworkKinds) -> Iterator[OwnAddress]:
        for j, r in enumerate(gw.ingress):
            yield OwnAddress(f"{path}.ingress[{j}].front", r.front, r.network)

    def sense(self, gw: Gateway, path: str, plan: Plan) -> Iterator[Finding]:
        for j, r in enumerate(gw.ingress):
            if r.balancer == r.front:
                yield Finding(
                    f"{path}.ingress[{j}].balancer",
                    f"{r.balancer} is the route's own front address: the balancer is the client "
                    "sending to the front, never the front itself",
                )

    def listeners(self, gw: Gateway, path: str) -> Iterator[Listener]:
        for j, r in enumerate(gw.ingress):
            for port in dict.fromkeys(r.ports):  # a port listed twice is duplicate-entry's
                yield Listener(f"{path}.ingress[{j}].front", r.front, "tcp", port)

    def parties(self, make: PartyMaker, model: GatewayView) -> None:
        """The front load balancers: ``<gateway>-lb``, then ``-lb2``... for further ones."""
        entries = self.entries(model)
        balancers = sorted({(i.balancer, i.front, i.path) for i in entries})
        distinct = sorted({b for b, _, _ in balancers})
        for balancer, front, path in balancers:
            k = distinct.index(balancer)
            name = f"{model.name}-lb" + (f"{k + 1}" if k else "")
            make.add(name, "balancer", model, make.holding(model, front), balancer, path)

    def flows(self, view: MatrixView) -> list[Flow]:
        """The balancer to each front address and port reaches the node, which sees the
        balancer; the deploy box to the same: blocked; the node to the balancer: seen as the
        front address (the reply SNAT goes before the general egress SNAT)."""
        deploy = view.deploy
        flows = []
        for m in view.models:
            for i in self.entries(m):
                network = view.holding(m.host, i.front)
                balancer = view.end_at(network, i.balancer)
                node = view.end_at(view.plan.kinds.pods_network, i.node, parties=False)
                if balancer is None or node is None or network is None:
                    continue
                front, seen = str(i.front), str(i.balancer)
                flows.append(Flow("ingress", balancer, node, network, front, i.port, "reach", seen))
                if deploy is not None and deploy.network == network and deploy.address != seen:
                    flows.append(
                        Flow("ingress", DEPLOY, node, network, front, i.port, "blocked", None)
                    )
                source = source_address(view.nets[node], seen)
                seen_as = front if source == str(i.node) else view.leaves_as(source)
                expect: Expect = "reach" if seen_as else "blocked"
                flows.append(
                    Flow("ingress", node, balancer, network, seen, PROBE_PORT, expect, seen_as)
                )
        return sorted(set(flows))


KIND = IngressKind()
