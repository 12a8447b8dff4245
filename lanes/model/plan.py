"""The region's address plan: supernet -> zones -> per-AZ blocks -> gateways -> host addresses.

``plan_region`` is a pure function of the config. Hosts carry their own number, so adding or
removing a host never moves another one, and the inventory's order does not matter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from netaddr import IPAddress, IPNetwork, iprange_to_cidrs

from lanes.config import (
    ROLE_ZONES,
    Cluster,
    Gateway,
    Host,
    HostSsh,
    Line,
    Nic,
    PlatformNetwork,
    Role,
    Ssh,
    StackConfig,
)
from lanes.config.apply import DEFAULT_CONFIRM_TIMEOUT
from lanes.config.kinds import NETWORK_KINDS, NetworkKind, NetworkKinds
from lanes.model.addressing import block_gateway, host_address, nth_subnet, subnet_count

__all__ = [
    "PLATFORM_SPACE",
    "DEFAULT_MTU",
    "Segment",
    "network_segments",
    "PlanError",
    "Block",
    "ZonePlan",
    "NetworkPlan",
    "OutsidePlan",
    "HostAddress",
    "HostPlan",
    "LinePlan",
    "Plan",
    "segment_index",
    "parse_cidr",
    "plan_line",
    "plan_region",
]

# RFC 6598 shared address space: everything the platform owns is carved from it.
PLATFORM_SPACE = IPNetwork("100.64.0.0/10")
# The MTU of a network whose MTU lanes does not set (an outside network's).
DEFAULT_MTU = 1500


class PlanError(ValueError):
    """The config breaks a precondition of the planner; rules.checked_plan reports these first."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Block:
    """One AZ's block of a network (or zone), with its gateway address."""

    network: str
    zone: str | None
    az: str
    cidr: IPNetwork
    gateway: IPAddress
    path: str

    @property
    def size(self) -> int:
        return self.cidr.size

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "zone": self.zone,
            "az": self.az,
            "cidr": str(self.cidr),
            "size": self.cidr.size,
            "gateway": str(self.gateway),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str) -> Block:
        """The inverse of ``to_dict``; ``path`` is the config path the planner would give it."""
        return cls(
            data["network"],
            data.get("zone"),
            data["az"],
            IPNetwork(data["cidr"]),
            IPAddress(data["gateway"]),
            path,
        )


@dataclass(frozen=True)
class ZonePlan:
    """A zone, or the whole network when it has no zones (``name`` None)."""

    name: str | None
    cidr: IPNetwork
    reserved: bool
    blocks: tuple[Block, ...]
    reserved_blocks: tuple[IPNetwork, ...]
    path: str

    def block(self, az: str) -> Block | None:
        return next((b for b in self.blocks if b.az == az), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cidr": str(self.cidr),
            "size": self.cidr.size,
            "reserved": self.reserved,
            "blocks": [b.to_dict() for b in self.blocks],
            "reserved_blocks": [str(c) for c in self.reserved_blocks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str) -> ZonePlan:
        """The inverse of ``to_dict``; blocks get ``<path>.blocks.<az>`` as the planner gives."""
        return cls(
            data.get("name"),
            IPNetwork(data["cidr"]),
            bool(data["reserved"]),
            tuple(Block.from_dict(b, f"{path}.blocks.{b['az']}") for b in data["blocks"]),
            tuple(IPNetwork(c) for c in data["reserved_blocks"]),
            path,
        )


@dataclass(frozen=True)
class NetworkPlan:
    """A platform network's plan."""

    name: str
    cidr: IPNetwork
    vlan: int
    mtu: int
    zones: tuple[ZonePlan, ...]
    reserved: tuple[IPNetwork, ...]  # what no zone takes (zoned networks only)
    path: str

    @property
    def zoned(self) -> bool:
        return self.zones[0].name is not None

    def zone(self, name: str | None) -> ZonePlan | None:
        return next((z for z in self.zones if z.name == name), None)

    def blocks(self) -> list[Block]:
        return [b for z in self.zones for b in z.blocks]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cidr": str(self.cidr),
            "size": self.cidr.size,
            "vlan": self.vlan,
            "mtu": self.mtu,
            "zones": [z.to_dict() for z in self.zones],
            "reserved": [str(c) for c in self.reserved],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NetworkPlan:
        """The inverse of ``to_dict`` (extra keys ignored, absent ones None, as the engine hands
        props over); paths as ``_plan_network`` gives them.

        CIDRs keep any host bits they carry, so a rule can still see a value off its boundary.
        """
        path = f"networks.{data['name']}"
        zones = list(data["zones"])
        unzoned = len(zones) == 1 and zones[0].get("name") is None
        return cls(
            data["name"],
            IPNetwork(data["cidr"]),
            int(data["vlan"]),
            int(data["mtu"]),
            tuple(
                ZonePlan.from_dict(z, path if unzoned else f"{path}.zones[{i}]")
                for i, z in enumerate(zones)
            ),
            tuple(IPNetwork(c) for c in data["reserved"]),
            path,
        )


@dataclass(frozen=True)
class OutsidePlan:
    """A network lanes does not own."""

    name: str
    cidr: IPNetwork
    vlan: int | None
    gateway: IPAddress | None
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cidr": str(self.cidr),
            "vlan": self.vlan,
            "gateway": str(self.gateway) if self.gateway else None,
        }


