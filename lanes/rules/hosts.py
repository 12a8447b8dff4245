"""Rules of hosts: names and numbers, NIC layouts and VLANs, kubelet's address, SSH access."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lanes.config import StackConfig
from lanes.config.host import K8S_ROLES, Host
from lanes.config.kinds import NODE_ZONE, NetworkKinds
from lanes.model.hostnet import HostNet, Link
from lanes.model.plan import HostAddress, HostPlan, Segment, network_segments, segment_index
from lanes.rules.catalog import RuleId
from lanes.rules.core import VLAN_RANGE, Violation, network_names

__all__ = [
    "IFNAMSIZ",
    "check_hosts",
    "check_nics",
    "check_nic_sharing",
    "check_nic_mtu",
    "check_host_links",
    "check_kubelet_zone",
    "check_kubelet_node_ip",
    "check_pinned_host_keys",
    "check_host_networks",
]


IFNAMSIZ = 15


def check_hosts(cfg: StackConfig) -> list[Violation]:
    """Host names unique, numbers unique per AZ, AZ, zones and outside addresses consistent."""
    found = []
    platform, outside = network_names(cfg)
    nodes = cfg.networks.KINDS.nodes_network
    zoned = cfg.networks.get(nodes)
    zones = {z.name: z.reserved for z in zoned.zones} if zoned is not None else {}
    names: dict[str, int] = {}
    numbers: dict[tuple[str, int], str] = {}
    for i, host in enumerate(cfg.hosts):
        path = f"hosts[{i}]"
        if host.name in names:
            found.append(
                Violation(
                    f"{path}.name",
                    RuleId.HOST_UNIQUE,
                    f"{host.name} is also hosts[{names[host.name]}]",
                )
            )
        names.setdefault(host.name, i)
        key = (host.az, host.number)
        if key in numbers:
            found.append(
                Violation(
                    f"{path}.number",
                    RuleId.HOST_NUMBER_UNIQUE,
                    f"{host.number} is already the number of {numbers[key]} in {host.az}",
                )
            )
        numbers.setdefault(key, host.name)
        if host.az not in cfg.azs:
            found.append(
                Violation(f"{path}.az", RuleId.HOST_AZ, f"{host.az} is not one of azs {cfg.azs}")
            )
        for j, zone in enumerate(host.zones or []):
            if zone not in zones:
                found.append(
                    Violation(
                        f"{path}.zones[{j}]", RuleId.HOST_ZONE, f"{zone} is not a {nodes} zone"
                    )
                )
            elif zones[zone]:
                found.append(
                    Violation(f"{path}.zones[{j}]", RuleId.HOST_ZONE, f"{zone} is a reserved zone")
                )
        attached = host.networks
        for net in sorted(host.outside):
            if net not in outside:
                found.append(
                    Violation(
                        f"{path}.outside.{net}",
                        RuleId.HOST_NETWORK,
                        f"{net} is not an outside network",
                    )
                )
            elif net not in attached:
                found.append(
                    Violation(
                        f"{path}.outside.{net}",
                        RuleId.HOST_NETWORK,
                        f"no NIC of {host.name} carries {net}",
                    )
                )
        for net in sorted((attached & outside.keys()) - host.outside.keys()):
            found.append(
                Violation(
                    f"{path}.outside",
                    RuleId.HOST_NETWORK,
                    f"{host.name} carries {net} but has no address in it",
                )
            )
    return found


def _segments(cfg: StackConfig) -> dict[str, Segment]:
    """network name -> how a NIC carries it, platform and outside networks and the line alike."""
    return segment_index(network_segments(cfg))


def _network_vlans(cfg: StackConfig) -> dict[str, int | None]:
    """network name -> VLAN id (None: untagged only)."""
    return {name: seg.vlan for name, seg in _segments(cfg).items()}


def _check_host_nics(
    host: Host, path: str, kinds: NetworkKinds, vlans: dict[str, int | None]
) -> list[Violation]:
    found = []
    carried: dict[str, str] = {}
    devices: dict[str, str] = {}
    for j, nic in enumerate(host.nics):
        npath = f"{path}.nics[{j}]"
        where = f"{host.name} {nic.name}"
        for dev in [nic.name] + (nic.bond.members if nic.bond else []):
            if dev in devices:
                found.append(
                    Violation(
                        npath,
                        RuleId.NIC_LAYOUT,
                        f"{where}: {dev} is already used by {devices[dev]}",
                    )
                )
            devices.setdefault(dev, nic.name)
        if nic.bond is not None:
            if len(nic.bond.members) < 2:
                found.append(
                    Violation(
                        f"{npath}.bond.members",
                        RuleId.BOND_MEMBERS,
                        f"{where}: an active-backup bond needs at least 2 members, has "
                        f"{len(nic.bond.members)}",
                    )
                )
            if nic.bond.primary is not None and nic.bond.primary not in nic.bond.members:
                found.append(
                    Violation(
                        f"{npath}.bond.primary",
                        RuleId.BOND_MEMBERS,
                        f"{where}: primary {nic.bond.primary} is not a member",
                    )
                )
        nets = nic.networks
        found += check_nic_sharing(npath, where, nets, kinds)
        if not nic.tagged and len(nets) > 1:
            found.append(
                Violation(
                    f"{npath}.networks",
                    RuleId.NIC_LAYOUT,
                    f"{where} is untagged but carries {len(nets)} networks",
                )
            )
        for k, net in enumerate(nets):
            if net not in vlans:
                found.append(
                    Violation(
                        f"{npath}.networks[{k}]", RuleId.HOST_NETWORK, f"{net} is not a network"
                    )
                )
                continue
            if net in carried:
                found.append(
                    Violation(
                        f"{npath}.networks[{k}]",
                        RuleId.NIC_LAYOUT,
                        f"{where}: {net} is already carried by {carried[net]}",
                    )
                )
            carried.setdefault(net, nic.name)
            vlan = vlans.get(net)
            if nic.tagged and vlan is not None and len(f"{nic.name}.{vlan}") > IFNAMSIZ:
                found.append(
                    Violation(
                        f"{npath}.name",
                        RuleId.NIC_LAYOUT,
                        f"{where}: VLAN interface {nic.name}.{vlan} is longer than "
                        f"{IFNAMSIZ} characters",
                    )
                )
    return found


def _derived_devices(
    host: Host, path: str, vlans: dict[str, int | None]
) -> Iterator[tuple[str, str, str]]:
    """(path, device, what makes it) of every device a host's NICs make, in NIC order: the
    NIC or bond, its members, and one VLAN device per tagged network with a VLAN id."""
    for j, nic in enumerate(host.nics):
        npath = f"{path}.nics[{j}]"
        yield npath, nic.name, f"NIC {nic.name}"
        for member in nic.bond.members if nic.bond else []:
            yield f"{npath}.bond.members", member, f"bond {nic.name}"
        for net in nic.networks if nic.tagged else []:
            if vlans.get(net) is not None:
                yield f"{npath}.networks", f"{nic.name}.{vlans[net]}", f"{net} on {nic.name}"


def _check_device_clashes(host: Host, path: str, vlans: dict[str, int | None]) -> list[Violation]:
    """A VLAN device one NIC makes (eno1 carrying VLAN 100 makes eno1.100) is no other NIC's
    or VLAN's device: two lanes would share it. Plain name clashes are nic-layout's."""
    made: dict[str, tuple[str, bool, str]] = {}
    found = []
    for npath, device, what in _derived_devices(host, path, vlans):
        vlan = " on " in what
        if device in made and made[device][1] and vlan and made[device][2] == npath:
            continue  # two networks on one NIC with one VLAN id: nic-vlan-distinct's
        if device in made and (vlan or made[device][1]):
            found.append(
                Violation(
                    npath,
                    RuleId.NIC_DEVICE_CLASH,
                    f"{host.name}: {what} makes device {device}, which {made[device][0]} "
                    "makes too: two lanes would share one device",
                )
            )
        made.setdefault(device, (what, vlan, npath))
    return found


def _check_macs(cfg: StackConfig) -> list[Violation]:
    """A MAC address names one NIC in the whole region (netplan matches NICs by it)."""
    owner: dict[str, str] = {}
    found = []
    for i, host in enumerate(cfg.hosts):
        for j, nic in enumerate(host.nics):
            if nic.macaddress is None:
                continue
            where = f"{host.name} {nic.name}"
            if nic.macaddress in owner:
                found.append(
                    Violation(
                        f"hosts[{i}].nics[{j}].macaddress",
                        RuleId.NIC_MAC_UNIQUE,
                        f"{where}: {nic.macaddress} is already the MAC of {owner[nic.macaddress]}",
                    )
                )
            owner.setdefault(nic.macaddress, where)
    return found


def check_nics(cfg: StackConfig) -> list[Violation]:
    """NIC layouts: bonds of 2+, one NIC per network, never three networks on one NIC, no
    device made twice, no MAC address twice."""
    kinds, vlans = cfg.networks.KINDS, _network_vlans(cfg)
    found = [
        v
        for i, host in enumerate(cfg.hosts)
        for v in _check_host_nics(host, f"hosts[{i}]", kinds, vlans)
    ]
    found += [
        v
        for i, host in enumerate(cfg.hosts)
        for v in _check_device_clashes(host, f"hosts[{i}]", vlans)
    ]
    return found + _check_macs(cfg)


def _lanes(kinds: NetworkKinds) -> list[str]:
    """The three lanes no NIC carries together: the nodes', the pods' and storage's networks."""
    return [kinds.nodes_network, kinds.pods_network, kinds.storage_network]


