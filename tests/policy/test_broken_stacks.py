"""Broken stacks, one or more per policy: each yields that policy's violation and no other.

A case starts from a committed stack file and breaks one thing, either

- in the config (``config``), with the program's own ``check`` gate off, so the pack alone must
  catch what the program would register; the plan command (``rules.check``) refuses the same
  config, which is what a user sees before any resource exists (``cli``: the line it prints); or
- in the registered props (``props``), for what no config can produce because the planner and
  the derivations never compute it (a component registering a value off its boundary, blocks
  out of order, a gateway with its SNAT steps reordered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lanes.config import parse_stack_config
from lanes.render.limits import checked_objects
from lanes.rules import checked_plan
from tests.support.mutate import DELETE, changed
from tests.support.policy_run import load_pack, run_policies
from tests.support.pulumi_run import Registered, stack_values

Values = dict[str, Any]


@dataclass(frozen=True)
class Case:
    id: str
    policy: str
    stack: str
    message: str
    config: Callable[[Values], Values] | None = None
    props: Callable[[list[Registered]], None] | None = None
    # The plan command's line when it words the fault differently: host and gateway
    # components do not register their config index (inserting a host would change every
    # later host's inputs), so the pack names them by name (``hosts.master-1``).
    cli: str | None = None

    def __str__(self) -> str:
        return self.id


# --- breaking the config ------------------------------------------------------------------


def setting(path: str, value: Any) -> Callable[[Values], Values]:
    return lambda values: changed(values, path, value)


def swap_first_management_zones(values: Values) -> Values:
    zones = list(values["networks"]["management"]["zones"])
    zones[0], zones[1] = zones[1], zones[0]
    return changed(values, "networks.management.zones", zones)


def one_nic_for_all(host: int) -> Callable[[Values], Values]:
    nic = {"name": "eth0", "networks": ["management", "traffic", "storage"]}
    return setting(f"hosts[{host}].nics", [nic])


def pod_range(cidr: str, pool_prefix: int) -> Callable[[Values], Values]:
    def change(values: Values) -> Values:
        return changed(
            setting("cluster.pod_cidr", cidr)(values), "cluster.pool_prefix", pool_prefix
        )

    return change


# --- breaking the registered props --------------------------------------------------------


def edit(name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[list[Registered]], None]:
    def alter(resources: list[Registered]) -> None:
        (found,) = [r for r in resources if r.name == name]
        change(found.inputs)

    return alter


def registered(name: str, key: str, value: Any) -> Callable[[list[Registered]], None]:
    """A component that registers ``key`` as ``value`` in its props and its outputs."""

    def alter(resources: list[Registered]) -> None:
        (found,) = [r for r in resources if r.name == name]
        found.inputs[key] = found.outputs[key] = value

    return alter


def put(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        node = props
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return change


def swap_first_blocks(props: dict[str, Any]) -> None:
    first, second = props["zones"][0]["blocks"][:2]
    for key in ("cidr", "gateway"):
        first[key], second[key] = second[key], first[key]


def block_in_reserved_zone(props: dict[str, Any]) -> None:
    zone = props["zones"][3]
    zone["blocks"] = [
        {
            "network": "management",
            "zone": zone["name"],
            "az": "az-1",
            "cidr": "100.64.192.0/20",
            "size": 4096.0,
            "gateway": "100.64.192.1",
        }
    ]


def renumber(network: str, address: str) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        (entry,) = [a for a in props["network"]["addresses"] if a["network"] == network]
        entry["address"] = address
        entry["cidr"] = f"{address}/{entry['cidr'].split('/')[1]}"

    return change


def unnumbered(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """A host registered without its number (before the component says it): the pack reads
    the number its first platform address carries."""

    def alter(props: dict[str, Any]) -> None:
        del props["number"]
        change(props)

    return alter


def vlan_of(device: str, vlan: float) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        (link,) = [link for link in props["network"]["links"] if link["name"] == device]
        link["vlan"] = vlan

    return change


def egress_first(props: dict[str, Any]) -> None:
    steps = props["snat"]
    props["snat"] = [s for s in steps if s["kind"] == "egress"] + [
        s for s in steps if s["kind"] != "egress"
    ]


def egress_translates_everything(props: dict[str, Any]) -> None:
    (step,) = [s for s in props["snat"] if s["kind"] == "egress"]
    del step["exempt"], step["egress"]["exempt"]


def ssh_to_the_consume_address(props: dict[str, Any]) -> None:
    # vpc-1-nat consumes vpc-2-web at 192.168.0.200:80; its host answers SSH there too
    props["spec"]["egress"].append(
        {
            "to": [{"ipBlock": {"cidr": "192.168.0.200/32"}}],
            "ports": [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 22}],
        }
    )


# --- the table ----------------------------------------------------------------------------

CASES = [
    Case(
        "boundary-network",
        "cidr-on-boundary",
        "prod",
        "networks.traffic.cidr: 100.65.0.1/16 is not on a /16 boundary (the /16 around it is "
        "100.65.0.0/16; the next one is 100.66.0.0/16) [cidr-boundary]",
        props=edit("east-traffic", put("cidr", value="100.65.0.1/16")),
    ),
    Case(
        "boundary-pod-range",
        "cidr-on-boundary",
        "prod",
        "cluster.pod_cidr: 100.96.0.1/12 is not on a /12 boundary (the /12 around it is "
        "100.96.0.0/12; the next one is 100.112.0.0/12) [cidr-boundary]",
        props=edit("east-cluster", put("pod_cidr", value="100.96.0.1/12")),
    ),
    Case(
        "outside-shared-space",
        "platform-space",
        "dev",
        "networks.adjacency.cidr: 172.16.0.0/21 is not inside 100.64.0.0/10 [platform-space]",
        config=setting("networks.adjacency.cidr", "172.16.0.0/21"),
    ),
    Case(
        "blocks-swapped",
        "blocks-in-az-order",
        "prod",
        "networks.traffic.blocks: blocks must be carved in AZ order (az-1 100.65.0.0/20, "
        "az-2 100.65.16.0/20, az-3 100.65.32.0/20); found az-1 100.65.16.0/20, "
        "az-2 100.65.0.0/20, az-3 100.65.32.0/20 [block-order]",
        props=edit("east-traffic", swap_first_blocks),
    ),
    Case(
        "block-in-reserved-zone",
        "reserved-blocks-unused",
        "prod",
        "networks.management.zones[3].blocks: reserved zone reserved 100.64.192.0/18 holds AZ "
        "blocks 100.64.192.0/20; it must stay empty [reserved-unused]",
        props=edit("east-management", block_in_reserved_zone),
    ),
    Case(
        "zones-out-of-order",
        "management-zones",
        "prod",
        "networks.management.zones: zones are k8s-nodes, cloud-management, enterprise-mapping, "
        "reserved; a zoned management network has four zones, in this order: cloud-management, "
        "k8s-nodes, enterprise-mapping, reserved [management-zones]",
        config=swap_first_management_zones,
    ),
    Case(
        "reserved-zone-unreserved",
        "management-zones",
        "prod",
        "networks.management.zones[3].reserved: zone reserved must be reserved [management-zones]",
        props=edit("east-management", put("zones", 3, "reserved", value=False)),
    ),
    Case(
        "networks-overlap",
        "networks-disjoint",
        "dev",
        "networks.management.cidr: 100.64.0.0/21 overlaps networks.adjacency (100.64.0.0/20) "
        "[network-overlap]",
        config=setting("networks.adjacency.cidr", "100.64.0.0/20"),
    ),
    Case(
        "vlan-reused",
        "vlan-ids",
        "dev",
        "networks.storage.vlan: 20 is already the VLAN of traffic [vlan-distinct]",
        config=setting("networks.storage.vlan", 20),
    ),
    Case(
        "vlan-out-of-range",
        "vlan-ids",
        "dev",
        "networks.adjacency.vlan: 5000 is outside 1..4094 [vlan-range]",
        # The schema refuses it in a config (exit 2); a component could still register it.
        props=registered("lab-adjacency", "vlan", 5000),
    ),
    Case(
        "host-on-network-address",
        "host-in-block",
        "dev",
        "hosts.worker-1.number: 0 gives worker-1 100.64.0.0 in management, which is not a usable "
        "address of its az-1 block 100.64.0.0/21 [host-in-block]",
        config=setting("hosts[4].number", 0),
        cli="hosts[4].number: 0 gives worker-1 100.64.0.0 in management, which is not a usable "
        "address of its az-1 block 100.64.0.0/21 [host-in-block]",
    ),
    Case(
        "two-hosts-one-number",
        "host-addresses-unique",
        "dev",
        "hosts.worker-1: worker-1 management address 100.64.0.2 is also held by master-1 "
        "[address-unique]",
        config=setting("hosts[4].number", 2),
        cli="hosts[4].number: 2 is already the number of master-1 in az-1 [host-number-unique]",
    ),
    Case(
        "host-renumbered-in-storage",
        "host-number-same",
        "dev",
        "hosts.master-1.number: master-1 holds 100.64.64.9 in storage, not 100.64.64.2: a host "
        "keeps its number 2 in every network [host-number-same]",
        props=edit("master-1", renumber("storage", "100.64.64.9")),
    ),
    Case(
        "host-renumbered-without-its-number",
        "host-number-same",
        "dev",
        "hosts.master-1.number: master-1 holds 100.64.64.9 in storage, not 100.64.64.2: a host "
        "keeps its number 2 in every network [host-number-same]",
        props=edit("master-1", unnumbered(renumber("storage", "100.64.64.9"))),
    ),
    Case(
        "three-networks-one-nic",
        "nic-networks",
        "dev",
        "hosts.master-1.nics[0].networks: master-1 eth0 carries management, traffic and "
        "storage: all three networks on one NIC is never allowed [nic-three-networks]",
        config=one_nic_for_all(3),
        cli="hosts[3].nics[0].networks: master-1 eth0 carries management, traffic and storage: "
        "all three networks on one NIC is never allowed [nic-three-networks]",
    ),
    Case(
        "nic-vlan-reused",
        "host-vlans",
        "prod",
        "hosts.worker-4.nics[1].networks: worker-4 ens1f0: traffic and storage both use VLAN 200; "
        "one VLAN per network [nic-vlan-distinct]",
        props=edit("worker-4", vlan_of("ens1f0.300", 200.0)),
    ),
    Case(
        "nic-vlan-out-of-range",
        "host-vlans",
        "prod",
        "hosts.worker-4.nics[1].networks: worker-4 ens1f0: ens1f0.300 carries storage on VLAN "
        "4095, outside 1..4094 [nic-vlan-range]",
        props=edit("worker-4", vlan_of("ens1f0.300", 4095.0)),
    ),
    Case(
        "nic-below-the-line",
        "nic-mtu",
        "prod",
        "hosts.edge-1.nics[3].mtu: edge-1 ens3f0: mtu 1500 is below az-line's mtu 9000 [nic-mtu]",
        config=lambda values: changed(
            changed(changed(values, "line.mtu", 9000), "line.vlan", 900),
            "hosts[0].nics[3].mtu",
            1500,
        ),
        cli="hosts[0].nics[3].mtu: edge-1 ens3f0: mtu 1500 is below az-line's mtu 9000 [nic-mtu]",
    ),
    Case(
        "worker-outside-k8s-zone",
        "kubelet-node-ip",
        "prod",
        "hosts.worker-1.zones: worker-1 (worker) holds no management/k8s-nodes address for "
        "kubelet's --node-ip [kubelet-node-ip]",
        config=setting("hosts[5].zones", ["cloud-management"]),
        cli="hosts[5].zones: worker-1 (worker) holds no management/k8s-nodes address for "
        "kubelet's --node-ip [kubelet-node-ip]",
    ),
    Case(
        "kubelet-on-traffic",
        "kubelet-node-ip",
        "prod",
        "hosts.master-1.node_ip: kubelet on master-1 binds --node-ip 100.65.0.11, not its "
        "management/k8s-nodes address 100.64.64.11 [kubelet-node-ip]",
        props=edit("master-1", put("network", "node_ip", value="100.65.0.11")),
    ),
    Case(
        "host-key-unpinned",
        "ssh-host-keys-pinned",
        "dev",
        "lb-apply.connection.hostKey: SSH to 100.64.0.53 accepts whatever key it is shown; pin "
        "the host's key (ssh-keyscan) so a spoofed host is refused [connection-host-key]",
        config=setting("hosts[2].ssh.host_key", DELETE),
        cli="hosts[2].ssh.host_key: lb has no pinned host key; add the `ssh-keyscan` line of its "
        "key [ssh-host-key]",
    ),
    Case(
        "egress-snat-toward-platform",
        "egress-snat-exempts-platform",
        "prod",
        "gateways.edge.egress[0]: egress SNAT of edge would translate traffic to 100.64.0.0/10 "
        "[gateway-snat-exempt]",
        props=edit("edge", egress_translates_everything),
    ),
    Case(
        "egress-snat-first",
        "specific-snat-before-egress",
        "prod",
        "gateways.edge.egress[0]: egress SNAT of edge comes before its ingress-reply, mapping "
        "SNAT [gateway-snat-order]",
        props=edit("edge", egress_first),
    ),
    Case(
        "service-range-on-ovn-transit",
        "cluster-ranges-disjoint",
        "prod",
        "cluster.service_cidr: 100.88.0.0/16 overlaps the OVN-Kubernetes transit switch subnet "
        "100.88.0.0/16 [cluster-overlap]",
        config=setting("cluster.service_cidr", "100.88.0.0/16"),
    ),
    Case(
        "pod-pool-on-storage",
        "pod-pools-disjoint",
        "prod",
        "east-cluster-ippool-az-1.spec.cidr: pool 100.66.0.0/17 overlaps the storage network "
        "100.66.0.0/16 [pool-overlap]",
        config=pod_range("100.66.0.0/15", 17),
        cli="cluster.pod_cidr: 100.66.0.0/15 overlaps the storage network 100.66.0.0/16 "
        "(networks.storage.cidr) [cluster-overlap]",
    ),
    Case(
        "router-imports-the-management-network",
        "router-bgp-imports-pods",
        "prod",
        "edge-1-bgp.pool: the router imports 100.64.0.0/16, which is not inside the pod range "
        "100.96.0.0/12 [bgp-import]",
        props=edit("edge-1-bgp", put("pool", value="100.64.0.0/16")),
    ),
    Case(
        "router-peers-on-management",
        "router-bgp-imports-pods",
        "prod",
        "edge-1-bgp.neighbors: BGP neighbors 100.64.64.21 are not in the router's traffic block "
        "100.65.0.0/20: only its AZ's nodes' traffic addresses announce pod blocks [bgp-import]",
        props=edit("edge-1-bgp", put("neighbors", value=["100.65.0.21", "100.64.64.21"])),
    ),
    Case(
        "calico-on-management",
        "cni-autodetect-traffic",
        "prod",
        "east-cluster-installation.spec.calicoNetwork.nodeAddressAutodetectionV4: node address "
        "autodetection uses 100.64.64.0/20; it must be pinned to the traffic blocks "
        "100.65.0.0/20, 100.65.16.0/20, 100.65.32.0/20 [cni-autodetect]",
        props=edit(
            "east-cluster-installation",
            put(
                "spec",
                "calicoNetwork",
                "nodeAddressAutodetectionV4",
                "cidrs",
                value=["100.64.64.0/20"],
            ),
        ),
    ),
    Case(
        "tenant-deny-ingress-only",
        "tenant-default-deny",
        "prod",
        "east-cluster-namespace-analytics.metadata: tenant namespace analytics has no "
        "default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules) "
        "[tenant-default-deny]",
        props=edit(
            "east-cluster-netpol-analytics-default-deny",
            put("spec", "policyTypes", value=["Ingress"]),
        ),
    ),
    Case(
        "gateway-listener-open-to-all",
        "gateway-routes-tenant-scoped",
        "prod",
        "east-cluster-gateway-az-1.spec.listeners[0].allowedRoutes.namespaces: listener "
        "shop-80-wildcard.shop.example.com admits routes of more than one tenant: it must select "
        "one namespace by kubernetes.io/metadata.name (from: Selector) [gateway-listener-scope]",
        props=edit(
            "east-cluster-gateway-az-1",
            put("spec", "listeners", 0, "allowedRoutes", "namespaces", value={"from": "All"}),
        ),
    ),
]


def add_hostname(tenant: int, hostname: str) -> Callable[[Values], Values]:
    def change(values: Values) -> Values:
        names = values["cluster"]["tenants"][tenant].get("hostnames", [])
        return changed(values, f"cluster.tenants[{tenant}].hostnames", [*names, hostname])

    return change


def grow_addresses(count: int) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        props["spec"]["addresses"] = [
            {"type": "IPAddress", "value": f"100.65.0.{40 + i}"} for i in range(count)
        ]

    return change


CASES += [
    Case(
        "gateway-class-over-a-label",
        "kubernetes-objects-within-limits",
        "prod",
        "east-cluster-gateway-az-1.metadata.name: the Gateway's name "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... is 64 characters; Envoy Gateway labels the "
        "proxies' objects with it, and a label value holds at most 63 [k8s-name]",
        config=setting("cluster.gateway_class", "a" * 59),
        cli="cluster.gateway_class: GatewayAPI tigera-secure spec.gatewayClasses[0].name: the "
        "GatewayClass aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... is 64 characters; Envoy Gateway "
        "labels the proxies' objects with it, and a label value holds at most 63; gateway_class "
        "holds at most 58 characters in this region (each AZ's class and Gateway is "
        "<gateway_class>-<az>) (and 8 more) [k8s-name]",
    ),
    Case(
        "listener-names-collide",
        "kubernetes-objects-within-limits",
        "prod",
        "east-cluster-gateway-az-1.spec.listeners[4].name: listener name "
        "shop-80-wildcard.shop.example.com (hostname wildcard.shop.example.com) is also "
        "spec.listeners[0]'s (hostname *.shop.example.com): listener names are unique per "
        "Gateway (lanes names a listener <tenant>-<port>-<hostname>, '*' spelt wildcard) "
        "[gateway-listener-name]",
        config=add_hostname(0, "wildcard.shop.example.com"),
        cli="cluster.tenants[0].hostnames[2]: Gateway tigera-gateway/lanes-az-1 "
        "spec.listeners[4].name: listener name shop-80-wildcard.shop.example.com (hostname "
        "wildcard.shop.example.com) is also spec.listeners[0]'s (hostname *.shop.example.com): "
        "listener names are unique per Gateway (lanes names a listener "
        "<tenant>-<port>-<hostname>, '*' spelt wildcard) (and 5 more) [gateway-listener-name]",
    ),
    Case(
        "hostname-label-over-63",
        "kubernetes-objects-within-limits",
        "prod",
        f"east-cluster-gateway-az-1.spec.listeners[0].hostname: hostname {'a' * 64}.example.com: "
        f"its label {'a' * 20}... is 64 characters; a DNS label holds at most 63 (RFC 1035) "
        "[hostname-dns]",
        config=add_hostname(1, f"{'a' * 64}.example.com"),
        cli=f"cluster.tenants[1].hostnames[0]: Gateway tigera-gateway/lanes-az-1 "
        f"spec.listeners[0].hostname: hostname {'a' * 64}.example.com: its label {'a' * 20}... "
        "is 64 characters; a DNS label holds at most 63 (RFC 1035) (and 5 more) [hostname-dns]",
    ),
    Case(
        "as-number-over-int32",
        "kubernetes-objects-within-limits",
        "prod",
        "east-cluster-bgp-configuration.spec.asNumber: AS 4200000000 does not fit Calico's "
        "asNumber (the crd.projectcalico.org CRDs store it as a 32-bit signed integer): at most "
        "2147483647, so a 2-byte or a 4-byte AS below 2147483648 (private: 64512-65534, RFC 6996) "
        "[calico-as-number]",
        config=setting("cluster.calico.as_number", 4200000000),
        cli="cluster.calico.as_number: BGPConfiguration default spec.asNumber: AS 4200000000 does "
        "not fit Calico's asNumber (the crd.projectcalico.org CRDs store it as a 32-bit signed "
        "integer): at most 2147483647, so a 2-byte or a 4-byte AS below 2147483648 (private: "
        "64512-65534, RFC 6996) [calico-as-number]",
    ),
    Case(
        "gateway-over-16-addresses",
        "kubernetes-objects-within-limits",
        "prod",
        "east-cluster-gateway-az-1.spec.addresses: the Gateway lists 17 addresses (one per "
        "ingress node of its AZ); Gateway API allows 16 [gateway-addresses]",
        props=edit("east-cluster-gateway-az-1", grow_addresses(17)),
    ),
]

CASES += [
    Case(
        "grant-opens-the-consumers-ssh",
        "tenant-grants-within-exposures",
        "prod",
        "east-cluster-netpol-shop-allow-egress-grants.spec.egress[2]: opens 22/TCP at "
        "192.168.0.200, where exposures are consumed on 80/TCP only: a tenant's egress to a "
        "consume address opens nothing else of its gateway [grant-exposure]",
        props=edit("east-cluster-netpol-shop-allow-egress-grants", ssh_to_the_consume_address),
    ),
    Case(
        "nodes-as-trans",
        "bgp-as-numbers-usable",
        "prod",
        "east-cluster-bgp-configuration.spec.asNumber: AS 23456 is AS_TRANS, reserved: what a "
        "2-octet speaker sees in place of a 4-octet AS (RFC 6793); use a private AS, 64512-65534 "
        "(RFC 6996), or one assigned to you [bgp-as-number]",
        config=setting("cluster.calico.as_number", 23456),
        cli="cluster.calico.as_number: AS 23456 is AS_TRANS, reserved: what a 2-octet speaker "
        "sees in place of a 4-octet AS (RFC 6793); use a private AS, 64512-65534 (RFC 6996), or "
        "one assigned to you [bgp-as-number]",
    ),
    Case(
        "routers-as-65535",
        "bgp-as-numbers-usable",
        "prod",
        "east-cluster-bgp-peer-az-2.spec.asNumber: AS 65535 is reserved: the last 2-octet AS "
        "(RFC 7300); use a private AS, 64512-65534 (RFC 6996), or one assigned to you "
        "[bgp-as-number]",
        props=edit("east-cluster-bgp-peer-az-2", put("spec", "asNumber", value=65535)),
    ),
]


def broken_values(case: Case) -> Values:
    values = stack_values(case.stack)
    return values if case.config is None else case.config(values)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_broken_stack_breaks_only_its_policy(case):
    result = run_policies(
        case.stack, broken_values(case), precheck=case.config is None, alter=case.props
    )
    assert result.policies == {case.policy}, result.reported
    assert case.message in {r.message for r in result.of(case.policy)}
    level = next(p.enforcement_level.value for p in load_pack().POLICIES if p.name == case.policy)
    assert {r.level for r in result.of(case.policy)} == {level}


@pytest.mark.parametrize("case", [c for c in CASES if c.config], ids=str)
def test_plan_command_refuses_the_same_config(case):
    # what `lanes plan` runs: the rules, then the rendered objects' limits
    report = checked_objects(checked_plan(parse_stack_config(broken_values(case))))
    assert (case.cli or case.message) in [str(v) for v in report.violations]


def test_every_policy_has_a_broken_stack():
    assert {s.name for s in load_pack().SPECS} == {c.policy for c in CASES}