@dataclass(frozen=True)
class LinePlan:
    """The dedicated line between the AZ routers: AZ i's router holds the (i+1)-th address."""

    name: str
    cidr: IPNetwork
    vlan: int | None
    mtu: int
    addresses: tuple[tuple[str, IPAddress], ...]  # (az, the address of its router), AZ order
    path: str = "line"

    def address(self, az: str) -> IPAddress | None:
        return dict(self.addresses).get(az)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cidr": str(self.cidr),
            "vlan": self.vlan,
            "mtu": self.mtu,
            "addresses": {az: str(a) for az, a in self.addresses},
        }


SegmentScope = Literal["platform", "outside", "line"]


@dataclass(frozen=True)
class Segment:
    """A network as the hosts' NICs carry it: a platform network, an outside network or the line.

    The one lookup of what a NIC needs to carry a network (its VLAN, its MTU) and who carries
    it, the same for the three scopes; ``kind`` is a platform network's row of the kinds table.
    """

    name: str
    scope: SegmentScope
    cidr: IPNetwork  # as written: host bits kept, never masked (rules.check_boundaries)
    vlan: int | None
    mtu: int | None  # None: lanes does not set it (outside networks)
    carriers: tuple[str, ...]  # the hosts whose NICs carry it, in inventory order
    path: str
    kind: NetworkKind | None = None

    @property
    def link_mtu(self) -> int:
        """The MTU a device carrying it gets, and so the least a NIC carrying it must have."""
        return self.mtu if self.mtu is not None else DEFAULT_MTU


def _carriers(cfg: StackConfig) -> dict[str, tuple[str, ...]]:
    """network -> the hosts whose NICs carry it, in inventory order."""
    found: dict[str, list[str]] = {}
    for host in cfg.hosts:
        for name in sorted(host.networks):
            found.setdefault(name, []).append(host.name)
    return {name: tuple(hosts) for name, hosts in found.items()}


def network_segments(cfg: StackConfig) -> tuple[Segment, ...]:
    """Every network a NIC may carry: the platform networks in the kinds' order, the outside
    networks by name, the line. A name taken twice is looked up as the first of these that has
    it (the rules refuse the clash)."""
    kinds = cfg.networks.KINDS
    carriers = _carriers(cfg)
    found = [
        Segment(
            name,
            "platform",
            IPNetwork(net.cidr),
            net.vlan,
            net.mtu,
            carriers.get(name, ()),
            f"networks.{name}",
            kinds.kind(name),
        )
        for name, net in cfg.networks.items()
    ]
    outside = {net.name: (i, net) for i, net in enumerate(cfg.outside)}
    found += [
        Segment(
            name,
            "outside",
            IPNetwork(net.cidr),
            net.vlan,
            None,
            carriers.get(name, ()),
            f"outside[{i}]",
        )
        for name, (i, net) in sorted(outside.items())
    ]
    if cfg.line is not None:
        line = cfg.line
        found.append(
            Segment(
                line.name,
                "line",
                IPNetwork(line.cidr),
                line.vlan,
                line.mtu,
                carriers.get(line.name, ()),
                "line",
            )
        )
    return tuple(found)


