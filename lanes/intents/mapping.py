"""1:1 mappings: an outside address of the gateway is an inside host's management address, both
ways (seed 001: jump host 192.168.0.52 <-> 100.64.0.52, L7 LB 192.168.0.53 <-> 100.64.0.53)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Mapping as Props
from dataclasses import dataclass
from typing import Any

from netaddr import IPAddress

from lanes.config.gateway import Gateway, Mapping
from lanes.config.kinds import NetworkKinds
from lanes.intents.base import (
    Deriver,
    Finding,
    Ifname,
    IntentKind,
    Listener,
    MapEntry,
    MatrixView,
    OwnAddress,
    RefCheck,
    SnatStep,
    exempt_match,
)
from lanes.model.flows import DEPLOY, PROBE_PORT, Flow

__all__ = ["AddressMapping", "KIND"]


@dataclass(frozen=True, order=True)
class AddressMapping:
    """1:1: ``outside`` on ``interface`` is ``inside``; ``inside`` leaves as ``outside``."""

    interface: str
    outside: IPAddress
    inside: IPAddress
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "outside": str(self.outside),
            "inside": str(self.inside),
        }


class MappingKind(IntentKind):
    name = "mapping"
    config = {"mappings": list[Mapping]}
    field = "mappings"
    rank = 30
    snat = "mapping"
    snat_exempt = True
    nat_maps = {
        "mapping_dnat": ("ifname . ipv4_addr", "ipv4_addr"),
        "mapping_snat": ("ifname . ipv4_addr", "ipv4_addr"),
    }

    def derive(self, d: Deriver, gw: Gateway, path: str) -> tuple[AddressMapping, ...]:
        return tuple(
            sorted(
                AddressMapping(
                    d.iface(m.network, f"{path}.mappings[{j}].network"),
                    IPAddress(m.outside),
                    d.peer(m.host, d.kinds.nodes_network, f"{path}.mappings[{j}].host"),
                    f"{path}.mappings[{j}]",
                )
                for j, m in enumerate(gw.mappings)
            )
        )

    def from_dicts(self, entries: Iterable[Props[str, Any]], path: str) -> tuple[Any, ...]:
        return tuple(
            AddressMapping(
                m["interface"],
                IPAddress(m["outside"]),
                IPAddress(m["inside"]),
                f"{path}.mappings[{j}]",
            )
            for j, m in enumerate(entries)
        )

    def map_entries(self, entries: tuple[Any, ...]) -> dict[str, list[MapEntry]]:
        return {
            "mapping_dnat": [
                MapEntry((Ifname(m.interface), m.outside), (m.inside,), m.path) for m in entries
            ],
            "mapping_snat": [
                MapEntry((Ifname(m.interface), m.inside), (m.outside,), m.path) for m in entries
            ],
        }

    def prerouting(self, entries: tuple[Any, ...]) -> list[str]:
        return ["dnat ip to iifname . ip daddr map @mapping_dnat"]

    def postrouting(self, step: SnatStep) -> str:
        return f"{exempt_match(step)}snat ip to oifname . ip saddr map @mapping_snat"

    def forward(self, entries: tuple[Any, ...]) -> list[str]:
        return ["oifname . ip saddr @mapping_snat accept"]

    def refs(self, gw: Gateway, path: str, check: RefCheck) -> Iterator[Finding]:
        for j, m in enumerate(gw.mappings):
            yield from check.host(m.host, f"{path}.mappings[{j}].host")
            yield from check.outside_network(m.network, f"{path}.mappings[{j}].network")

    def own_addresses(self, gw: Gateway, path: str, kinds: NetworkKinds) -> Iterator[OwnAddress]:
        for j, m in enumerate(gw.mappings):
            yield OwnAddress(f"{path}.mappings[{j}].outside", m.outside, m.network)

    def listeners(self, gw: Gateway, path: str) -> Iterator[Listener]:
        for j, m in enumerate(gw.mappings):
            yield Listener(f"{path}.mappings[{j}].outside", m.outside, "any", None)

    def deploy_network(self, gw: Gateway) -> str | None:
        return next((m.network for m in gw.mappings), None)

    def leaves_as(self, entries: tuple[Any, ...], source: IPAddress) -> IPAddress | None:
        return next((m.outside for m in entries if m.inside == source), None)

    def flows(self, view: MatrixView) -> list[Flow]:
        """The deploy box to each mapped outside address (the probe port and, for the jump
        host, its SSH port): the host sees the deploy box's own address."""
        deploy = view.deploy
        if deploy is None:
            return []
        inside = view.plan.kinds.nodes_network
        by_inside = {view.first_address(h.name, inside): h for h in view.plan.stack_hosts()}
        flows = []
        for model in view.models:
            for m in self.entries(model):
                host = by_inside.get(str(m.inside))
                if host is None:
                    continue
                outside = str(m.outside)
                # The probe server reports the client; sshd: a connection is enough.
                ends: list[tuple[int, str | None]] = [(PROBE_PORT, deploy.address)]
                if host.ssh.address == outside:
                    ends.append((host.ssh.port, None))
                flows += [
                    Flow("mapping", DEPLOY, host.name, deploy.network, outside, port, "reach", seen)
                    for port, seen in ends
                ]
        return flows


KIND = MappingKind()
