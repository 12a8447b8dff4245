"""The host network model: links, addresses, routes, tables, policy rules and sysctls of one host.

``build_host_net(host, plan)`` is a pure function of the plan. The netplan renderer turns the
model into YAML; the namespace lab applies the same model with iproute2 (``lanes.lab.iproute``), so
what a real host and a rehearsal host carry cannot drift apart.

Routing design (seed 001's unsolved case, brief "Hosts"):

- One routing table per platform network the host carries (its kind's: management 101,
  traffic 102, storage 103, adjacency 104; fixed ids, so adding a network or a host never
  renumbers a table). Each table holds the host's own blocks of that network as link routes
  (with the host's address as source) and a default route via the network's gateway.
- One policy rule per platform address, ``from <address> table <network>``, priority
  ``1000 + table`` (before the main table's 32766). A reply leaves from the address the request
  came to, so it leaves on that address's network, through that network's gateway: the LB
  100.64.0.53 reaching the master's storage address through the router gets its answer back
  through the router, not from the master's management NIC.
- The main table (connections the host opens itself, with no source chosen yet) holds:
  the default route via the *traffic* gateway, since pods' egress leaves on the traffic address
  (brief); a host without traffic takes management, then storage, then adjacency. A host with
  an address in an outside network that has a gateway (the edge, the SSO proxy) defaults to
  that outside gateway first: it is the way out of the region.
  Other AZs' blocks (and management's other zones) are reached on their own network: one route
  per carried platform network to the network's whole supernet via that network's gateway, so
  a packet to another AZ's storage block leaves on the storage NIC with the storage address,
  never through the traffic default. The host's own blocks are more specific (connected).
- Pods' lane (Kubernetes nodes with a traffic address): the pod range answers from the traffic
  table. ``from <pod range> table traffic`` sends a pod's request to the mapping zone or the
  adjacency network out of the traffic NIC via the AZ router (which learns the pod blocks over
  BGP from Calico), so its reply comes back on that NIC and strict rp_filter holds; without it
  the main table would send a request to the mapping zone out of the management NIC, and the
  reply arriving on the traffic NIC would be dropped. Two rules before it keep what must stay
  in the main table: pods to pods (Calico's routes: one /32 per local pod, VXLAN or same-subnet
  routes to other nodes' blocks), and, with ``cluster.storage: host-nat``, pods to storage (the
  storage NIC and the node's NAT).
- A host that holds a block's gateway address itself (a gateway host numbered 1) gets no route
  via that gateway: it is the router, and its routes are issue 4's (EdgeGateway).
- The AZ router on the region's ``line`` (the dedicated line between the AZ routers) holds its
  AZ's line address and routes every other AZ's blocks and pod pool via that AZ's router's line
  address (main table; forwarded packets keep their sources). So a cross-AZ packet leaves its
  sender on its own network, crosses its AZ router, the line and the other AZ's router, and no
  AZ's layer 2 reaches another AZ. Line holders forward (``ip_forward = 1``).
- Outside networks (enterprise, VPCs) get no table: only gateway hosts carry them, and their
  connected routes in the main table are what NAT and proxies need.

Sysctls:

- rp_filter = 1 (strict) on all, default and every layer-3 interface. The reverse-path lookup
  is made with the packet's destination as source, so the ``from <address>`` rules take part
  in it: a packet for an address arriving on that address's own NIC passes (its table points
  back out of that NIC), while a packet for the management address arriving on the storage
  NIC is dropped, which is the lane separation we want. Loose mode (2) would accept it as long
  as any route leads back to the sender, and Calico's Felix refuses to run with
  ``net.ipv4.conf.all.rp_filter = 2`` (it does its own strict check on workload interfaces).
  Per-interface values are written too because the kernel uses max(all, interface) and
  distributions ship ``default.rp_filter = 2``.
- arp_ignore = 1 and arp_announce = 2: a host answers ARP only for addresses of the interface
  asked, so the storage address is never learned on the management segment.
- ICMP redirects neither accepted nor sent: a redirect could move a lane onto another network.
- Forwarding: off (``ip_forward = 0``) on service hosts. Kubernetes nodes (master, worker,
  ingress) get ``ip_forward = 1``: kubeadm refuses to join a node without it and pods' packets
  are forwarded by the node; their lanes are kept by the routing above, strict rp_filter and the
  CNI's policies. Gateway hosts: not set here, forwarding and NAT belong to the EdgeGateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from netaddr import IPAddress, IPNetwork

from lanes.config.host import K8S_ROLES, Nic, Role
from lanes.config.kinds import NODE_ZONE
from lanes.model.addressing import subnet_count
from lanes.model.cluster import carve_pools
from lanes.model.plan import DEFAULT_MTU, HostAddress, HostPlan, NetworkPlan, Plan

__all__ = [
    "device_for",
    "RULE_PRIORITY_BASE",
    "POD_RULE_PRIORITIES",
    "MAIN_TABLE",
    "DEFAULT_MTU",
    "Link",
    "Address",
    "Route",
    "Rule",
    "Table",
    "HostNet",
    "build_host_net",
    "source_address",
]

RULE_PRIORITY_BASE = 1000
# Pods' rules: to pods (main), to storage (main, host NAT), then the traffic table; all before
# the per-address rules (1000 + table), which never match a pod's source anyway.
POD_RULE_PRIORITIES = (1090, 1091, 1092)
MAIN_TABLE = 254

LinkKind = Literal["ethernet", "bond", "vlan"]


@dataclass(frozen=True)
class Link:
    """A network device: a physical NIC, an active-backup bond, or a VLAN interface."""

    name: str
    kind: LinkKind
    mtu: int
    macaddress: str | None = None
    bond: str | None = None  # ethernet: the bond it is enslaved to
    members: tuple[str, ...] = ()  # bond
    primary: str | None = None  # bond
    miimon: int | None = None  # bond, ms
    parent: str | None = None  # vlan
    vlan: int | None = None  # vlan id
    networks: tuple[str, ...] = ()  # networks whose addresses this device holds


@dataclass(frozen=True)
class Address:
    """An address on a device, ``cidr`` as the interface carries it (100.64.64.21/20)."""

    device: str
    network: str
    zone: str | None
    address: str
    cidr: str


@dataclass(frozen=True)
class Route:
    """A route; table 254 is main. ``via`` None means on-link (scope link)."""

    network: str
    to: str  # "default" or a CIDR
    device: str
    via: str | None = None
    source: str | None = None
    table: int = MAIN_TABLE

    @property
    def scope(self) -> str:
        return "global" if self.via else "link"


@dataclass(frozen=True)
class Rule:
    """A policy rule ``from <source> [to <to>] table <table>``, attached to a device of its network."""

    network: str
    source: str
    table: int
    priority: int
    device: str
    to: str | None = None


@dataclass(frozen=True)
class Table:
    network: str
    id: int


@dataclass(frozen=True)
class HostNet:
    """Everything the host's network config says, in a stable order."""

    host: str
    role: Role
    links: tuple[Link, ...]
    addresses: tuple[Address, ...]
    routes: tuple[Route, ...]
    rules: tuple[Rule, ...]
    tables: tuple[Table, ...]
    sysctls: tuple[tuple[str, str], ...]
    default_network: str | None
    node_ip: str | None = None
    path: str = field(default="", compare=False)

    def link(self, name: str) -> Link | None:
        return next((link for link in self.links if link.name == name), None)

    def layer3(self) -> list[str]:
        """Devices that carry addresses, in link order."""
        return [link.name for link in self.links if link.networks]

    def addresses_of(self, device: str) -> list[Address]:
        return [a for a in self.addresses if a.device == device]

    def routes_of(self, device: str) -> list[Route]:
        return [r for r in self.routes if r.device == device]

    def rules_of(self, device: str) -> list[Rule]:
        return [r for r in self.rules if r.device == device]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        data["sysctls"] = dict(self.sysctls)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "") -> HostNet:
        """The inverse of ``to_dict`` (absent keys None, numbers as the engine's floats)."""
        return cls(
            host=data["host"],
            role=data["role"],
            links=tuple(_link_from_dict(link) for link in data.get("links") or ()),
            addresses=tuple(
                Address(a["device"], a["network"], a.get("zone"), a["address"], a["cidr"])
                for a in data.get("addresses") or ()
            ),
            routes=tuple(
                Route(
                    r["network"],
                    r["to"],
                    r["device"],
                    r.get("via"),
                    r.get("source"),
                    int(r.get("table", MAIN_TABLE)),
                )
                for r in data.get("routes") or ()
            ),
            rules=tuple(
                Rule(
                    r["network"],
                    r["source"],
                    int(r["table"]),
                    int(r["priority"]),
                    r["device"],
                    r.get("to"),
                )
                for r in data.get("rules") or ()
            ),
            tables=tuple(Table(t["network"], int(t["id"])) for t in data.get("tables") or ()),
            sysctls=tuple((k, str(v)) for k, v in (data.get("sysctls") or {}).items()),
            default_network=data.get("default_network"),
            node_ip=data.get("node_ip"),
            path=path,
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _link_from_dict(link: Mapping[str, Any]) -> Link:
    return Link(
        name=link["name"],
        kind=link["kind"],
        mtu=int(link["mtu"]),
        macaddress=link.get("macaddress"),
        bond=link.get("bond"),
        members=tuple(link.get("members") or ()),
        primary=link.get("primary"),
        miimon=_optional_int(link.get("miimon")),
        parent=link.get("parent"),
        vlan=_optional_int(link.get("vlan")),
        networks=tuple(link.get("networks") or ()),
    )


def _network_vlan(plan: Plan, network: str) -> int | None:
    segment = plan.segment(network)
    return segment.vlan if segment is not None else None


def _network_mtu(plan: Plan, network: str) -> int:
    segment = plan.segment(network)
    return segment.link_mtu if segment is not None else DEFAULT_MTU


def _device_for(nic: Nic, network: str, plan: Plan) -> str:
    """The device that holds the network's addresses: the VLAN interface, or the NIC itself."""
    vlan = _network_vlan(plan, network)
    if nic.tagged and vlan is not None:
        return f"{nic.name}.{vlan}"
    return nic.name


def _nic_links(nic: Nic, plan: Plan) -> list[Link]:
    """The devices one NIC entry makes: members and bond, or the NIC; then its VLANs."""
    tagged = [n for n in nic.networks if _device_for(nic, n, plan) != nic.name]
    untagged = tuple(n for n in nic.networks if n not in tagged)
    mtu = nic.mtu or max((_network_mtu(plan, n) for n in nic.networks), default=DEFAULT_MTU)
    links: list[Link] = []
    if nic.bond is not None:
        links += [Link(m, "ethernet", mtu, bond=nic.name) for m in nic.bond.members]
        primary = nic.bond.primary or nic.bond.members[0]
        links.append(
            Link(
                nic.name,
                "bond",
                mtu,
                nic.macaddress,
                members=tuple(nic.bond.members),
                primary=primary,
                miimon=nic.bond.miimon,
                networks=untagged,
            )
        )
    else:
        links.append(Link(nic.name, "ethernet", mtu, nic.macaddress, networks=untagged))
    for network in tagged:
        links.append(
            Link(
                _device_for(nic, network, plan),
                "vlan",
                _network_mtu(plan, network),
                parent=nic.name,
                vlan=_network_vlan(plan, network),
                networks=(network,),
            )
        )
    return links


def _devices(host: HostPlan, plan: Plan) -> dict[str, str]:
    """network -> device holding its addresses."""
    return {n: _device_for(nic, n, plan) for nic in host.nics for n in nic.networks}


def device_for(host: HostPlan, network: str, plan: Plan) -> str | None:
    """The device holding ``host``'s addresses in ``network`` (None: no NIC carries it).

    Gateways name it in their rulesets, so it is the very device the host's netplan creates.
    """
    return _devices(host, plan).get(network)


def _first_routed(entries: list[HostAddress], own: set[str]) -> HostAddress | None:
    """The first address of a network whose gateway is another host (never this one)."""
    return next((e for e in entries if e.gateway is not None and str(e.gateway) not in own), None)


def _table_routes(
    network: str, entries: list[HostAddress], device: str, own: set[str], table: int
) -> list[Route]:
    routes = [Route(network, str(e.block), device, None, str(e.address), table) for e in entries]
    first = _first_routed(entries, own)
    if first is not None:
        routes.append(
            Route(network, "default", device, str(first.gateway), str(first.address), table)
        )
    return routes


def _supernet_route(
    network: NetworkPlan, entries: list[HostAddress], device: str, own: set[str]
) -> list[Route]:
    """Other AZs' blocks (and other zones) of the network, via its own gateway."""
    first = _first_routed(entries, own)
    supernet = network.cidr
    if first is None or any(e.block == supernet for e in entries):
        return []
    return [Route(network.name, str(supernet), device, str(first.gateway))]


def _default_route(
    host: HostPlan, plan: Plan, devices: dict[str, str], own: set[str]
) -> Route | None:
    outside = sorted({a.network for a in host.addresses if a.network not in plan.kinds})
    for network in [*outside, *plan.kinds.default_order]:
        entries = [a for a in host.addresses if a.network == network]
        first = _first_routed(entries, own)
        if first is not None:
            return Route(network, "default", devices[network], str(first.gateway))
    return None


def _az_pools(plan: Plan) -> dict[str, str]:
    """AZ -> its pod pool, when the pod range holds one for every AZ (else rule cluster-pools)."""
    cluster = plan.cluster
    pod = IPNetwork(cluster.pod_cidr)
    if cluster.pool_prefix < pod.prefixlen or subnet_count(pod, cluster.pool_prefix) < len(
        plan.azs
    ):
        return {}
    return {p.az: str(p.cidr) for p in carve_pools(cluster, plan.azs)}


def _line_routes(host: HostPlan, plan: Plan, devices: dict[str, str]) -> list[Route]:
    """An AZ router's way to the other AZs: each of their blocks and pod pools via their router.

    Only the line's holders carry these (the region's ``line``); every other host reaches another
    AZ through its own network's gateway, which is its AZ's router.
    """
    line = plan.line
    if line is None or line.name not in devices or line.address(host.az) is None:
        return []
    segment = plan.segment(line.name)
    carriers = {plan.az_of(name) for name in segment.carriers} if segment is not None else set()
    pools = _az_pools(plan)
    routes = []
    for az, via in line.addresses:
        if az == host.az or az not in carriers:
            continue
        blocks = sorted(
            {b.cidr for net in plan.networks for b in net.blocks() if b.az == az},
            key=lambda c: (c.first, c.prefixlen),
        )
        targets = [str(b) for b in blocks] + ([pools[az]] if az in pools else [])
        routes += [Route(line.name, to, devices[line.name], str(via)) for to in targets]
    return routes


def _routing(
    host: HostPlan, plan: Plan, devices: dict[str, str]
) -> tuple[list[Route], list[Rule], list[Table], str | None]:
    own = {str(a.address) for a in host.addresses}
    routes: list[Route] = []
    rules: list[Rule] = []
    tables: list[Table] = []
    default = _default_route(host, plan, devices, own)
    for net in plan.networks:
        network = net.name
        entries = [a for a in host.addresses if a.network == network]
        if not entries:
            continue
        device, table = devices[network], plan.kinds.table(network)
        if default is not None and default.network == network:
            routes.append(default)
        routes += _supernet_route(net, entries, device, own)
        routes += _table_routes(network, entries, device, own, table)
        rules += [
            Rule(network, str(e.address), table, RULE_PRIORITY_BASE + table, device)
            for e in entries
        ]
        tables.append(Table(network, table))
    if default is not None and default.network not in plan.kinds:
        routes.insert(0, default)
    routes += _line_routes(host, plan, devices)
    rules = _pod_rules(host, plan, devices) + rules
    return routes, rules, tables, default.network if default else None


def _pod_rules(host: HostPlan, plan: Plan, devices: dict[str, str]) -> list[Rule]:
    """A Kubernetes node's rules for its pods' sources (the module's "Pods' lane")."""
    network = plan.kinds.pods_network
    if host.role not in K8S_ROLES or network not in devices:
        return []
    cluster = plan.cluster
    pods, device = str(cluster.pod_cidr), devices[network]
    to_pods, to_storage, lane = POD_RULE_PRIORITIES
    rules = [Rule(network, pods, MAIN_TABLE, to_pods, device, pods)]
    storage = plan.network(plan.kinds.storage_network)
    if cluster.storage == "host-nat" and storage is not None and storage.name in devices:
        rules.append(Rule(network, pods, MAIN_TABLE, to_storage, device, str(storage.cidr)))
    rules.append(Rule(network, pods, plan.kinds.table(network), lane, device))
    return rules


def _forwarding(role: Role, router: bool) -> list[tuple[str, str]]:
    if router:
        return [("net.ipv4.ip_forward", "1")]  # it routes the AZ to the others over the line
    if role == "gateway":
        return []  # the EdgeGateway's (issue 4)
    return [("net.ipv4.ip_forward", "1" if role in K8S_ROLES else "0")]


def _sysctl_key(device: str) -> str:
    # sysctl.d: a "/" in the interface name stands for its "." (eno1.100 -> eno1/100).
    return device.replace(".", "/")


def _sysctls(role: Role, layer3: list[str], router: bool = False) -> tuple[tuple[str, str], ...]:
    values = [
        ("net.ipv4.conf.all.rp_filter", "1"),
        ("net.ipv4.conf.default.rp_filter", "1"),
        *((f"net.ipv4.conf.{_sysctl_key(d)}.rp_filter", "1") for d in layer3),
        ("net.ipv4.conf.all.arp_ignore", "1"),
        ("net.ipv4.conf.default.arp_ignore", "1"),
        ("net.ipv4.conf.all.arp_announce", "2"),
        ("net.ipv4.conf.default.arp_announce", "2"),
        ("net.ipv4.conf.all.accept_redirects", "0"),
        ("net.ipv4.conf.default.accept_redirects", "0"),
        ("net.ipv4.conf.all.send_redirects", "0"),
        ("net.ipv4.conf.default.send_redirects", "0"),
        *_forwarding(role, router),
    ]
    return tuple(values)


def _node_ip(host: HostPlan, nodes: str) -> str | None:
    """kubelet's address: the nodes' network's, in the nodes' zone when it is zoned."""
    if host.role not in K8S_ROLES:
        return None
    entry = host.address(nodes, NODE_ZONE) or host.address(nodes)
    return str(entry.address) if entry else None


def build_host_net(host: HostPlan, plan: Plan) -> HostNet:
    """The host's whole network config, from its NIC layout and its planned addresses."""
    links = [link for nic in host.nics for link in _nic_links(nic, plan)]
    devices = _devices(host, plan)
    addresses = tuple(
        Address(devices[a.network], a.network, a.zone, str(a.address), a.interface)
        for a in host.addresses
    )
    routes, rules, tables, default = _routing(host, plan, devices)
    layer3 = [link.name for link in links if link.networks]
    return HostNet(
        host=host.name,
        role=host.role,
        links=tuple(links),
        addresses=addresses,
        routes=tuple(routes),
        rules=tuple(rules),
        tables=tuple(tables),
        sysctls=_sysctls(
            host.role, layer3, plan.line is not None and host.address(plan.line.name) is not None
        ),
        default_network=default,
        node_ip=_node_ip(host, plan.kinds.nodes_network),
        path=host.path,
    )


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
        if r.table != MAIN_TABLE:
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