def segment_index(segments: tuple[Segment, ...]) -> dict[str, Segment]:
    """name -> segment: a platform network before the line before an outside network."""
    order = {"platform": 0, "line": 1, "outside": 2}
    index: dict[str, Segment] = {}
    for seg in sorted(segments, key=lambda s: order[s.scope]):
        index.setdefault(seg.name, seg)
    return index


def plan_line(cfg: Line, azs: tuple[str, ...]) -> LinePlan:
    """The line's plan; AZs beyond the subnet's usable addresses get none (rule line-size)."""
    cidr = parse_cidr(cfg.cidr, "line.cidr")
    usable = max(cidr.size - 2, 0) if cidr.prefixlen < 31 else cidr.size
    first = cidr.first + (1 if cidr.prefixlen < 31 else 0)
    addresses = tuple((az, IPAddress(first + i)) for i, az in enumerate(azs) if i < usable)
    return LinePlan(cfg.name, cidr, cfg.vlan, cfg.mtu, addresses)


@dataclass(frozen=True)
class HostAddress:
    """One address of a host: network, zone, the address, its block and the block's gateway."""

    network: str
    zone: str | None
    address: IPAddress
    block: IPNetwork
    gateway: IPAddress | None

    @property
    def interface(self) -> str:
        """``address/prefixlen`` as an interface carries it."""
        return f"{self.address}/{self.block.prefixlen}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "zone": self.zone,
            "address": str(self.address),
            "block": str(self.block),
            "gateway": str(self.gateway) if self.gateway else None,
        }


@dataclass(frozen=True)
class HostPlan:
    """A host and every address it holds, in network order; and what the host model, the
    cluster and the SSH connections read of its inventory entry (NICs, access, labels)."""

    name: str
    number: int
    role: Role
    az: str
    addresses: tuple[HostAddress, ...]
    path: str
    nics: tuple[Nic, ...] = field(default=(), compare=False, repr=False)
    ssh: HostSsh = field(default_factory=HostSsh, compare=False, repr=False)
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # It holds its AZ's gateway address of the pods' network: the AZ's router (BGP, the line).
    router: bool = field(default=False, compare=False)
    # Where SSH reaches it: ``ssh.address``, else its first address of the nodes' network.
    ssh_address: str | None = field(default=None, compare=False)

    @property
    def networks(self) -> frozenset[str]:
        """Every network one of its NICs carries."""
        return frozenset(net for nic in self.nics for net in nic.networks)

    def address(self, network: str, zone: str | None = None) -> HostAddress | None:
        """The host's address in a network (in ``zone`` when given)."""
        for entry in self.addresses:
            if entry.network == network and (zone is None or entry.zone == zone):
                return entry
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "number": self.number,
            "role": self.role,
            "az": self.az,
            "addresses": [a.to_dict() for a in self.addresses],
        }


@dataclass(frozen=True)
class Plan:
    """The whole region's plan; ``az`` is the one the stack manages.

    Besides the addresses it carries what the layers above read of the config, and nothing
    else: the gateway intents, the cluster section, the SSH settings and the apply timeout;
    ``kinds`` is the network kinds' table it was planned with, ``segments`` how a NIC carries
    each network (``segment``).
    """

    region: str
    environment: str
    az: str
    azs: tuple[str, ...]
    networks: tuple[NetworkPlan, ...]
    outside: tuple[OutsidePlan, ...]
    hosts: tuple[HostPlan, ...]
    line: LinePlan | None = None
    kinds: NetworkKinds = field(default=NETWORK_KINDS, compare=False, repr=False)
    segments: tuple[Segment, ...] = field(default=(), compare=False, repr=False)
    gateways: tuple[Gateway, ...] = field(default=(), compare=False, repr=False)
    cluster: Cluster = field(default_factory=Cluster, compare=False, repr=False)
    ssh: Ssh = field(default_factory=Ssh, compare=False, repr=False)
    confirm_timeout: int = field(default=DEFAULT_CONFIRM_TIMEOUT, compare=False)

    def network(self, name: str) -> NetworkPlan | None:
        return next((n for n in self.networks if n.name == name), None)

    @functools.cached_property
    def _segments(self) -> dict[str, Segment]:
        return segment_index(self.segments)

    def segment(self, name: str) -> Segment | None:
        """The network ``name`` as a NIC carries it (platform, outside or the line)."""
        return self._segments.get(name)

    def outside_network(self, name: str) -> OutsidePlan | None:
        return next((n for n in self.outside if n.name == name), None)

    def host(self, name: str) -> HostPlan | None:
        return next((h for h in self.hosts if h.name == name), None)

    def az_of(self, host: str) -> str:
        """The AZ of host ``host`` (KeyError: no such host)."""
        found = self.host(host)
        if found is None:
            raise KeyError(host)
        return found.az

    def stack_hosts(self) -> list[HostPlan]:
        """Hosts of the AZ this stack manages."""
        return [h for h in self.hosts if h.az == self.az]

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "environment": self.environment,
            "az": self.az,
            "azs": list(self.azs),
            "networks": [n.to_dict() for n in self.networks],
            "outside": [n.to_dict() for n in self.outside],
            "hosts": [h.to_dict() for h in self.hosts],
        } | ({"line": self.line.to_dict()} if self.line else {})

    def stack_dict(self) -> dict[str, Any]:
        """What the stack's AZ owns of ``to_dict``: every key, the hosts of its AZ only, so that
        a host added to another AZ changes nothing of this stack (its outputs, its state)."""
        return self.to_dict() | {"hosts": [h.to_dict() for h in self.stack_hosts()]}


