"""Exposures across overlapping networks (seed 000's vpc-1 / vpc-2): a service published at an
adjacency address by the gateway of its network, consumed at a local address by the gateway of
the consumers' network. Either side DNATs to its target and SNATs to its own address on that leg,
so the target always sees the gateway."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from netaddr import IPAddress

from lanes.config.gateway import Consume, Gateway, Publish
from lanes.config.kinds import NetworkKinds
from lanes.intents.base import (
    Deriver,
    Finding,
    GatewayView,
    Ifname,
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
from lanes.model.flows import Flow
from lanes.model.plan import Plan

__all__ = ["Exposure", "KIND", "consume_points"]


@dataclass(frozen=True, order=True)
class Exposure:
    """A published or consumed service: listen on one leg, DNAT to target, SNAT to our own address.

    Publish (vpc-2 side): listen on the adjacency address, target in the service's network.
    Consume (vpc-1 side): listen on an address of the consumers' network, target the publisher's
    adjacency address. Either way the target sees the gateway's own address on its leg.
    """

    name: str
    role: Literal["publish", "consume"]
    listen_interface: str
    listen: IPAddress
    protocol: str
    port: int
    target: IPAddress
    target_port: int
    target_interface: str
    source: IPAddress
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "listen_interface": self.listen_interface,
            "listen": str(self.listen),
            "protocol": self.protocol,
            "port": self.port,
            "target": str(self.target),
            "target_port": self.target_port,
            "target_interface": self.target_interface,
            "source": str(self.source),
        }


def _publish(d: Deriver, p: Publish, path: str) -> Exposure:
    return Exposure(
        p.name,
        "publish",
        d.iface(d.kinds.exposure_network, path),
        IPAddress(p.at),
        p.protocol,
        p.port,
        IPAddress(p.address),
        p.port,
        d.iface(p.network, f"{path}.network"),
        d.own(p.network, f"{path}.network"),
        path,
    )


def _consume(d: Deriver, c: Consume, path: str) -> Exposure:
    return Exposure(
        c.name,
        "consume",
        d.iface(c.network, f"{path}.network"),
        IPAddress(c.at),
        c.protocol,
        c.port,
        IPAddress(c.target),
        c.port,
        d.iface(d.kinds.exposure_network, path),
        d.own(d.kinds.exposure_network, path),
        path,
    )


def _publishers(models: Iterable[GatewayView]) -> dict[tuple, tuple[GatewayView, Exposure]]:
    return {
        (e.listen, e.port, e.protocol): (m, e)
        for m in models
        for e in KIND.entries(m)
        if e.role == "publish"
    }


class ExposureKind(IntentKind):
    name = "exposure"
    config = {"publish": list[Publish], "consume": list[Consume]}
    field = "exposures"
    rank = 20
    snat = "exposure"  # toward the adjacency network, inside 100.64.0.0/10 on purpose: no exemption
    nat_maps = {
        "exposure_dnat": (
            "ifname . ipv4_addr . inet_proto . inet_service",
            "ipv4_addr . inet_service",
        ),
        "exposure_snat": ("ipv4_addr . ifname", "ipv4_addr"),
    }

    def derive(self, d: Deriver, gw: Gateway, path: str) -> tuple[Exposure, ...]:
        found = [_publish(d, p, f"{path}.publish[{j}]") for j, p in enumerate(gw.publish)]
        found += [_consume(d, c, f"{path}.consume[{j}]") for j, c in enumerate(gw.consume)]
        return tuple(sorted(found))

    def from_dicts(self, entries: Iterable[Mapping[str, Any]], path: str) -> tuple[Any, ...]:
        # Numbered per intent list (publish[j], consume[j]), as derive names them.
        seen: dict[str, int] = {}
        result = []
        for e in entries:
            j = seen[e["role"]] = seen.get(e["role"], -1) + 1
            result.append(
                Exposure(
                    e["name"],
                    e["role"],
                    e["listen_interface"],
                    IPAddress(e["listen"]),
                    e["protocol"],
                    int(e["port"]),
                    IPAddress(e["target"]),
                    int(e["target_port"]),
                    e["target_interface"],
                    IPAddress(e["source"]),
                    f"{path}.{e['role']}[{j}]",
                )
            )
        return tuple(result)

    def map_entries(self, entries: tuple[Any, ...]) -> dict[str, list[MapEntry]]:
        return {
            "exposure_dnat": [
                MapEntry(
                    (Ifname(e.listen_interface), e.listen, e.protocol, e.port),
                    (e.target, e.target_port),
                    e.path,
                )
                for e in entries
            ],
            "exposure_snat": [
                MapEntry((e.listen, Ifname(e.target_interface)), (e.source,), e.path)
                for e in entries
            ],
        }

    def prerouting(self, entries: tuple[Any, ...]) -> list[str]:
        return ["dnat ip to iifname . ip daddr . meta l4proto . th dport map @exposure_dnat"]

    def postrouting(self, step: SnatStep) -> str:
        return (
            f"ct status dnat {exempt_match(step)}snat ip to ct original ip daddr . oifname "
            "map @exposure_snat"
        )

    def refs(self, gw: Gateway, path: str, check: RefCheck) -> Iterator[Finding]:
        # Each leg is a NIC of the gateway's host: the network of the service or the consumers,
        # and the exposure network in between.
        for j, p in enumerate(gw.publish):
            where = f"{path}.publish[{j}].network"
            yield from check.any_network(p.network, where) or check.carried(
                gw.host, p.network, where
            )
            yield from check.carried(
                gw.host, check.kinds.exposure_network, f"{path}.publish[{j}].at"
            )
        for j, c in enumerate(gw.consume):
            where = f"{path}.consume[{j}].network"
            yield from check.any_network(c.network, where) or check.carried(
                gw.host, c.network, where
            )
            yield from check.carried(
                gw.host, check.kinds.exposure_network, f"{path}.consume[{j}].target"
            )

    def sense(self, gw: Gateway, path: str, plan: Plan) -> Iterator[Finding]:
        """A consume's target is a publisher's address in the exposure network, at the same port
        and protocol, and never the consuming gateway itself (it would call itself)."""
        network = plan.network(plan.kinds.exposure_network)
        host = plan.host(gw.host)
        own = {a.address for a in host.addresses} if host else set()
        published = {
            (IPAddress(p.at), p.port, p.protocol) for g in plan.gateways for p in g.publish
        }
        for j, c in enumerate(gw.consume):
            where, target = f"{path}.consume[{j}].target", IPAddress(c.target)
            if target in own or target == IPAddress(c.at):
                yield Finding(
                    where, f"{c.target} is {gw.name}'s own address: the consume would call itself"
                )
            elif network is not None and target not in network.cidr:
                yield Finding(
                    where, f"{c.target} is outside the {network.name} network {network.cidr}"
                )
            elif (target, c.port, c.protocol) not in published:
                yield Finding(
                    where,
                    f"no gateway publishes {c.target}:{c.port}/{c.protocol} (a publish's `at`)",
                )

    def own_addresses(self, gw: Gateway, path: str, kinds: NetworkKinds) -> Iterator[OwnAddress]:
        for j, p in enumerate(gw.publish):
            yield OwnAddress(f"{path}.publish[{j}].at", p.at, kinds.exposure_network)
        for j, c in enumerate(gw.consume):
            yield OwnAddress(f"{path}.consume[{j}].at", c.at, c.network)

    def listeners(self, gw: Gateway, path: str) -> Iterator[Listener]:
        for j, p in enumerate(gw.publish):
            yield Listener(f"{path}.publish[{j}].at", p.at, p.protocol, p.port)
        for j, c in enumerate(gw.consume):
            yield Listener(f"{path}.consume[{j}].at", c.at, c.protocol, c.port)

    def parties(self, make: PartyMaker, model: GatewayView) -> None:
        """A published service in an outside network: a box named after the exposure."""
        for e in self.entries(model):
            if e.role == "publish":
                network = make.holding(model, e.source)
                make.add(e.name, "service", model, network, e.target, e.path)

    def clients(self, make: PartyMaker, model: GatewayView) -> None:
        """A client in the consumers' network of each consumed exposure that is published."""
        publishers = _publishers(make.models)
        for e in self.entries(model):
            if e.role == "consume" and (e.target, e.target_port, e.protocol) in publishers:
                make.client(make.holding(model, e.listen), model, e.path)

    def flows(self, view: MatrixView) -> list[Flow]:
        """Every consumer of a consumed exposure to the consume address reaches the published
        service, which sees the publisher's own address; straight to the publisher: blocked.

        The consumers are the client box of an outside network, or, when the consume listens in
        a platform network, every host of the stack that carries that network (nodes among them:
        their pods' packets leave the same way, see ``lanes.model.hostnet``)."""
        publishers = _publishers(view.models)
        flows = []
        for m in view.models:
            for c in self.entries(m):
                found = publishers.get((c.target, c.target_port, c.protocol))
                if c.role != "consume" or c.protocol != "tcp" or found is None:
                    continue
                pm, pub = found
                service = view.end_at(view.holding(pm.host, pub.source), pub.target)
                network = view.holding(m.host, c.listen)
                if service is None or network is None:
                    continue
                for consumer in _consumers(view, network):
                    flows += _consumer_flows(view, consumer, service, network, c, pub)
        return flows


