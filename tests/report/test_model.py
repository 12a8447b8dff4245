"""The report's model of the committed stacks: bars to scale, lanes, exposures, NAT tables."""

from __future__ import annotations

from lanes.report import GROUP_THRESHOLD, build_report
from lanes.report.topology import ExposurePath
from tests.report.support import region_plan, stack_plan, stack_report


def test_platform_networks_sit_at_their_place_in_the_shared_space():
    space = stack_report("prod").space
    assert space.cidr == "100.64.0.0/10"
    assert [(s.label, s.cidr, s.start, s.width) for s in space.rows[0]] == [
        ("management", "100.64.0.0/16", 0.0, 1 / 64),
        ("traffic", "100.65.0.0/16", 1 / 64, 1 / 64),
        ("storage", "100.66.0.0/16", 2 / 64, 1 / 64),
        ("adjacency", "100.127.0.0/16", 63 / 64, 1 / 64),
    ]


def test_management_bar_has_zones_then_blocks_with_host_counts():
    management = stack_report("prod").networks[0]
    zones, blocks = management.rows
    assert [(z.label, z.cidr, z.kind) for z in zones] == [
        ("cloud-management", "100.64.0.0/18", "zone"),
        ("k8s-nodes", "100.64.64.0/18", "zone"),
        ("enterprise-mapping", "100.64.128.0/18", "zone"),
        ("reserved", "100.64.192.0/18", "reserved"),
    ]
    k8s_az1 = next(b for b in blocks if b.cidr == "100.64.64.0/20")
    # The block's gateway (edge-1 holds it) and az-1's eight k8s nodes: 1 master, 4 workers,
    # 3 ingress (master-2 and master-3 sit in az-2 and az-3).
    assert (k8s_az1.label, k8s_az1.used, k8s_az1.free) == ("az-1", 9, 4094 - 9)
    k8s_az2 = next(b for b in blocks if b.cidr == "100.64.80.0/20")
    # edge-2 and its AZ's master, worker and ingress node.
    assert (k8s_az2.label, k8s_az2.used, k8s_az2.free) == ("az-2", 4, 4094 - 4)
    assert [b.cidr for b in blocks if b.kind == "reserved"] == [
        "100.64.48.0/20",
        "100.64.112.0/20",
        "100.64.176.0/20",
        "100.64.192.0/18",
    ]


def test_overlapping_vpcs_are_drawn_on_one_scale_with_the_overlap_marked():
    enterprise, vpcs = stack_report("prod").outside
    assert [s.label for s in enterprise.members] == ["enterprise"] and not enterprise.overlaps
    assert vpcs.cidr == "192.168.0.0/24"
    assert [s.label for s in vpcs.members] == ["vpc-1", "vpc-2"]
    assert [(o.label, o.cidr) for o in vpcs.overlaps] == [("vpc-1 ∩ vpc-2", "192.168.0.0/24")]


def test_overlapping_vpcs_share_a_lane_column_beside_each_other():
    view = stack_report("prod").views[0]
    outside = {lane.network: lane for lane in view.lanes if lane.outside}
    assert (outside["vpc-1"].column, outside["vpc-2"].column) == (0, 0)
    assert outside["vpc-1"].last < outside["vpc-2"].first
    assert outside["vpc-1"].overlaps == ("vpc-2",)
    assert [lane.network for lane in view.lanes if not lane.outside] == [
        "management",
        "traffic",
        "storage",
        "adjacency",
        "az-line",  # the line between the AZ routers, beside the platform's networks
    ]


def test_gateways_come_first_and_each_address_is_a_leg():
    view = stack_report("prod").views[0]
    assert [n.key for n in view.nodes[:4]] == ["edge-1", "sso-gw", "vpc1-nat", "vpc2-nat"]
    worker = next(n for n in view.nodes if n.key == "worker-1")
    assert [line.text for line in worker.lines] == [
        "bond0 = ens1f0 + ens2f0 (active-backup)",
        "bond1 = ens1f1 + ens2f1 (active-backup)",
        "eno1.100 vlan 100  100.64.64.21/20",
        "bond0.200 vlan 200  100.65.0.21/20",
        "bond1.300 vlan 300  100.66.0.21/20",
    ]
    assert worker.networks() == ("management", "storage", "traffic")


def test_an_exposure_is_a_path_through_the_adjacency_network():
    (path,) = stack_report("prod").views[0].exposures
    assert path == ExposurePath(
        "vpc-2-web",
        "tcp",
        80,
        "vpc-1",
        "vpc-1-nat",
        "192.168.0.200:80",
        "100.127.0.202:80",
        "vpc-2-nat",
        "vpc-2",
        "192.168.0.100:80",
        "adjacency",
    )


def test_snat_steps_keep_the_kernel_order_specific_before_egress():
    edge = next(g for g in stack_report("prod").gateways if g.name == "edge")
    snat = next(t for t in edge.tables if t.title.startswith("SNAT"))
    assert [(row[1], row[3]) for row in snat.rows] == [
        ("ingress-reply", "-"),
        ("mapping", "100.64.0.0/10"),
        ("egress", "100.64.0.0/10"),
    ]
    dnat = next(t for t in edge.tables if t.title == "map ingress_dnat")
    assert dnat.rows[0] == ("10.0.1.100 . 10.0.1.2 . 80", "100.65.0.31", "gateways[0].ingress[0]")


def test_dev_is_the_lab_router_with_its_two_mappings():
    report = stack_report("dev")
    (view,) = report.views
    assert view.nodes[0].title == "lab-router @ router"
    (router,) = report.gateways
    mapping = next(t for t in router.tables if t.title == "map mapping_dnat")
    assert [row[:2] for row in mapping.rows] == [
        ("eth0 . 192.168.0.52", "100.64.0.52"),
        ("eth0 . 192.168.0.53", "100.64.0.53"),
    ]


def test_a_large_region_groups_hosts_per_role_and_layout():
    plan = region_plan(300)
    report = build_report(plan, "big")
    for view in report.views:
        # 100 generated hosts and the AZ's router (no gateway intent: grouped like the rest).
        assert view.grouped and view.host_count == 101 and 100 > GROUP_THRESHOLD
        assert all(n.kind == "group" for n in view.nodes)
        assert view.nodes[0].members == (f"router-{view.az}",)
        assert sum(len(n.members) for n in view.nodes[1:]) == 100
        assert len(view.nodes[1:]) <= 6
    assert len(report.hosts) == 303


def test_the_same_plan_gives_the_same_report():
    plan = stack_plan("prod")
    assert build_report(plan, "prod") == build_report(plan, "prod")