def parse_cidr(value: str, path: str) -> IPNetwork:
    """A prefix that must sit on its own boundary; never masked (brief, errata)."""
    net = IPNetwork(value)
    if net.ip != net.network:
        lower = net.cidr
        upper = IPNetwork(f"{IPAddress(lower.last + 1)}/{net.prefixlen}")
        raise PlanError(
            path,
            f"{value} is not on a /{net.prefixlen} boundary "
            f"(the /{net.prefixlen} around it is {lower}; the next one is {upper})",
        )
    return net


def _leftover(parent: IPNetwork, prefixlen: int, used: int) -> tuple[IPNetwork, ...]:
    """The part of ``parent`` after its first ``used`` subnets of ``prefixlen``, merged."""
    if used >= subnet_count(parent, prefixlen):
        return ()
    start = nth_subnet(parent, prefixlen, used).first
    return tuple(iprange_to_cidrs(IPAddress(start), IPAddress(parent.last)))


def _plan_zone(
    network: str,
    zone: str | None,
    cidr: IPNetwork,
    reserved: bool,
    block_prefix: int,
    azs: tuple[str, ...],
    path: str,
) -> ZonePlan:
    if reserved:
        return ZonePlan(zone, cidr, True, (), (cidr,), path)
    if block_prefix < cidr.prefixlen:
        raise PlanError(path, f"block_prefix /{block_prefix} is larger than {cidr}")
    if subnet_count(cidr, block_prefix) < len(azs):
        raise PlanError(
            path,
            f"{cidr} holds {subnet_count(cidr, block_prefix)} blocks of /{block_prefix}, "
            f"fewer than the {len(azs)} AZs",
        )
    blocks = tuple(
        Block(network, zone, az, sub, block_gateway(sub), f"{path}.blocks.{az}")
        for az, sub in ((az, nth_subnet(cidr, block_prefix, i)) for i, az in enumerate(azs))
    )
    return ZonePlan(zone, cidr, False, blocks, _leftover(cidr, block_prefix, len(azs)), path)


def _plan_network(name: str, cfg: PlatformNetwork, azs: tuple[str, ...]) -> NetworkPlan:
    path = f"networks.{name}"
    cidr = parse_cidr(cfg.cidr, f"{path}.cidr")
    if not cfg.zones:
        zone = _plan_zone(name, None, cidr, False, cfg.block_prefix, azs, path)
        return NetworkPlan(name, cidr, cfg.vlan, cfg.mtu, (zone,), (), path)
    if cfg.zone_prefix is None:
        raise PlanError(f"{path}.zone_prefix", "is required when the network has zones")
    if cfg.zone_prefix < cidr.prefixlen or subnet_count(cidr, cfg.zone_prefix) < len(cfg.zones):
        raise PlanError(
            f"{path}.zones",
            f"{len(cfg.zones)} zones of /{cfg.zone_prefix} do not fit in {cidr}",
        )
    zones = tuple(
        _plan_zone(
            name,
            zone.name,
            nth_subnet(cidr, cfg.zone_prefix, i),
            zone.reserved,
            cfg.block_prefix,
            azs,
            f"{path}.zones[{i}]",
        )
        for i, zone in enumerate(cfg.zones)
    )
    leftover = _leftover(cidr, cfg.zone_prefix, len(cfg.zones))
    return NetworkPlan(name, cidr, cfg.vlan, cfg.mtu, zones, leftover, path)


