"""The host network model: devices, addresses, tables, rules, routes and sysctls, literally."""

from __future__ import annotations

import functools

import pytest

from lanes.config import parse_stack_config
from lanes.config.stackfile import load_stack
from lanes.lab.iproute import ip_commands
from lanes.model.hostnet import HostNet, Link, Route, Rule, Table, build_host_net
from lanes.model.plan import Plan
from lanes.rules import checked_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import ROOT, stack_values
from tests.support.verdicts import netplan_of


@functools.cache
def plan(stack: str) -> Plan:
    report = checked_plan(load_stack(ROOT, stack))
    assert report.ok, report.violations
    return report.plan


def net(stack: str, host: str) -> HostNet:
    p = plan(stack)
    return build_host_net(p.host(host), p)


def test_dev_master_answers_on_the_network_a_packet_came_in_on():
    m = net("dev", "master-1")
    assert [(link.name, link.kind, link.networks) for link in m.links] == [
        ("eth0", "ethernet", ("management",)),
        ("eth1", "ethernet", ("traffic",)),
        ("eth2", "ethernet", ("storage",)),
    ]
    assert [(a.device, a.cidr) for a in m.addresses] == [
        ("eth0", "100.64.0.2/21"),
        ("eth1", "100.64.32.2/21"),
        ("eth2", "100.64.64.2/21"),
    ]
    assert m.tables == (Table("management", 101), Table("traffic", 102), Table("storage", 103))
    assert m.rules == (
        Rule("traffic", "100.96.0.0/12", 254, 1090, "eth1", "100.96.0.0/12"),
        Rule("traffic", "100.96.0.0/12", 254, 1091, "eth1", "100.64.64.0/21"),
        Rule("traffic", "100.96.0.0/12", 102, 1092, "eth1"),
        Rule("management", "100.64.0.2", 101, 1101, "eth0"),
        Rule("traffic", "100.64.32.2", 102, 1102, "eth1"),
        Rule("storage", "100.64.64.2", 103, 1103, "eth2"),
    )
    # Each block is its network's whole supernet in the lab: no extra supernet route.
    assert m.routes == (
        Route("management", "100.64.0.0/21", "eth0", None, "100.64.0.2", 101),
        Route("management", "default", "eth0", "100.64.0.1", "100.64.0.2", 101),
        Route("traffic", "default", "eth1", "100.64.32.1"),
        Route("traffic", "100.64.32.0/21", "eth1", None, "100.64.32.2", 102),
        Route("traffic", "default", "eth1", "100.64.32.1", "100.64.32.2", 102),
        Route("storage", "100.64.64.0/21", "eth2", None, "100.64.64.2", 103),
        Route("storage", "default", "eth2", "100.64.64.1", "100.64.64.2", 103),
    )
    assert m.default_network == "traffic"
    assert m.node_ip == "100.64.0.2"


def test_prod_worker_bonds_vlans_mtus_and_routes_to_other_azs():
    w = net("prod", "worker-1")
    assert set(w.links) == {
        Link("eno1", "ethernet", 1500),
        Link("ens1f0", "ethernet", 9000, bond="bond0"),
        Link("ens2f0", "ethernet", 9000, bond="bond0"),
        Link("bond0", "bond", 9000, members=("ens1f0", "ens2f0"), primary="ens1f0", miimon=100),
        Link("ens1f1", "ethernet", 9000, bond="bond1"),
        Link("ens2f1", "ethernet", 9000, bond="bond1"),
        Link("bond1", "bond", 9000, members=("ens1f1", "ens2f1"), primary="ens1f1", miimon=100),
        Link("eno1.100", "vlan", 1500, parent="eno1", vlan=100, networks=("management",)),
        Link("bond0.200", "vlan", 9000, parent="bond0", vlan=200, networks=("traffic",)),
        Link("bond1.300", "vlan", 9000, parent="bond1", vlan=300, networks=("storage",)),
    }
    main = [r for r in w.routes if r.table == 254]
    assert main == [
        Route("management", "100.64.0.0/16", "eno1.100", "100.64.64.1"),
        Route("traffic", "default", "bond0.200", "100.65.0.1"),
        Route("traffic", "100.65.0.0/16", "bond0.200", "100.65.0.1"),
        Route("storage", "100.66.0.0/16", "bond1.300", "100.66.0.1"),
    ]
    assert w.node_ip == "100.64.64.21"
    assert ("net.ipv4.conf.bond1/300.rp_filter", "1") in w.sysctls


