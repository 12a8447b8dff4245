"""Seed 001's unsolved case with real packets: the model's policy routing and strict rp_filter.

The LB 100.64.0.53 reaches the master's storage address 100.64.64.2 through the router. The
master applies its host model (the one the netplan file is rendered from) with iproute2 and
sysctl in its namespace; the same run without the policy rules must fail.
"""

from __future__ import annotations

import dataclasses
import functools
import sys

from lanes.config.stackfile import load_stack
from lanes.lab.iproute import ip_commands
from lanes.model.hostnet import HostNet, build_host_net
from lanes.render.sysctl import render_sysctl
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT

SEGMENTS = {"management": "mgmt", "traffic": "traffic", "storage": "storage"}


@functools.cache
def model(host: str) -> HostNet:
    plan = checked_plan(load_stack(ROOT, "dev")).plan
    return build_host_net(plan.host(host), plan)


def bring_up(lab, name: str, net: HostNet):
    """A namespace host with one veth per layer-3 device of the model, configured by it."""
    host = lab.host(name)
    for device in net.layer3():
        (network,) = net.link(device).networks
        lab.link(host, lab.segments[SEGMENTS[network]], device)
    for argv in ip_commands(net):
        host.run(argv)
    for key, value in net.sysctls:
        host.sysctl(key, value)
    return host


def build(lab, master: HostNet):
    for segment in SEGMENTS.values():
        lab.segment(segment)
    router = lab.host("router")
    for device, (segment, cidr) in {
        "eth1": ("mgmt", "100.64.0.1/21"),
        "eth2": ("traffic", "100.64.32.1/21"),
        "eth3": ("storage", "100.64.64.1/21"),
    }.items():
        lab.link(router, lab.segments[segment], device, [cidr])
    router.enable_forwarding()
    lb = bring_up(lab, "lb", model("lb"))
    server = bring_up(lab, "master", master)
    server.spawn([sys.executable, "-m", "http.server", "--bind", "100.64.64.2", "8080"])
    server.tcp_wait("100.64.64.2", 8080)
    return lb, server


def test_the_master_answers_through_the_storage_gateway(netlab):
    lb, master = build(netlab, model("master-1"))
    assert lb.tcp_connects("100.64.64.2", 8080, timeout=3)
    route = master.run(["ip", "-o", "route", "get", "100.64.0.53", "from", "100.64.64.2"]).stdout
    assert "via 100.64.64.1 dev eth2 table 103" in route
    assert master.run(["sysctl", "-n", "net.ipv4.conf.eth2.rp_filter"]).stdout.strip() == "1"


def test_without_the_policy_rules_strict_rp_filter_drops_the_request(netlab):
    lb, _ = build(netlab, dataclasses.replace(model("master-1"), rules=()))
    assert not lb.tcp_connects("100.64.64.2", 8080, timeout=1)


def test_the_rendered_sysctl_file_loads_with_vlan_and_bond_interface_names(netlab, tmp_path):
    """sysctl -p on prod worker-1's drop-in, in a namespace whose veths carry the model's names."""
    plan = checked_plan(load_stack(ROOT, "prod")).plan
    worker = build_host_net(plan.host("worker-1"), plan)
    host = netlab.host("worker")
    segment = netlab.segment("any")
    for device in worker.layer3():  # eno1.100, bond0.200, bond1.300
        netlab.link(host, segment, device)
    drop_in = tmp_path / "60-lanes.conf"
    drop_in.write_text(render_sysctl(worker))
    host.run(["sysctl", "-q", "-p", str(drop_in)])
    for device in worker.layer3():
        assert host.run(["cat", f"/proc/sys/net/ipv4/conf/{device}/rp_filter"]).stdout == "1\n"
    assert host.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout == "1\n"
    assert host.run(["sysctl", "-n", "net.ipv4.conf.all.arp_ignore"]).stdout == "1\n"
