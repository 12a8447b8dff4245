"""The reachability matrix is derived from the plan and the gateway intents (pure, no namespaces)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from lanes.cli.lab import format_matrix
from lanes.config import NETWORK_KINDS
from lanes.intents.gateway import derive_gateways
from lanes.lab.matrix import (
    PROBE_PORT,
    Deploy,
    Flow,
    Party,
    deploy_of,
    derive_flows,
    derive_parties,
    listeners,
)
from lanes.lab.netns import LabError
from lanes.lab.site import Probe, SiteOptions, check_prefix, lab_prefix, site_model
from lanes.model.hostnet import build_host_net, source_address
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


def test_the_deploy_box_sits_where_the_mappings_lead_not_in_the_first_outside_network():
    # issue 29: an outside network sorted before the mapped one must not take the deploy box
    def add_admin(values):
        values["outside"] = [{"name": "admin", "cidr": "10.9.0.0/24"}, *values["outside"]]

    plan = plan_of("dev", add_admin)
    assert [o.name for o in plan.outside] == ["admin", "enterprise"]
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


# --- prod: the outside parties of the gateway intents ------------------------------------------

PROD_ENDS = [
    "ingress-1",
    "ingress-2",
    "ingress-3",
    "jump-1",
    "master-1",
    "worker-1",
    "worker-2",
    "worker-3",
    "worker-4",
]


def parties_of(stack: str, edit=None) -> list[Party]:
    plan = plan_of(stack, edit)
    models = derive_gateways(plan)
    return derive_parties(plan, models, deploy_of(plan, models))


def cells(flows: list[Flow], kind: str) -> set[tuple]:
    return {
        (f.source, f.target, f.network, f.address, f.port, f.expect, f.seen)
        for f in find(flows, kind=kind)
    }


def test_prod_parties_sit_at_the_intents_addresses_and_route_at_their_gateway():
    assert parties_of("prod") == [
        Party("edge-lb", "balancer", "enterprise", "10.0.1.100", 16, "10.0.1.1", "gateways[0].ingress[0]"),
        Party("sso-upstream", "upstream", "enterprise", "10.0.0.2", 16, "10.0.0.3", "gateways[1].proxies[0]"),
        # The consumer takes vpc-1's highest free address; vpc-1 and vpc-2 overlap, one each.
        Party("vpc-1-client", "client", "vpc-1", "192.168.0.254", 24, "192.168.0.200", "gateways[2].consume[0]"),
        Party("vpc-2-web", "service", "vpc-2", "192.168.0.100", 24, "192.168.0.200", "gateways[3].publish[0]"),
    ]  # fmt: skip
    assert parties_of("dev") == []  # dev has only egress and mappings


def test_prod_ingress_cells_only_the_balancer_gets_in_and_replies_leave_as_the_front():
    fronts = [("ingress-1", "10.0.1.2"), ("ingress-2", "10.0.1.3"), ("ingress-3", "10.0.1.4")]
    assert cells(flows_of("prod"), "ingress") == {
        *(
            ("edge-lb", node, "enterprise", front, port, "reach", "10.0.1.100")
            for node, front in fronts
            for port in (80, 443)
        ),
        *(
            ("deploy", node, "enterprise", front, port, "blocked", None)
            for node, front in fronts
            for port in (80, 443)
        ),
        # The ingress-reply SNAT goes before the egress SNAT (10.0.1.1): seen as the front.
        *(
            (node, "edge-lb", "enterprise", "10.0.1.100", PROBE_PORT, "reach", front)
            for node, front in fronts
        ),
    }


def test_prod_sso_proxy_cells_every_host_reaches_the_upstream_from_the_proxy_source():
    assert cells(flows_of("prod"), "proxy") == {
        *(
            (host, "sso-upstream", "management", "100.64.128.2", 443, "reach", "10.0.0.3")
            for host in PROD_ENDS
        ),
        ("deploy", "sso-upstream", "management", "100.64.128.2", 443, "blocked", None),
    }


def test_prod_exposure_cells_the_consumer_reaches_vpc2_web_only_through_the_consume_address():
    assert cells(flows_of("prod"), "exposure") == {
        # vpc-2's server sees vpc-2-nat's own vpc-2 address, both VPCs being 192.168.0.0/24.
        ("vpc-1-client", "vpc-2-web", "vpc-1", "192.168.0.200", 80, "reach", "192.168.0.200"),
        ("vpc-1-client", "vpc-2-web", "adjacency", "100.127.0.202", 80, "blocked", None),
    }


def test_prod_matrix_kinds_and_sizes():
    flows = flows_of("prod")
    assert Counter((f.kind, f.expect) for f in flows) == {
        ("lan", "reach"): 124,
        ("routed", "reach"): 16,
        ("egress", "reach"): 9,
        ("mapping", "reach"): 2,
        ("inbound", "blocked"): 25,
        ("ingress", "reach"): 9,
        ("ingress", "blocked"): 6,
        ("proxy", "reach"): 9,
        ("proxy", "blocked"): 1,
        ("exposure", "reach"): 1,
        ("exposure", "blocked"): 1,
    }
    # Egress SNAT to 10.0.1.1, except the jump host, 1:1 mapped to 10.0.1.52.
    egress = {f.source: f.seen for f in find(flows, kind="egress")}
    assert egress == {host: "10.0.1.52" if host == "jump-1" else "10.0.1.1" for host in PROD_ENDS}
    assert flows == sorted(flows) and flows == flows_of("prod")


def test_every_receiver_serves_the_ports_its_cells_need():
    flows = flows_of("prod")
    served = listeners(flows)
    assert {
        name: served[name] for name in ("ingress-1", "edge-lb", "sso-upstream", "vpc-2-web")
    } == {
        "ingress-1": [(80, "tcp"), (443, "tcp"), (PROBE_PORT, "tcp")],
        "edge-lb": [(PROBE_PORT, "tcp")],
        "sso-upstream": [(443, "tcp")],
        "vpc-2-web": [(80, "tcp")],
    }
    # A blocked cell is never blocked for want of a server: its target answers on that port.
    for f in find(flows, expect="blocked"):
        assert (f.target_port, f.mode) in served.get(f.target, [(PROBE_PORT, "tcp")]), f


def test_changing_a_gateway_intent_changes_the_prod_matrix():
    def edit_intents(values):
        edge, sso = values["gateways"][0], values["gateways"][1]
        edge["ingress"][0].update(balancer="10.0.1.101", ports=[8443])
        sso["proxies"][0].update(mode="http", upstream="10.0.0.9", upstream_port=8443)

    def drop_publish(values):
        # A consume of nothing published is refused (gateway-intent): the exposure goes whole.
        values["gateways"][3]["publish"] = []
        values["gateways"][2]["consume"] = []

    flows = flows_of("prod", edit_intents)
    ingress = find(flows, kind="ingress", target="ingress-1")
    assert {(f.source, f.port, f.expect, f.seen) for f in ingress} == {
        ("edge-lb2", 8443, "reach", "10.0.1.101"),
        ("deploy", 8443, "blocked", None),
    }
    # Another balancer for the other fronts: a second party, named by its order.
    assert [(p.name, p.address) for p in parties_of("prod", edit_intents)][:3] == [
        ("edge-lb", "10.0.1.100"),
        ("edge-lb2", "10.0.1.101"),
        ("sso-upstream", "10.0.0.9"),
    ]
    proxy = find(flows, kind="proxy", source="master-1")
    assert [(f.mode, f.port, f.target_port, f.seen) for f in proxy] == [
        ("http", 443, 8443, "10.0.0.3")
    ]
    assert listeners(flows)["sso-upstream"] == [(8443, "http")]
    # Nothing published: no consumer party, no exposure cell.
    assert not find(flows_of("prod", drop_publish), kind="exposure")
    assert "vpc-1-client" not in {p.name for p in parties_of("prod", drop_publish)}


def test_a_host_named_like_a_party_is_refused():
    def rename(values):
        for host in values["hosts"]:
            if host["name"] == "worker-1":
                host["name"] = "edge-lb"

    with pytest.raises(
        LabError,
        match=r"hosts\[\d+\]\.name: 'edge-lb' is the lab's balancer of gateways\[0\]\.ingress\[0\]",
    ):
        site_model(plan_of("prod", rename), "prod")

    def publish_as_deploy(values):
        values["gateways"][3]["publish"][0]["name"] = "deploy"
        values["gateways"][2]["consume"][0]["name"] = "deploy"

    with pytest.raises(
        LabError, match=r"gateways\[3\]\.publish\[0\]: the lab cannot name its service 'deploy'"
    ):
        site_model(plan_of("prod", publish_as_deploy), "prod")


def test_the_prod_site_wires_every_party_on_its_own_segment():
    site = site_model(plan_of("prod"), "prod")
    assert site.parties == tuple(parties_of("prod"))
    assert {p.network: site.segments[p.network] for p in site.parties} == {
        "enterprise": "enterprise",
        "vpc-1": "vpc-1",
        "vpc-2": "vpc-2",
    }
    other = site_model(
        plan_of("prod", lambda v: v["gateways"][0]["ingress"][0].update(ports=[80])), "prod"
    )
    assert other.fingerprint() != site.fingerprint()


def test_a_party_at_a_host_address_is_refused():
    def balancer_on_sso_gw(values):
        values["gateways"][0]["ingress"][0]["balancer"] = "10.0.0.3"

    with pytest.raises(
        LabError,
        match=r"gateways\[0\]\.ingress\[0\]: 10.0.0.3 is sso-gw's own address on enterprise",
    ):
        site_model(plan_of("prod", balancer_on_sso_gw), "prod")


def test_host_flows_cover_every_role_pair_and_every_host_in_linear_pairs():
    def grown(values):
        worker = next(h for h in values["hosts"] if h["name"] == "worker-1")
        for number in range(4, 49):
            values["hosts"].append({**worker, "name": f"worker-{number}", "number": number})

    for stack, edit in (("prod", None), ("dev", grown)):
        plan = plan_of(stack, edit)
        models = derive_gateways(plan)
        nets = {h.name: build_host_net(h, plan) for h in plan.stack_hosts()}
        flows = derive_flows(plan, nets, models, deploy_of(plan, models))
        hosts = find(flows, kind="lan") + find(flows, kind="routed")
        ends = [n for n in nets.values() if n.host not in {m.host for m in models}]
        role = {n.host: n.role for n in ends}
        cells = {(role[f.source], role[f.target], f.network) for f in hosts}
        for src in ends:
            for dst in ends:
                for network in {a.network for a in dst.addresses} & set(NETWORK_KINDS.names):
                    if any(f.network == network for f in find(hosts, target=dst.host)):
                        assert (src.role, dst.role, network) in cells or src is dst
            carried = {a.network for a in src.addresses} & set(NETWORK_KINDS.names)
            assert {f.network for f in find(hosts, kind="lan", source=src.host)} == carried
            assert {f.network for f in find(hosts, target=src.host)} == carried
        pairs = {(f.source, f.target) for f in hosts}
        roles = len(set(role.values()))
        assert len(pairs) <= 2 * roles * len(ends), (stack, len(pairs))
    assert len(ends) == 50 - 1  # the grown dev stack: 50 hosts, the router is the path


def test_an_exposure_consumed_on_a_platform_network_has_a_cell_per_host_of_that_network():
    from tests.lab.test_exposure_consumers import HOSTS, consume_on_management

    flows = find(flows_of("prod", consume_on_management), kind="exposure", expect="reach")
    assert sorted((f.source, f.network, f.address, f.seen) for f in flows) == sorted(
        [(h, "management", "100.64.0.201", "192.168.0.200") for h in HOSTS]
        + [("vpc-1-client", "vpc-1", "192.168.0.200", "192.168.0.200")]
    )