def _host_zones(host: Host, network: NetworkPlan) -> list[ZonePlan]:
    """Zones of ``network`` the host sits in: its own list, else its role's, else the first
    (a network without zones is its one zone)."""
    if not network.zoned:
        return list(network.zones)
    usable = {z.name: z for z in network.zones if not z.reserved}
    wanted = [usable[z] for z in (host.zones or [ROLE_ZONES[host.role]]) if z in usable]
    return wanted or list(usable.values())[:1]


def _host_addresses(
    host: Host,
    networks: dict[str, NetworkPlan],
    outside: dict[str, OutsidePlan],
    line: LinePlan | None = None,
) -> tuple[HostAddress, ...]:
    attached = host.networks
    result: list[HostAddress] = []
    for name in networks:
        if name not in attached:
            continue
        network = networks[name]
        for zone in _host_zones(host, network):
            block = zone.block(host.az)
            if block is None:
                continue  # an AZ the region does not have: rules.check_hosts reports it
            address = host_address(block.cidr, host.number)
            result.append(HostAddress(name, zone.name, address, block.cidr, block.gateway))
    for name in sorted(attached & outside.keys()):
        net = outside[name]
        for addr in host.outside.get(name, []):
            result.append(HostAddress(name, None, IPAddress(addr), net.cidr, net.gateway))
    own = line.address(host.az) if line is not None and line.name in attached else None
    if line is not None and own is not None:
        result.append(HostAddress(line.name, None, own, line.cidr, None))
    return tuple(result)


def _is_router(addresses: tuple[HostAddress, ...], pods: str) -> bool:
    """The host holds its AZ's gateway address of the pods' network (traffic)."""
    entry = next((a for a in addresses if a.network == pods), None)
    return entry is not None and entry.address == entry.gateway


def _ssh_address(host: Host, addresses: tuple[HostAddress, ...], nodes: str) -> str | None:
    """The host's SSH address: its own ``ssh.address``, else its first address in the nodes'
    network (management)."""
    own = next((a for a in addresses if a.network == nodes), None)
    return host.ssh.address or (str(own.address) if own else None)


def _plan_host(
    host: Host, index: int, addresses: tuple[HostAddress, ...], kinds: NetworkKinds
) -> HostPlan:
    return HostPlan(
        host.name,
        host.number,
        host.role,
        host.az,
        addresses,
        f"hosts[{index}]",
        tuple(host.nics),
        host.ssh,
        dict(host.labels),
        _is_router(addresses, kinds.pods_network),
        _ssh_address(host, addresses, kinds.nodes_network),
    )


def plan_region(cfg: StackConfig) -> Plan:
    """The whole region's plan. Raises PlanError where the config breaks a precondition.

    The network kinds are the table the config's ``networks`` were read with."""
    kinds = cfg.networks.KINDS
    azs = tuple(cfg.azs)
    networks = {name: _plan_network(name, net, azs) for name, net in cfg.networks.items()}
    outside = {
        net.name: OutsidePlan(
            net.name,
            parse_cidr(net.cidr, f"outside[{i}].cidr"),
            net.vlan,
            IPAddress(net.gateway) if net.gateway else None,
            f"outside[{i}]",
        )
        for i, net in enumerate(cfg.outside)
    }
    line = plan_line(cfg.line, azs) if cfg.line is not None else None
    hosts = sorted(
        (
            _plan_host(h, i, _host_addresses(h, networks, outside, line), kinds)
            for i, h in enumerate(cfg.hosts)
        ),
        key=lambda h: (h.az, h.number, h.name),
    )
    return Plan(
        cfg.region,
        cfg.environment,
        cfg.az,
        azs,
        tuple(networks[name] for name in kinds.names),
        tuple(outside[name] for name in sorted(outside)),
        tuple(hosts),
        line,
        kinds,
        network_segments(cfg),
        tuple(cfg.gateways),
        cfg.cluster,
        cfg.ssh,
        cfg.apply.confirm_timeout,
    )
