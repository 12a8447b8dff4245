"""Egress: SNAT of platform networks to the gateway's outside address, never toward 100.64.0.0/10.

The general SNAT, tried after every specific one (seed 000's warning); each egress intent is a
postrouting step of its own, so its entries live in the gateway's SNAT steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from netaddr import IPAddress, IPNetwork

from lanes.config.gateway import Egress, Gateway
from lanes.config.kinds import NetworkKinds
from lanes.intents.base import (
    Deriver,
    Finding,
    GatewayError,
    GatewayView,
    Ifname,
    IntentKind,
    MatrixView,
    OwnAddress,
    RefCheck,
    SnatStep,
    exempt_match,
    nft_value,
    optional_net,
)
from lanes.model.flows import DEPLOY, PROBE_PORT, Expect, Flow
from lanes.model.hostnet import source_address

__all__ = ["EgressSnat", "KIND"]


@dataclass(frozen=True)
class EgressSnat:
    """SNAT of ``sources`` leaving on ``interface`` to ``to``, except toward ``exempt``."""

    interface: str
    sources: tuple[IPNetwork, ...]
    to: IPAddress
    exempt: IPNetwork
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "sources": [str(s) for s in self.sources],
            "to": str(self.to),
            "exempt": str(self.exempt),
        }


def _sources(d: Deriver, networks: list[str], path: str) -> tuple[IPNetwork, ...]:
    """The AZ blocks of the gateway's AZ in the named networks."""
    sources = []
    for k, name in enumerate(networks):
        net = d.plan.network(name)
        if net is None:
            raise GatewayError(f"{path}.networks[{k}]", f"{name} is not a platform network")
        sources += [b.cidr for b in net.blocks() if b.az == d.host.az]
    return tuple(sorted(sources))


def _matches(egress: EgressSnat) -> str:
    sources = ", ".join(str(s) for s in egress.sources)
    return f"oifname {nft_value(Ifname(egress.interface))} ip saddr {{ {sources} }}"


class EgressKind(IntentKind):
    name = "egress"
    config = {"egress": list[Egress]}
    field = None
    rank = 90
    snat = "egress"
    snat_exempt = True
    snat_general = True

    def derive(self, d: Deriver, gw: Gateway, path: str) -> tuple[EgressSnat, ...]:
        return tuple(
            EgressSnat(
                d.iface(e.outside, f"{path}.egress[{j}].outside"),
                _sources(d, e.networks, f"{path}.egress[{j}]"),
                IPAddress(e.to),
                d.exempt,
                f"{path}.egress[{j}]",
            )
            for j, e in enumerate(gw.egress)
        )

    def entries(self, model: GatewayView) -> tuple[EgressSnat, ...]:
        return tuple(s.egress for s in model.snat if s.egress is not None)

    def snat_steps(self, entries: tuple[Any, ...], exempt: IPNetwork | None) -> list[SnatStep]:
        return [SnatStep(self.name, e.exempt, e) for e in entries]

    def step_from_dict(self, step: Mapping[str, Any], path: str, index: int) -> SnatStep:
        rule = step.get("egress")
        leg = None
        if rule is not None:
            leg = EgressSnat(
                rule["interface"],
                tuple(IPNetwork(s) for s in rule["sources"]),
                IPAddress(rule["to"]),
                optional_net(rule.get("exempt")),
                f"{path}.egress[{index}]",
            )
        return SnatStep(step["kind"], optional_net(step.get("exempt")), leg)

    def postrouting(self, step: SnatStep) -> str:
        egress = step.egress
        assert egress is not None
        return f"{_matches(egress)} {exempt_match(step)}snat ip to {egress.to}"

    def forward(self, entries: tuple[Any, ...]) -> list[str]:
        return [f"{_matches(e)} ip daddr != {e.exempt} accept" for e in entries]

    def refs(self, gw: Gateway, path: str, check: RefCheck) -> Iterator[Finding]:
        for j, egress in enumerate(gw.egress):
            for k, net in enumerate(egress.networks):
                yield from check.platform_network(net, f"{path}.egress[{j}].networks[{k}]")
            yield from check.outside_network(egress.outside, f"{path}.egress[{j}].outside")

    def own_addresses(self, gw: Gateway, path: str, kinds: NetworkKinds) -> Iterator[OwnAddress]:
        for j, e in enumerate(gw.egress):
            yield OwnAddress(f"{path}.egress[{j}].to", e.to, e.outside)

    def shared_sources(self, gw: Gateway, path: str) -> Iterator[tuple[str, str]]:
        for j, e in enumerate(gw.egress):
            yield f"{path}.egress[{j}].to", e.to

    def leaves_as(self, entries: tuple[Any, ...], source: IPAddress) -> IPAddress | None:
        return next((e.to for e in entries if any(source in s for s in e.sources)), None)

    def flows(self, view: MatrixView) -> list[Flow]:
        """Every end host to the deploy box: seen as the address its source leaves as (a 1:1
        mapping's, else the egress SNAT's), else blocked."""
        deploy = view.deploy
        if deploy is None:
            return []
        flows = []
        for src in view.ends:
            seen = view.leaves_as(source_address(src, deploy.address))
            expect: Expect = "reach" if seen else "blocked"
            flows.append(
                Flow(
                    "egress",
                    src.host,
                    DEPLOY,
                    deploy.network,
                    deploy.address,
                    PROBE_PORT,
                    expect,
                    seen,
                )
            )
        return flows


KIND = EgressKind()
