"""The reachability matrix of a stack, derived from the plan, the host models and the gateway intents.

Pure: no I/O. Each ``Flow`` is one TCP connection the lab makes, with what must happen:
``reach`` (and the source address the receiver must see) or ``blocked``. Nothing is written by
hand. The flows this module derives itself:

- ``lan``: two hosts of one platform network, on its segment; the receiver sees the sender's
  address in that network. Host-to-host flows (``lan``, ``routed``) are made for the pairs of
  ``host_pairs``: every host with the first host of each role, both ways.
- ``routed``: a host to another host's address in a network the sender does not carry, through a
  gateway host that carries both networks; no NAT between platform networks, so the receiver sees
  the address the sender's own routes choose (seed 001: the LB 100.64.0.53 to the master's
  storage address 100.64.64.2, answered through the router only with policy routing).
- ``inbound``: the deploy box straight to a platform address (it routes 100.64.0.0/10 at the
  gateway): blocked.

Every other flow is an intent kind's, named after it and described in its module
(``IntentKind.flows`` in ``lanes.intents``: ``egress``, ``mapping``, ``ingress``, ``exposure``,
``proxy``), derived over a ``MatrixView``.

The outside ends of the intents' flows are parties (``derive_parties``, each kind adding its own
with ``IntentKind.parties`` and ``IntentKind.clients``): one lab namespace each on its
outside network, at the intent's address (a client at the highest free address of its network),
routing 100.64.0.0/10 at the gateway host's first address on that network, as the deploy box does.
Where an intent's far end is a platform host, that host is the end and no party is made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from netaddr import IPAddress, IPNetwork

from lanes.intents.base import GatewayView, host_addresses
from lanes.intents.gateway import GatewayModel
from lanes.intents.kinds import INTENT_KINDS, IntentKinds
from lanes.model.flows import (
    DEPLOY,
    L2_KINDS,
    PROBE_PORT,
    Deploy,
    Flow,
    Party,
    PartyRole,
)
from lanes.model.hostnet import HostNet, source_address
from lanes.model.plan import PLATFORM_SPACE, Plan

__all__ = [
    "own_address",
    "PROBE_PORT",
    "DEPLOY",
    "Flow",
    "Deploy",
    "Party",
    "PartyMaker",
    "MatrixView",
    "deploy_of",
    "derive_parties",
    "derive_flows",
    "listeners",
]


def _deploy_network(plan: Plan, kinds: IntentKinds) -> str | None:
    """The outside network the first intent that decides it names (a 1:1 mapping's)."""
    for gw in plan.gateways:
        for kind in kinds:
            if (network := kind.deploy_network(gw)) is not None:
                return network
    return None


def deploy_of(
    plan: Plan, models: list[GatewayModel], kinds: IntentKinds = INTENT_KINDS
) -> Deploy | None:
    """The deploy box: the last usable address of the outside network the gateway maps into."""
    network = _deploy_network(plan, kinds) or next((o.name for o in plan.outside), None)
    outside = plan.outside_network(network) if network else None
    if outside is None:
        return None
    network = outside.name
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


def own_address(net: HostNet, network: str) -> str | None:
    """The host's first address in ``network`` (None: it does not carry it)."""
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


def _lan_and_routed(plan: Plan, nets: list[HostNet], models: list[GatewayModel]) -> list[Flow]:
    routers = [{n for n, _ in m.interfaces} for m in models]
    flows = []
    for src, dst in host_pairs(nets):
        carried = {a.network for a in src.addresses}
        for network in plan.kinds.names:
            address = own_address(dst, network)
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


def _inbound(plan: Plan, nets: list[HostNet], deploy: Deploy) -> list[Flow]:
    return [
        Flow("inbound", DEPLOY, net.host, a.network, a.address, PROBE_PORT, "blocked", None)
        for net in nets
        for a in net.addresses
        if a.network in plan.kinds and IPAddress(a.address) in PLATFORM_SPACE
    ]


# --- parties: the outside ends of the gateway intents ------------------------------------------


def _network_holding(plan: Plan, host: str, address: IPAddress) -> str | None:
    """The network in which ``host`` holds ``address`` (outside networks may overlap)."""
    found = plan.host(host)
    return (
        next((a.network for a in found.addresses if a.address == address), None) if found else None
    )


class PartyMaker:
    """Parties keyed by (network, address): one box per address, named by the first intent."""

    def __init__(self, plan: Plan, models: list[GatewayModel], deploy: Deploy | None):
        self.plan = plan
        self.models = models
        self.deploy = deploy
        self.found: dict[tuple[str, str], Party] = {}

    def holding(self, model: GatewayView, address: IPAddress) -> str | None:
        """The network in which the gateway host of ``model`` holds ``address``."""
        return _network_holding(self.plan, model.host, address)

    def add(
        self,
        name: str,
        role: PartyRole,
        model: GatewayView,
        network: str | None,
        address: IPAddress | str,
        path: str,
    ) -> None:
        """A box at ``address`` in ``network``, unless that is a platform network (the far
        end is a host) or a box is there already."""
        outside = self.plan.outside_network(network) if network else None
        host = self.plan.host(model.host)
        if outside is None or host is None or (outside.name, str(address)) in self.found:
            return
        gateway = host_addresses(host, outside.name)[0]
        self.found[(outside.name, str(address))] = Party(
            name, role, outside.name, str(address), outside.cidr.prefixlen, str(gateway), path
        )

    def client(self, network: str | None, model: GatewayView, path: str) -> None:
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


def derive_parties(
    plan: Plan,
    models: list[GatewayModel],
    deploy: Deploy | None,
    kinds: IntentKinds = INTENT_KINDS,
) -> list[Party]:
    """The outside parties of the gateways' intents (each kind adds its own), sorted."""
    make = PartyMaker(plan, models, deploy)
    for m in models:
        for kind in kinds:
            kind.parties(make, m)
    # Clients last: they take the highest address no other party or host holds.
    for m in models:
        for kind in kinds:
            kind.clients(make, m)
    return sorted(make.found.values())


# --- the intent kinds' flows -------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixView:
    """What the intent kinds derive their flows from, with the lookups they share."""

    plan: Plan
    nets: dict[str, HostNet]
    ends: list[HostNet]  # the hosts that are end points (gateway hosts are the path)
    models: list[GatewayModel]
    parties: list[Party]
    deploy: Deploy | None
    kinds: IntentKinds = INTENT_KINDS

    def holding(self, host: str, address: IPAddress) -> str | None:
        """The network in which ``host`` holds ``address``."""
        return _network_holding(self.plan, host, address)

    def first_address(self, host: str, network: str) -> str | None:
        """``host``'s first address in ``network``, from the plan."""
        found = self.plan.host(host)
        entry = found.address(network) if found else None
        return str(entry.address) if entry else None

    def end_at(
        self, network: str | None, address: IPAddress | str, parties: bool = True
    ) -> str | None:
        """The name of the party (unless ``parties`` is False) or host at ``address``."""
        for p in self.parties if parties else ():
            if p.network == network and p.address == str(address):
                return p.name
        for net in self.nets.values():
            if any(a.network == network and a.address == str(address) for a in net.addresses):
                return net.host
        return None

    def client_in(self, network: str | None) -> str | None:
        """The client box of ``network``: the deploy box on its own network, else a party."""
        if self.deploy is not None and self.deploy.network == network:
            return DEPLOY
        return next(
            (p.name for p in self.parties if p.role == "client" and p.network == network), None
        )

    def leaves_as(self, source: str | None) -> str | None:
        """The address a connection from ``source`` to an outside box leaves as: the first
        SNAT step (in chain order) of any gateway that translates it; None: it is dropped."""
        if not source:
            return None
        address = IPAddress(source)
        for kind in self.kinds.by_rank():
            for m in self.models:
                seen = kind.leaves_as(kind.entries(m), address)
                if seen is not None:
                    return str(seen)
        return None

    def platform_network(self, address: IPAddress) -> str:
        """The platform network holding ``address`` ("outside" when none does)."""
        return next((n.name for n in self.plan.networks if address in n.cidr), "outside")

    def is_platform_network(self, network: str) -> bool:
        return network in self.plan.kinds

    def in_platform_space(self, address: IPAddress) -> bool:
        return address in PLATFORM_SPACE


def listeners(flows: list[Flow] | tuple[Flow, ...]) -> dict[str, list[tuple[int, str]]]:
    """Per receiver, the (port, mode) its probe server must answer on for the flows that must
    reach it and see a source (every host and the deploy box answer on PROBE_PORT besides)."""
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for f in flows:
        if f.expect == "reach" and f.seen is not None and f.kind not in L2_KINDS:
            found[f.target].add((f.target_port, f.mode))
    return {name: sorted(ports) for name, ports in sorted(found.items())}


def derive_flows(
    plan: Plan,
    nets: dict[str, HostNet],
    models: list[GatewayModel],
    deploy: Deploy | None,
    kinds: IntentKinds = INTENT_KINDS,
) -> list[Flow]:
    """Every flow of the stack's AZ, sorted. Gateway hosts are the path, not an end point."""
    gateway_hosts = {m.host for m in models}
    ends = [nets[h.name] for h in plan.stack_hosts() if h.name not in gateway_hosts]
    parties = derive_parties(plan, models, deploy, kinds)
    flows = _lan_and_routed(plan, ends, models)
    if deploy is not None:
        flows += _inbound(plan, ends, deploy)
    view = MatrixView(plan, nets, ends, models, parties, deploy, kinds)
    for kind in kinds:
        flows += kind.flows(view)
    return sorted(flows)