def check_nic_sharing(
    npath: str, where: str, networks: Iterable[str], kinds: NetworkKinds
) -> list[Violation]:
    """Never management, traffic and storage on one NIC; only traffic and storage share one."""
    on_nic = set(networks) & set(kinds.names)
    lanes = _lanes(kinds)
    if set(lanes) <= on_nic:
        return [
            Violation(
                f"{npath}.networks",
                RuleId.NIC_THREE_NETWORKS,
                f"{where} carries {', '.join(lanes[:-1])} and {lanes[-1]}: "
                "all three networks on one NIC is never allowed",
            )
        ]
    # Only the kinds that may share (traffic and storage, brief: hosts) share a NIC.
    if len(on_nic) > 1 and not on_nic <= kinds.shareable:
        return [
            Violation(
                f"{npath}.networks",
                RuleId.NIC_SHARED,
                f"{where} carries {', '.join(sorted(on_nic))}: only "
                f"{' and '.join(n for n in kinds.names if n in kinds.shareable)} may share a NIC",
            )
        ]
    return []


def check_nic_mtu(
    npath: str, where: str, mtu: int | None, carried: Iterable[tuple[str, int]]
) -> list[Violation]:
    """A NIC set to ``mtu`` fits every network it carries, ``(network, its MTU)``: a VLAN device
    never exceeds its NIC, and an untagged network gets no less than its own MTU."""
    if mtu is None:
        return []  # the NIC takes the largest MTU it carries (lanes.model.hostnet)
    return [
        Violation(f"{npath}.mtu", RuleId.NIC_MTU, f"{where}: mtu {mtu} is below {net}'s mtu {need}")
        for net, need in carried
        if mtu < need
    ]