def test_link_order_is_nic_by_nic():
    w = net("prod", "worker-1")
    assert [link.name for link in w.links] == [
        "eno1",
        "eno1.100",
        "ens1f0",
        "ens2f0",
        "bond0",
        "bond0.200",
        "ens1f1",
        "ens2f1",
        "bond1",
        "bond1.300",
    ]


def test_shared_nic_carries_traffic_and_storage_as_two_vlans():
    w = net("prod", "worker-4")
    assert [(link.name, link.mtu, link.parent) for link in w.links] == [
        ("eno1", 1500, None),
        ("eno1.100", 1500, "eno1"),
        ("ens1f0", 9000, None),
        ("ens1f0.200", 9000, "ens1f0"),
        ("ens1f0.300", 9000, "ens1f0"),
    ]


def test_a_gateway_holding_the_block_gateways_routes_nothing_via_itself():
    edge = net("prod", "edge-1")
    assert [(a.device, a.cidr) for a in edge.addresses if a.network == "management"] == [
        ("eno1.100", "100.64.0.1/20"),
        ("eno1.100", "100.64.64.1/20"),
        ("eno1.100", "100.64.128.1/20"),
    ]
    own = {a.address for a in edge.addresses}
    assert not [r for r in edge.routes if r.via in own]
    # Its way out is the enterprise gateway. It forwards as az-1's router on the line; a
    # gateway on no line (dev's router, holding every block gateway) leaves forwarding to the
    # EdgeGateway.
    assert [r for r in edge.routes if r.to == "default"] == [
        Route("enterprise", "default", "ens2f0.500", "10.0.0.254")
    ]
    assert [(k, v) for k, v in edge.sysctls if "forward" in k] == [("net.ipv4.ip_forward", "1")]
    router = net("dev", "router")
    assert not [r for r in router.routes if r.via in {a.address for a in router.addresses}]
    assert not [k for k, _ in router.sysctls if "forward" in k]
    assert edge.node_ip is None


@pytest.mark.parametrize(
    ("stack", "host", "default"),
    [
        ("dev", "master-1", "traffic"),
        ("dev", "jump", "management"),  # carries management only
        ("dev", "router", None),  # holds every gateway itself; the enterprise has none
        ("prod", "ingress-2", "traffic"),
        ("prod", "sso-gw", "enterprise"),  # an outside network with a gateway goes first
        ("prod", "vpc1-nat", "management"),  # vpc-1 has no gateway; no traffic network
    ],
)
def test_which_network_holds_the_main_default_route(stack, host, default):
    assert net(stack, host).default_network == default


@pytest.mark.parametrize(
    ("host", "forward"), [("master-1", "1"), ("worker-1", "1"), ("jump", "0"), ("lb", "0")]
)
def test_forwarding_by_role(host, forward):
    sysctls = dict(net("dev", host).sysctls)
    assert sysctls["net.ipv4.ip_forward"] == forward
    assert sysctls["net.ipv4.conf.all.rp_filter"] == "1"
    assert sysctls["net.ipv4.conf.default.rp_filter"] == "1"


def test_untagged_lab_nics_hold_their_addresses_directly():
    router = net("dev", "router")
    assert {link.kind for link in router.links} == {"ethernet"}
    assert [a.cidr for a in router.addresses_of("eth0")] == [
        "192.168.0.51/24",
        "192.168.0.52/24",
        "192.168.0.53/24",
    ]


