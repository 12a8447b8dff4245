"""The plans of the committed stacks: the brief's tables, literally, and golden files."""

from __future__ import annotations

import pytest

from lanes.config.stackfile import load_stack
from lanes.model.plan import Plan
from lanes.render.plan import render_files
from lanes.rules import checked_plan
from tests.support.golden import assert_golden
from tests.support.pulumi_run import ROOT


def plan_of(stack: str) -> Plan:
    report = checked_plan(load_stack(ROOT, stack))
    assert report.violations == ()
    assert report.plan is not None
    return report.plan


def blocks(plan: Plan, network: str) -> dict[tuple[str | None, str], str]:
    net = plan.network(network)
    assert net is not None
    found = {(z.name, b.az): str(b.cidr) for z in net.zones for b in z.blocks}
    found |= {(z.name, "reserved"): ", ".join(str(c) for c in z.reserved_blocks) for z in net.zones}
    return found


def test_prod_management_matches_the_brief_table():
    plan = plan_of("prod")
    management = plan.network("management")
    assert str(management.cidr) == "100.64.0.0/16"
    assert [(z.name, str(z.cidr)) for z in management.zones] == [
        ("cloud-management", "100.64.0.0/18"),
        ("k8s-nodes", "100.64.64.0/18"),
        ("enterprise-mapping", "100.64.128.0/18"),
        ("reserved", "100.64.192.0/18"),
    ]
    assert blocks(plan, "management") == {
        ("cloud-management", "az-1"): "100.64.0.0/20",
        ("cloud-management", "az-2"): "100.64.16.0/20",
        ("cloud-management", "az-3"): "100.64.32.0/20",
        ("cloud-management", "reserved"): "100.64.48.0/20",
        ("k8s-nodes", "az-1"): "100.64.64.0/20",
        ("k8s-nodes", "az-2"): "100.64.80.0/20",
        ("k8s-nodes", "az-3"): "100.64.96.0/20",
        ("k8s-nodes", "reserved"): "100.64.112.0/20",  # the seed's 100.64.111.0/20, corrected
        ("enterprise-mapping", "az-1"): "100.64.128.0/20",
        ("enterprise-mapping", "az-2"): "100.64.144.0/20",
        ("enterprise-mapping", "az-3"): "100.64.160.0/20",
        ("enterprise-mapping", "reserved"): "100.64.176.0/20",
        ("reserved", "reserved"): "100.64.192.0/18",
    }


@pytest.mark.parametrize(("network", "second_octet"), [("traffic", 65), ("storage", 66)])
def test_prod_traffic_and_storage_have_a_20_per_az_and_the_rest_reserved(network, second_octet):
    plan = plan_of("prod")
    assert blocks(plan, network) == {
        (None, "az-1"): f"100.{second_octet}.0.0/20",
        (None, "az-2"): f"100.{second_octet}.16.0/20",
        (None, "az-3"): f"100.{second_octet}.32.0/20",
        (None, "reserved"): f"100.{second_octet}.48.0/20, 100.{second_octet}.64.0/18, "
        f"100.{second_octet}.128.0/17",
    }


def test_prod_gateways_are_the_first_address_of_each_block():
    plan = plan_of("prod")
    k8s = plan.network("management").zone("k8s-nodes")
    assert [str(b.gateway) for b in k8s.blocks] == ["100.64.64.1", "100.64.80.1", "100.64.96.1"]


def test_prod_hosts_keep_their_number_in_every_network():
    host = plan_of("prod").host("master-2")  # in az-2: the az-2 block of each network
    assert [(a.network, a.zone, a.interface) for a in host.addresses] == [
        ("management", "k8s-nodes", "100.64.80.12/20"),
        ("traffic", None, "100.65.16.12/20"),
        ("storage", None, "100.66.16.12/20"),
    ]


def test_dev_is_the_lab_of_seed_001():
    plan = plan_of("dev")
    assert [str(n.cidr) for n in plan.networks[:3]] == [
        "100.64.0.0/21",
        "100.64.32.0/21",
        "100.64.64.0/21",
    ]
    master = plan.host("master-1")
    assert [str(a.address) for a in master.addresses] == [
        "100.64.0.2",
        "100.64.32.2",
        "100.64.64.2",
    ]
    router = plan.host("router")
    assert [str(a.address) for a in router.addresses] == [
        "100.64.0.1",
        "100.64.32.1",
        "100.64.64.1",
        "192.168.0.51",
        "192.168.0.52",
        "192.168.0.53",
    ]
    assert str(plan.host("jump").address("management").address) == "100.64.0.52"
    assert str(plan.host("lb").address("management").address) == "100.64.0.53"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_golden_plan_files(stack):
    for name, content in render_files(plan_of(stack)).items():
        assert_golden(f"plan/{stack}/{name}", content)