def _nic_devices(net: HostNet) -> list[tuple[int, Link, list[Link]]]:
    """(NIC index, the NIC or bond, its VLAN interfaces), in the host's NIC order."""
    tops = [link for link in net.links if link.kind != "vlan" and link.bond is None]
    return [
        (j, top, [v for v in net.links if v.kind == "vlan" and v.parent == top.name])
        for j, top in enumerate(tops)
    ]


def check_host_links(net: HostNet, path: str, kinds: NetworkKinds) -> list[Violation]:
    """A host's devices as rendered: NIC sharing, VLAN ids in 1..4094 and distinct per NIC,
    no VLAN device above its NIC's MTU."""
    found = []
    low, high = VLAN_RANGE
    for j, top, vlans in _nic_devices(net):
        npath, where = f"{path}.nics[{j}]", f"{net.host} {top.name}"
        found += check_nic_sharing(
            npath, where, [*top.networks, *(n for v in vlans for n in v.networks)], kinds
        )
        carried = [(n, v.mtu) for v in vlans for n in v.networks]
        found += check_nic_mtu(npath, where, top.mtu, carried)
        owner: dict[int, str] = {}
        for link in vlans:
            name = link.networks[0] if link.networks else link.name
            if link.vlan is None or not low <= link.vlan <= high:
                found.append(
                    Violation(
                        f"{npath}.networks",
                        RuleId.NIC_VLAN_RANGE,
                        f"{where}: {link.name} carries {name} on VLAN {link.vlan}, "
                        f"outside {low}..{high}",
                    )
                )
            elif link.vlan in owner:
                found.append(
                    Violation(
                        f"{npath}.networks",
                        RuleId.NIC_VLAN_DISTINCT,
                        f"{where}: {owner[link.vlan]} and {name} both use VLAN {link.vlan}; "
                        "one VLAN per network",
                    )
                )
            else:
                owner[link.vlan] = name
    return found


def _kubelet_where(host: HostPlan, nodes: str) -> tuple[HostAddress | None, str]:
    """The address kubelet must bind: the nodes' network's (management), in the nodes' zone
    (k8s-nodes) when zoned."""
    own = [e for e in host.addresses if e.network == nodes]
    zoned = any(e.zone is not None for e in own)
    entry = next((e for e in own if not zoned or e.zone == NODE_ZONE), None)
    return entry, f"{nodes}/{NODE_ZONE}" if zoned else nodes


