"""The reachability matrix is derived from the plan and the gateway intents (pure, no namespaces)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from lanes.gateway import derive_gateways
from lanes.hostnet import build_host_net
from lanes.lab.cli import format_matrix
from lanes.lab.matrix import PROBE_PORT, Deploy, Flow, deploy_of, derive_flows, source_address
from lanes.lab.netns import LabError
from lanes.lab.site import Probe, SiteOptions, check_prefix, lab_prefix, site_model
from tests.gateway.support import plan_of


def flows_of(stack: str, edit=None) -> list[Flow]:
    plan = plan_of(stack, edit)
    models = derive_gateways(plan)
    nets = {h.name: build_host_net(h, plan) for h in plan.stack_hosts()}
    return derive_flows(plan, nets, models, deploy_of(plan, models))


def find(flows: list[Flow], **match) -> list[Flow]:
    return [f for f in flows if all(getattr(f, k) == v for k, v in match.items())]


def test_the_deploy_box_is_derived_from_the_outside_network_and_the_gateway():
    plan = plan_of("dev")
    assert deploy_of(plan, derive_gateways(plan)) == Deploy(
        "enterprise", "192.168.0.254", 24, "192.168.0.51"
    )


def test_seed_001_asymmetric_case_is_a_routed_must_reach_flow():
    flows = flows_of("dev")
    assert (
        Flow(
            "routed", "lb", "master-1", "storage", "100.64.64.2", PROBE_PORT, "reach", "100.64.0.53"
        )
        in flows
    )
    # A host that carries the network goes there directly, with its own address in it.
    assert find(flows, source="worker-1", target="master-1", network="storage") == [
        Flow(
            "lan",
            "worker-1",
            "master-1",
            "storage",
            "100.64.64.2",
            PROBE_PORT,
            "reach",
            "100.64.64.3",
        )
    ]


def test_dev_matrix_kinds_and_sizes():
    flows = flows_of("dev")
    assert Counter((f.kind, f.expect) for f in flows) == {
        ("lan", "reach"): 16,
        ("routed", "reach"): 8,
        ("egress", "reach"): 4,
        ("mapping", "reach"): 3,
        ("inbound", "blocked"): 8,
    }
    assert flows == sorted(flows) and flows == flows_of("dev")  # stable order, same every time
    assert not find(flows, target="router") and not find(flows, source="router")


def test_egress_is_seen_as_the_mapping_else_the_egress_address():
    flows = {f.source: f.seen for f in find(flows_of("dev"), kind="egress")}
    assert flows == {
        "jump": "192.168.0.52",
        "lb": "192.168.0.53",
        "master-1": "192.168.0.51",
        "worker-1": "192.168.0.51",
    }


def test_port_mapped_jump_host_and_lb_come_from_the_mappings():
    got = {(f.target, f.address, f.port, f.seen) for f in find(flows_of("dev"), kind="mapping")}
    assert got == {
        ("jump", "192.168.0.52", 22, None),
        ("jump", "192.168.0.52", PROBE_PORT, "192.168.0.254"),
        ("lb", "192.168.0.53", PROBE_PORT, "192.168.0.254"),
    }


def test_the_enterprise_must_not_reach_any_platform_address():
    inbound = find(flows_of("dev"), kind="inbound")
    assert {f.address for f in inbound} == {
        "100.64.0.2",
        "100.64.32.2",
        "100.64.64.2",
        "100.64.0.3",
        "100.64.32.3",
        "100.64.64.3",
        "100.64.0.52",
        "100.64.0.53",
    }
    assert {(f.source, f.expect) for f in inbound} == {("deploy", "blocked")}


def test_changing_the_intents_changes_the_matrix():
    def drop_lb_mapping(values):
        gw = values["gateways"][0]
        gw["mappings"] = [m for m in gw["mappings"] if m["host"] != "lb"]

    def egress_management_only(values):
        values["gateways"][0]["egress"][0]["networks"] = ["management"]

    flows = flows_of("dev", drop_lb_mapping)
    assert find(flows, kind="egress", source="lb")[0].seen == "192.168.0.51"
    assert not find(flows, kind="mapping", target="lb")
    # master-1 leaves on its traffic address (its default route): no SNAT covers it any more.
    flows = flows_of("dev", egress_management_only)
    egress = {f.source: (f.expect, f.seen) for f in find(flows, kind="egress")}
    assert egress["master-1"] == ("blocked", None)
    assert egress["lb"] == ("reach", "192.168.0.53")


def test_source_address_follows_the_main_table():
    plan = plan_of("dev")
    lb = build_host_net(plan.host("lb"), plan)
    master = build_host_net(plan.host("master-1"), plan)
    assert source_address(lb, "100.64.64.2") == "100.64.0.53"  # default route, management
    assert source_address(master, "100.64.64.3") == "100.64.64.2"  # connected storage
    assert source_address(master, "192.168.0.254") == "100.64.32.2"  # default via traffic


def test_prod_matrix_lan_flows_see_the_senders_own_address():
    flows = flows_of("prod")
    plan = plan_of("prod")
    kinds = Counter(f.kind for f in flows)
    assert all(kinds[k] > 0 for k in ("lan", "routed", "egress", "mapping", "inbound"))
    for f in find(flows, kind="lan"):
        own = [str(a.address) for a in plan.host(f.source).addresses if a.network == f.network]
        assert f.seen in own, f


def test_lab_prefixes_are_derived_and_never_prefix_each_other(tmp_path):
    a = lab_prefix(Path("/work/main"), "dev")
    assert a == lab_prefix(Path("/work/main"), "dev")
    others = [lab_prefix(Path("/work/main"), "prod"), lab_prefix(tmp_path, "dev")]
    assert a not in others
    for p in [a, *others]:
        assert re.fullmatch(r"l[a-z0-9]{1,11}-", p)
        assert not any(q != p and q.startswith(p) for q in [a, *others])
    for bad in ("l", "ldev", "LDEV-", "ldev-x-", "l" + "a" * 12 + "-"):
        with pytest.raises(LabError, match="prefix"):
            check_prefix(bad)


def test_a_host_named_like_the_deploy_box_is_refused():
    def rename(values):
        for host in values["hosts"]:
            if host["name"] == "worker-1":
                host["name"] = "deploy"

    with pytest.raises(LabError, match=r"hosts\[\d\]\.name: 'deploy' is the lab's deploy box"):
        site_model(plan_of("dev", rename), "dev")


def test_without_policy_routing_the_lab_drops_the_rules_but_not_the_flows():
    plan = plan_of("dev")
    full = site_model(plan, "dev")
    bare = site_model(plan, "dev", SiteOptions(policy_routing=False))
    assert bare.flows == full.flows
    assert all(net.rules for name, net in full.nets.items())
    assert not any(net.rules for net in bare.nets.values())
    assert bare.fingerprint() != full.fingerprint()


def test_format_matrix_prints_one_row_per_flow_and_a_total():
    f = Flow("routed", "lb", "master-1", "storage", "100.64.64.2", 7907, "reach", "100.64.0.53")
    g = Flow("inbound", "deploy", "lb", "management", "100.64.0.53", 7907, "blocked", None)
    text = format_matrix([Probe(f, None, False), Probe(g, None, True)])
    assert text == (
        "kind     from    to        network     address           expect                answer  result\n"
        "routed   lb      master-1  storage     100.64.64.2:7907  reach as 100.64.0.53  -       FAIL\n"
        "inbound  deploy  lb        management  100.64.0.53:7907  blocked               -       pass\n"
        "1/2 flows pass, 1 fail\n"
    )
