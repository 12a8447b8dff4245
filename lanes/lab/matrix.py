"""The reachability matrix of a stack, derived from the plan, the host models and the gateway intents.

Pure: no I/O. Each ``Flow`` is one TCP connection the lab makes, with what must happen:
``reach`` (and the source address the receiver must see) or ``blocked``. Nothing is written by
hand; the kinds of flow and where they come from:

- ``lan``: two hosts of one platform network, on its segment; the receiver sees the sender's
  address in that network.
- ``routed``: a host to another host's address in a network the sender does not carry, through a
  gateway host that carries both networks; no NAT between platform networks, so the receiver sees
  the address the sender's own routes choose (seed 001: the LB 100.64.0.53 to the master's
  storage address 100.64.64.2, answered through the router only with policy routing).
- ``egress``: a host to the deploy box on the outside network: seen as its 1:1 mapped address,
  else as the egress address of the SNAT that covers its source, else blocked.
- ``mapping``: the deploy box to a mapped outside address (probe port and, for the jump host,
  its SSH port); the host sees the deploy box's own address.
- ``inbound``: the deploy box straight to a platform address (it routes 100.64.0.0/10 at the
  gateway): blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from netaddr import IPAddress, IPNetwork

from lanes.config import PLATFORM_NETWORKS
from lanes.gateway import GatewayModel
from lanes.hostnet import HostNet
from lanes.plan import PLATFORM_SPACE, Plan

__all__ = [
    "PROBE_PORT",
    "DEPLOY",
    "Flow",
    "Deploy",
    "deploy_of",
    "source_address",
    "derive_flows",
]

PROBE_PORT = 7907
DEPLOY = "deploy"

FlowKind = Literal["lan", "routed", "egress", "mapping", "inbound"]


@dataclass(frozen=True, order=True)
class Flow:
    """One probe: ``source`` namespace connects to ``address``:``port``.

    ``seen`` is the client address the receiver must report (None: a connection is enough, the
    service is not the lab's probe server).
    """

    kind: FlowKind
    source: str
    target: str
    network: str
    address: str
    port: int
    expect: Literal["reach", "blocked"]
    seen: str | None

    def cell(self) -> str:
        return f"{self.source} -> {self.target} {self.network} {self.address}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "network": self.network,
            "address": self.address,
            "port": self.port,
            "expect": self.expect,
            "seen": self.seen,
        }


@dataclass(frozen=True)
class Deploy:
    """The box Pulumi runs on, on an outside network: address, prefix, and its way inside."""

    network: str
    address: str
    prefixlen: int
    gateway: str  # the gateway host's first address on that network


def _mapped_network(plan: Plan) -> str | None:
    for gw in plan.config.gateways:
        for m in gw.mappings:
            return m.network
    return None


def deploy_of(plan: Plan, models: list[GatewayModel]) -> Deploy | None:
    """The deploy box: the last usable address of the outside network the gateway maps into."""
    network = _mapped_network(plan) or next((o.name for o in plan.outside), None)
    outside = plan.outside_network(network) if network else None
    if outside is None:
        return None
    hosts = {m.host for m in models}
    gateway = next(
        (
            str(a.address)
            for h in plan.stack_hosts()
            if h.name in hosts
            for a in h.addresses
            if a.network == network
        ),
        None,
    )
    if gateway is None:
        return None
    cidr = IPNetwork(str(outside.cidr))
    return Deploy(network, str(IPAddress(cidr.last - 1)), cidr.prefixlen, gateway)


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


def _first(net: HostNet, network: str) -> str | None:
    return next((a.address for a in net.addresses if a.network == network), None)


def _lan_and_routed(nets: list[HostNet], models: list[GatewayModel]) -> list[Flow]:
    routers = [{n for n, _ in m.interfaces} for m in models]
    flows = []
    for src in nets:
        carried = {a.network for a in src.addresses}
        for dst in nets:
            if dst.host == src.host:
                continue
            for network in PLATFORM_NETWORKS:
                address = _first(dst, network)
                if address is None:
                    continue
                seen = source_address(src, address)
                if network in carried:
                    flows.append(
                        Flow("lan", src.host, dst.host, network, address, PROBE_PORT, "reach", seen)
                    )
                    continue
                via = {a.network for a in src.addresses if a.address == seen}
                if seen and any(via <= r and network in r for r in routers):
                    flows.append(
                        Flow(
                            "routed",
                            src.host,
                            dst.host,
                            network,
                            address,
                            PROBE_PORT,
                            "reach",
                            seen,
                        )
                    )
    return flows


def _egress_seen(models: list[GatewayModel], source: str) -> str | None:
    address = IPAddress(source)
    for m in models:
        for mapping in m.mappings:
            if mapping.inside == address:
                return str(mapping.outside)
    for m in models:
        for egress in m.egress:
            if any(address in s for s in egress.sources):
                return str(egress.to)
    return None


def _egress(nets: list[HostNet], models: list[GatewayModel], deploy: Deploy) -> list[Flow]:
    flows = []
    for src in nets:
        source = source_address(src, deploy.address)
        seen = _egress_seen(models, source) if source else None
        expect = "reach" if seen else "blocked"
        flows.append(
            Flow(
                "egress", src.host, DEPLOY, deploy.network, deploy.address, PROBE_PORT, expect, seen
            )
        )
    return flows


def _mapping(plan: Plan, models: list[GatewayModel], deploy: Deploy) -> list[Flow]:
    by_inside = {_first_mgmt(plan, h.name): h for h in plan.stack_hosts()}
    flows = []
    for m in models:
        for mapping in m.mappings:
            host = by_inside.get(str(mapping.inside))
            if host is None:
                continue
            outside = str(mapping.outside)
            flows.append(
                Flow(
                    "mapping",
                    DEPLOY,
                    host.name,
                    deploy.network,
                    outside,
                    PROBE_PORT,
                    "reach",
                    deploy.address,
                )
            )
            if host.config.ssh.address == outside:
                port = host.config.ssh.port
                flows.append(
                    Flow("mapping", DEPLOY, host.name, deploy.network, outside, port, "reach", None)
                )
    return flows


def _first_mgmt(plan: Plan, name: str) -> str | None:
    host = plan.host(name)
    entry = host.address("management") if host else None
    return str(entry.address) if entry else None


def _inbound(nets: list[HostNet], deploy: Deploy) -> list[Flow]:
    return [
        Flow("inbound", DEPLOY, net.host, a.network, a.address, PROBE_PORT, "blocked", None)
        for net in nets
        for a in net.addresses
        if a.network in PLATFORM_NETWORKS and IPAddress(a.address) in PLATFORM_SPACE
    ]


def derive_flows(
    plan: Plan, nets: dict[str, HostNet], models: list[GatewayModel], deploy: Deploy | None
) -> list[Flow]:
    """Every flow of the stack's AZ, sorted. Gateway hosts are the path, not an end point."""
    gateway_hosts = {m.host for m in models}
    ends = [nets[h.name] for h in plan.stack_hosts() if h.name not in gateway_hosts]
    flows = _lan_and_routed(ends, models)
    if deploy is not None:
        flows += _egress(ends, models, deploy)
        flows += _mapping(plan, models, deploy)
        flows += _inbound(ends, deploy)
    return sorted(flows)