def check_kubelet_zone(host: HostPlan, nodes: str) -> list[Violation]:
    """A Kubernetes node holds an address of the nodes' network (``nodes``: management) in the
    nodes' zone (k8s-nodes) for kubelet."""
    entry, where = _kubelet_where(host, nodes)
    if host.role not in K8S_ROLES or entry is not None:
        return []
    return [
        Violation(
            f"{host.path}.zones",
            RuleId.KUBELET_NODE_IP,
            f"{host.name} ({host.role}) holds no {where} address for kubelet's --node-ip",
        )
    ]


def check_kubelet_node_ip(host: HostPlan, node_ip: str | None, nodes: str) -> list[Violation]:
    """A Kubernetes node's kubelet binds its address of the nodes' network (``nodes``) in the
    nodes' zone."""
    entry, where = _kubelet_where(host, nodes)
    if host.role not in K8S_ROLES or entry is None:
        return check_kubelet_zone(host, nodes)
    if node_ip != str(entry.address):
        return [
            Violation(
                f"{host.path}.node_ip",
                RuleId.KUBELET_NODE_IP,
                f"kubelet on {host.name} binds --node-ip {node_ip}, not its {where} "
                f"address {entry.address}",
            )
        ]
    return []


def check_pinned_host_keys(targets: Iterable[tuple[str, str, str | None]]) -> list[Violation]:
    """``(path, host, host key)`` of SSH connections: each one pins the key it accepts."""
    return [
        Violation(
            path,
            RuleId.CONNECTION_HOST_KEY,
            f"SSH to {host} accepts whatever key it is shown; pin the host's key "
            "(ssh-keyscan) so a spoofed host is refused",
        )
        for path, host, key in targets
        if not key
    ]


def _check_nic_vlans(host: Host, path: str, segments: dict[str, Segment]) -> list[Violation]:
    vlans = {name: seg.vlan for name, seg in segments.items()}
    found = []
    for j, nic in enumerate(host.nics):
        npath, where = f"{path}.nics[{j}]", f"{host.name} {nic.name}"
        known = [n for n in nic.networks if n in vlans]
        if nic.tagged and len(known) > 1:
            owner: dict[int, str] = {}
            for net in known:
                vlan = vlans[net]
                if vlan is None:
                    found.append(
                        Violation(
                            f"{npath}.networks",
                            RuleId.NIC_VLAN_MISSING,
                            f"{where}: {net} has no VLAN id, so it cannot share the NIC with "
                            f"{', '.join(n for n in known if n != net)}",
                        )
                    )
                elif vlan in owner:
                    found.append(
                        Violation(
                            f"{npath}.networks",
                            RuleId.NIC_VLAN_DISTINCT,
                            f"{where}: {owner[vlan]} and {net} both use VLAN {vlan}; one VLAN per network",
                        )
                    )
                else:
                    owner[vlan] = net
        found += check_nic_mtu(npath, where, nic.mtu, [(n, segments[n].link_mtu) for n in known])
    return found


def _check_host_access(host: Host, path: str, cfg: StackConfig) -> list[Violation]:
    # A Kubernetes node without a management address is check_kubelet_zone's (kubelet-node-ip).
    found = []
    carried = host.networks
    if host.ssh.host_key is None:
        found.append(
            Violation(
                f"{path}.ssh.host_key",
                RuleId.SSH_HOST_KEY,
                f"{host.name} has no pinned host key; add the `ssh-keyscan` line of its key",
            )
        )
    nodes = cfg.networks.KINDS.nodes_network
    if host.ssh.address is None and nodes not in carried:
        found.append(
            Violation(
                f"{path}.ssh.address",
                RuleId.SSH_ADDRESS,
                f"{host.name} has no {nodes} address to reach it by; set ssh.address",
            )
        )
    return found


def check_host_networks(cfg: StackConfig) -> list[Violation]:
    """Per host NIC: distinct VLAN ids, a VLAN for every shared network, MTUs that fit; the
    stack's hosts reachable over SSH with a pinned key (and the jump host's pinned too)."""
    found = []
    segments = _segments(cfg)
    for i, host in enumerate(cfg.hosts):
        path = f"hosts[{i}]"
        found += _check_nic_vlans(host, path, segments)
        if host.az == cfg.az:
            found += _check_host_access(host, path, cfg)
    jump = cfg.ssh.jump
    uses_jump = any(h.az == cfg.az and h.ssh.via_jump for h in cfg.hosts)
    if jump is not None and jump.host_key is None and uses_jump:
        found.append(
            Violation(
                "ssh.jump.host_key",
                RuleId.SSH_HOST_KEY,
                f"jump host {jump.address} has no pinned host key; add its `ssh-keyscan` line",
            )
        )
    return found