def test_ip_commands_render_the_same_model_for_a_namespace_host():
    m = net("dev", "master-1")
    commands = ip_commands(m, {"eth2": "veth-storage"})
    assert ["ip", "address", "replace", "100.64.64.2/21", "dev", "veth-storage"] in commands
    assert [
        "ip",
        "route",
        "replace",
        "default",
        "via",
        "100.64.64.1",
        "dev",
        "veth-storage",
        "src",
        "100.64.64.2",
        "table",
        "103",
    ] in commands
    assert [
        "ip",
        "route",
        "replace",
        "default",
        "via",
        "100.64.32.1",
        "dev",
        "eth1",
        "table",
        "254",
    ] in commands
    assert commands[-1] == [
        "ip",
        "rule",
        "add",
        "from",
        "100.64.64.2",
        "table",
        "103",
        "priority",
        "1103",
    ]
    assert len(commands) == len(m.addresses) + len(m.routes) + len(m.rules)


def test_the_model_is_a_pure_function_of_the_plan():
    first = [net("prod", h.name).to_dict() for h in plan("prod").stack_hosts()]
    fresh = checked_plan(load_stack(ROOT, "prod")).plan
    again = [build_host_net(h, fresh).to_dict() for h in fresh.stack_hosts()]
    assert first == again


def test_pods_answer_from_the_traffic_table_and_keep_pod_and_storage_routes():
    worker = net("prod", "worker-1")
    assert [(r.source, r.to, r.table, r.priority, r.device) for r in worker.rules[:3]] == [
        ("100.96.0.0/12", "100.96.0.0/12", 254, 1090, "bond0.200"),
        ("100.96.0.0/12", "100.66.0.0/16", 254, 1091, "bond0.200"),
        ("100.96.0.0/12", None, 102, 1092, "bond0.200"),
    ]
    argv = ip_commands(worker)
    assert [
        "ip",
        "rule",
        "add",
        "from",
        "100.96.0.0/12",
        "table",
        "102",
        "priority",
        "1092",
    ] in argv
    # service hosts and gateways carry no pods
    for stack, host in (("prod", "jump-1"), ("prod", "edge-1"), ("dev", "router")):
        assert not [r for r in net(stack, host).rules if r.source == "100.96.0.0/12"]


def test_pods_reach_storage_through_the_main_table_only_with_host_nat():
    report = checked_plan(
        parse_stack_config(changed(stack_values("prod"), "cluster.storage", "none"))
    )
    assert report.plan is not None
    rules = build_host_net(report.plan.host("worker-1"), report.plan).rules
    assert [r.priority for r in rules if r.source == "100.96.0.0/12"] == [1090, 1092]


# --- edges (issue 29), read from the netplan document lanes writes --------------------------
def test_the_line_on_a_vlan_gets_a_vlan_device_with_the_lines_mtu():
    network = netplan_of("prod", "edge-1", ("line.vlan", 700), ("line.mtu", 9000))
    assert network["ethernets"]["ens3f0"] == {"mtu": 9000}
    line = network["vlans"]["ens3f0.700"]
    assert {k: line[k] for k in ("id", "link", "mtu", "addresses")} == {
        "id": 700,
        "link": "ens3f0",
        "mtu": 9000,
        "addresses": ["100.67.0.1/29"],
    }


def test_the_line_without_a_vlan_is_the_nic_itself():
    network = netplan_of("prod", "edge-1")
    assert network["ethernets"]["ens3f0"]["mtu"] == 1500
    assert network["ethernets"]["ens3f0"]["addresses"] == ["100.67.0.1/29"]
    assert not [name for name in network["vlans"] if name.startswith("ens3f0.")]


def test_an_az_whose_only_host_is_its_router_is_routed_over_the_line():
    az3_router_only = [
        h for h in stack_values("prod")["hosts"] if h["az"] != "az-3" or h["name"] == "edge-3"
    ]
    network = netplan_of("prod", "edge-1", ("hosts", az3_router_only), ("gateways[5].ingress", []))
    to_az3 = [r["to"] for r in network["ethernets"]["ens3f0"]["routes"] if r["via"] == "100.67.0.3"]
    assert to_az3 == [
        "100.64.32.0/20",
        "100.64.96.0/20",
        "100.64.160.0/20",
        "100.65.32.0/20",
        "100.66.32.0/20",
        "100.127.32.0/20",
        "100.104.0.0/14",
    ]