def _consumers(view: MatrixView, network: str) -> list[str]:
    """Who consumes in ``network``: its hosts (a platform network), else its client box."""
    if view.is_platform_network(network):
        return [n.host for n in view.ends if any(a.network == network for a in n.addresses)]
    client = view.client_in(network)
    return [client] if client is not None else []


def _consumer_flows(
    view: MatrixView, consumer: str, service: str, network: str, c: Exposure, pub: Exposure
) -> list[Flow]:
    served = pub.target_port
    return [
        Flow(
            "exposure",
            consumer,
            service,
            network,
            str(c.listen),
            c.port,
            "reach",
            str(pub.source),
            served=served,
        ),
        # Only the consume address is given to the consumers, not the publisher's.
        Flow(
            "exposure",
            consumer,
            service,
            view.platform_network(c.target),
            str(c.target),
            c.target_port,
            "blocked",
            None,
            served=served,
        ),
    ]


KIND = ExposureKind()


def consume_points(model: GatewayView) -> list[dict[str, Any]]:
    """Where ``model`` consumes exposures: each address with its port and protocol (spelt as a
    NetworkPolicy spells it). A tenant's grant of an exposure may open these and no other port
    of the gateway's addresses; the policy pack reads them from the gateway's outputs."""
    return [
        {"address": str(e.listen), "port": e.port, "protocol": e.protocol.upper()}
        for e in KIND.entries(model)
        if e.role == "consume"
    ]
