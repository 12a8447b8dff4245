"""The reachability matrix of a stack, derived from the plan, the host models and the gateway intents.

Pure: no I/O. Each ``Flow`` is one TCP connection the lab makes, with what must happen:
``reach`` (and the source address the receiver must see) or ``blocked``. Nothing is written by
hand; the kinds of flow and where they come from:

- ``lan``: two hosts of one platform network, on its segment; the receiver sees the sender's
  address in that network. Host-to-host flows (``lan``, ``routed``) are made for the pairs of
  ``host_pairs``: every host with the first host of each role, both ways.
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
- ``ingress``: the front load balancer (a party) to each front address and port: reaches the
  ingress node, which sees the balancer's address; any other outside client (the deploy box) to
  the same front address and port: blocked. The ingress node to the balancer: seen as its front
  address (the ingress-reply SNAT goes before the general egress SNAT).
- ``proxy``: every platform host that routes to a proxy's listen address in a platform network
  (a client party when it listens on an outside network) reaches the upstream, which sees the
  proxy's ``source``; the deploy box to a listen address inside 100.64.0.0/10: blocked.
- ``exposure``: a client party in the consumers' network to the consume address reaches the
  service the matching publish exposes, which sees the publisher's own address; the same client
  straight to the publisher's adjacency address: blocked.

The outside ends of those flows are parties (``derive_parties``): one lab namespace each on its
outside network, at the intent's address (a client at the highest free address of its network),
routing 100.64.0.0/10 at the gateway host's first address on that network, as the deploy box does.
Where an intent's far end is a platform host, that host is the end and no party is made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from netaddr import IPAddress, IPNetwork

from lanes.config import PLATFORM_NETWORKS
from lanes.gateway import Exposure, GatewayModel, host_addresses
from lanes.hostnet import HostNet
from lanes.plan import PLATFORM_SPACE, Plan

__all__ = [
    "PROBE_PORT",
    "DEPLOY",
    "Flow",
    "Deploy",
    "Party",
    "deploy_of",
    "derive_parties",
    "source_address",
    "derive_flows",
    "listeners",
]

PROBE_PORT = 7907
DEPLOY = "deploy"

FlowKind = Literal["lan", "routed", "egress", "mapping", "inbound", "ingress", "proxy", "exposure"]
PartyRole = Literal["balancer", "upstream", "service", "client"]


@dataclass(frozen=True, order=True)
class Flow:
    """One probe: ``source`` namespace connects to ``address``:``port``.

    ``seen`` is the client address the receiver must report (None: a connection is enough, the
    service is not the lab's probe server). ``served`` is the port the receiver listens on when a
    gateway translates ``port`` (0: ``port`` itself); ``mode`` "http" for an L7 proxy's upstream.
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

    @property
    def target_port(self) -> int:
        return self.served or self.port

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


def host_pairs(nets: list[HostNet]) -> list[tuple[HostNet, HostNet]]:
    """The (sender, receiver) pairs of the host-to-host flows, in host order.

    Every host sends to the first host of each role (the next one when it is that first host
    itself), and the first host of each role sends to every host. So every (role, role, network)
    cell is probed and every host sends and receives on every network it carries, in
    O(hosts x roles) pairs: all pairs would be O(hosts^2), and each pair costs neighbour entries
    in the kernel's one ARP table (gc_thresh3, 1024 by default, for all namespaces together).
    """
    by_role: dict[str, list[str]] = defaultdict(list)
    for net in nets:
        by_role[net.role].append(net.host)

    def first(role: str, other: str) -> str | None:
        return next((h for h in by_role[role] if h != other), None)

    return [
        (src, dst)
        for src in nets
        for dst in nets
        if dst.host != src.host
        and (first(dst.role, src.host) == dst.host or first(src.role, dst.host) == src.host)
    ]


def _lan_and_routed(nets: list[HostNet], models: list[GatewayModel]) -> list[Flow]:
    routers = [{n for n, _ in m.interfaces} for m in models]
    flows = []
    for src, dst in host_pairs(nets):
        carried = {a.network for a in src.addresses}
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


def _egress_of(models: list[GatewayModel], source: str | None) -> str | None:
    return _egress_seen(models, source) if source else None


def _egress(nets: list[HostNet], models: list[GatewayModel], deploy: Deploy) -> list[Flow]:
    flows = []
    for src in nets:
        seen = _egress_of(models, source_address(src, deploy.address))
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


# --- parties: the outside ends of the gateway intents ------------------------------------------


def _network_holding(plan: Plan, host: str, address: IPAddress) -> str | None:
    """The network in which ``host`` holds ``address`` (outside networks may overlap)."""
    found = plan.host(host)
    return (
        next((a.network for a in found.addresses if a.address == address), None) if found else None
    )


def _publishers(models: list[GatewayModel]) -> dict[tuple, tuple[GatewayModel, Exposure]]:
    return {
        (e.listen, e.port, e.protocol): (m, e)
        for m in models
        for e in m.exposures
        if e.role == "publish"
    }


class _PartyMaker:
    """Parties keyed by (network, address): one box per address, named by the first intent."""

    def __init__(self, plan: Plan, deploy: Deploy | None):
        self.plan = plan
        self.deploy = deploy
        self.found: dict[tuple[str, str], Party] = {}

    def add(
        self, name: str, role: PartyRole, model: GatewayModel, network: str | None, address, path
    ) -> None:
        outside = self.plan.outside_network(network) if network else None
        if outside is None or (network, str(address)) in self.found:
            return  # a platform network: the far end is a host
        gateway = host_addresses(self.plan.host(model.host), network)[0]  # type: ignore[arg-type]
        self.found[(network, str(address))] = Party(
            name, role, network, str(address), outside.cidr.prefixlen, str(gateway), path
        )

    def client(self, network: str | None, model: GatewayModel, path: str) -> None:
        """A client in ``network``: the deploy box on its own network, else a party."""
        if network is None or (self.deploy is not None and self.deploy.network == network):
            return
        if any(p.role == "client" and p.network == network for p in self.found.values()):
            return
        outside = self.plan.outside_network(network)
        if outside is None:
            return
        taken = {a for (n, a) in self.found if n == network}
        taken |= {
            str(a.address) for h in self.plan.hosts for a in h.addresses if a.network == network
        }
        taken |= {str(outside.gateway)} if outside.gateway else set()
        free = (str(IPAddress(v)) for v in range(outside.cidr.last - 1, outside.cidr.first, -1))
        address = next(a for a in free if a not in taken)
        self.add(f"{network}-client", "client", model, network, address, path)


def derive_parties(plan: Plan, models: list[GatewayModel], deploy: Deploy | None) -> list[Party]:
    """The outside parties of the gateways' ingress routes, proxies and exposures, sorted."""
    make = _PartyMaker(plan, deploy)
    for m in models:
        balancers = sorted({(i.balancer, i.front, i.path) for i in m.ingress})
        distinct = sorted({b for b, _, _ in balancers})
        for balancer, front, path in balancers:
            k = distinct.index(balancer)
            name = f"{m.name}-lb" + (f"{k + 1}" if k else "")
            make.add(name, "balancer", m, _network_holding(plan, m.host, front), balancer, path)
        for p in m.proxies:
            network = _network_holding(plan, m.host, p.source)
            make.add(f"{p.name}-upstream", "upstream", m, network, p.upstream, p.path)
        for e in m.exposures:
            if e.role == "publish":
                network = _network_holding(plan, m.host, e.source)
                make.add(e.name, "service", m, network, e.target, e.path)
    # Clients last: they take the highest address no other party or host holds.
    publishers = _publishers(models)
    for m in models:
        for p in m.proxies:
            make.client(_network_holding(plan, m.host, p.listen), m, p.path)
        for e in m.exposures:
            if e.role == "consume" and (e.target, e.target_port, e.protocol) in publishers:
                make.client(_network_holding(plan, m.host, e.listen), m, e.path)
    return sorted(make.found.values())


def _end_at(
    parties: list[Party], nets: dict[str, HostNet], network: str | None, address
) -> str | None:
    """The name of the party or host at ``address`` in ``network``."""
    for p in parties:
        if p.network == network and p.address == str(address):
            return p.name
    for net in nets.values():
        if any(a.network == network and a.address == str(address) for a in net.addresses):
            return net.host
    return None


def _client_in(parties: list[Party], deploy: Deploy | None, network: str | None) -> str | None:
    if deploy is not None and deploy.network == network:
        return DEPLOY
    return next((p.name for p in parties if p.role == "client" and p.network == network), None)


def _ingress(
    plan: Plan,
    nets: dict[str, HostNet],
    models: list[GatewayModel],
    parties: list[Party],
    deploy: Deploy | None,
) -> list[Flow]:
    flows = []
    for m in models:
        for i in m.ingress:
            network = _network_holding(plan, m.host, i.front)
            balancer = _end_at(parties, nets, network, i.balancer)
            node = _end_at([], nets, "traffic", i.node)
            if balancer is None or node is None or network is None:
                continue
            front, seen = str(i.front), str(i.balancer)
            flows.append(Flow("ingress", balancer, node, network, front, i.port, "reach", seen))
            if deploy is not None and deploy.network == network and deploy.address != seen:
                flows.append(Flow("ingress", DEPLOY, node, network, front, i.port, "blocked", None))
            # The node calls the balancer: the reply SNAT, before the general egress SNAT.
            source = source_address(nets[node], seen)
            seen_as = front if source == str(i.node) else _egress_of(models, source)
            expect = "reach" if seen_as else "blocked"
            flows.append(
                Flow("ingress", node, balancer, network, seen, PROBE_PORT, expect, seen_as)
            )
    return sorted(set(flows))


def _proxy(
    plan: Plan,
    nets: dict[str, HostNet],
    ends: list[HostNet],
    models: list[GatewayModel],
    parties: list[Party],
    deploy: Deploy | None,
) -> list[Flow]:
    flows = []
    for m in models:
        for p in m.proxies:
            upstream = _end_at(parties, nets, _network_holding(plan, m.host, p.source), p.upstream)
            network = _network_holding(plan, m.host, p.listen)
            if upstream is None or network is None:
                continue
            if network in PLATFORM_NETWORKS:
                clients = [n.host for n in ends if source_address(n, str(p.listen))]
            else:
                clients = [c for c in [_client_in(parties, deploy, network)] if c]
            mode = "http" if p.mode == "http" else "tcp"
            listen, seen, served = str(p.listen), str(p.source), p.upstream_port
            for client in clients:
                flows.append(
                    Flow(
                        "proxy",
                        client,
                        upstream,
                        network,
                        listen,
                        p.port,
                        "reach",
                        seen,
                        mode,
                        served,
                    )
                )
            if deploy is not None and p.listen in PLATFORM_SPACE and DEPLOY not in clients:
                flows.append(
                    Flow(
                        "proxy",
                        DEPLOY,
                        upstream,
                        network,
                        listen,
                        p.port,
                        "blocked",
                        None,
                        mode,
                        served,
                    )
                )
    return flows


def _platform_network(plan: Plan, address: IPAddress) -> str:
    return next((n.name for n in plan.networks if address in n.cidr), "outside")


def _exposure(
    plan: Plan,
    nets: dict[str, HostNet],
    models: list[GatewayModel],
    parties: list[Party],
    deploy: Deploy | None,
) -> list[Flow]:
    publishers = _publishers(models)
    flows = []
    for m in models:
        for c in m.exposures:
            found = publishers.get((c.target, c.target_port, c.protocol))
            if c.role != "consume" or c.protocol != "tcp" or found is None:
                continue
            pm, pub = found
            service_net = _network_holding(plan, pm.host, pub.source)
            service = _end_at(parties, nets, service_net, pub.target)
            network = _network_holding(plan, m.host, c.listen)
            client = _client_in(parties, deploy, network)
            if service is None or client is None or network is None:
                continue
            seen, served = str(pub.source), pub.target_port
            flows.append(
                Flow(
                    "exposure",
                    client,
                    service,
                    network,
                    str(c.listen),
                    c.port,
                    "reach",
                    seen,
                    served=served,
                )
            )
            # Only the consume address is given to the consumers, not the publisher's.
            flows.append(
                Flow(
                    "exposure",
                    client,
                    service,
                    _platform_network(plan, c.target),
                    str(c.target),
                    c.target_port,
                    "blocked",
                    None,
                    served=served,
                )
            )
    return flows


def listeners(flows: list[Flow] | tuple[Flow, ...]) -> dict[str, list[tuple[int, str]]]:
    """Per receiver, the (port, mode) its probe server must answer on for the flows that must
    reach it and see a source (every host and the deploy box answer on PROBE_PORT besides)."""
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for f in flows:
        if f.expect == "reach" and f.seen is not None:
            found[f.target].add((f.target_port, f.mode))
    return {name: sorted(ports) for name, ports in sorted(found.items())}


def derive_flows(
    plan: Plan, nets: dict[str, HostNet], models: list[GatewayModel], deploy: Deploy | None
) -> list[Flow]:
    """Every flow of the stack's AZ, sorted. Gateway hosts are the path, not an end point."""
    gateway_hosts = {m.host for m in models}
    ends = [nets[h.name] for h in plan.stack_hosts() if h.name not in gateway_hosts]
    parties = derive_parties(plan, models, deploy)
    flows = _lan_and_routed(ends, models)
    if deploy is not None:
        flows += _egress(ends, models, deploy)
        flows += _mapping(plan, models, deploy)
        flows += _inbound(ends, deploy)
    flows += _ingress(plan, nets, models, parties, deploy)
    flows += _proxy(plan, nets, ends, models, parties, deploy)
    flows += _exposure(plan, nets, models, parties, deploy)
    return sorted(flows)
