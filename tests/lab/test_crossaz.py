"""The region lab's model and its cells between AZs, derived from the plan (pure, no namespaces)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from netaddr import IPAddress, IPNetwork

from lanes.lab.crossaz import derive_cross_cells, route_for, trace
from lanes.lab.netns import LabError
from lanes.lab.site import SiteOptions, lab_prefix, region_site_model, site_model
from lanes.model.flows import PROBE_PORT, Flow
from lanes.model.hostnet import Route
from tests.gateway.support import plan_of
from tests.support.pulumi_run import ROOT

AZ = {
    **dict.fromkeys(["master-1", "worker-1", "worker-2", "worker-3", "worker-4"], "az-1"),
    **dict.fromkeys(["ingress-1", "ingress-2", "ingress-3", "jump-1"], "az-1"),
    **dict.fromkeys(["master-2", "worker-5", "ingress-4"], "az-2"),
    **dict.fromkeys(["master-3", "worker-6", "ingress-5"], "az-3"),
}


@pytest.fixture(scope="module")
def region():
    return region_site_model(plan_of("prod"), "prod")


def cross(site) -> list[Flow]:
    return [c.flow for c in site.cross]


def test_the_region_lab_holds_every_az_with_its_own_segments(region):
    assert len(region.nets) == 21
    assert {region.plan.host(n).az for n in region.nets} == {"az-1", "az-2", "az-3"}
    assert sorted(set(region.segments.values())) == [
        "adjacency-az-1",
        "az-line",
        "enterprise",
        "management-az-1",
        "management-az-2",
        "management-az-3",
        "storage-az-1",
        "storage-az-2",
        "storage-az-3",
        "traffic-az-1",
        "traffic-az-2",
        "traffic-az-3",
        "vpc-1",
        "vpc-2",
    ]
    # One management per AZ; the line and the enterprise network are the region's.
    assert region.segment_of("worker-1", "management") == "management-az-1"
    assert region.segment_of("worker-5", "management") == "management-az-2"
    assert region.segment_of("edge-3", "az-line") == region.segment_of("edge-1", "az-line")
    assert region.segment_of("edge-2", "enterprise") == region.segment_of(None, "enterprise")
    assert [m.name for m in region.models] == [
        "edge",
        "edge-az-2",
        "edge-az-3",
        "sso",
        "vpc-1-nat",
        "vpc-2-nat",
    ]
    assert [p.name for p in region.parties] == [
        "edge-az-2-lb",
        "edge-az-3-lb",
        "edge-lb",
        "sso-upstream",
        "vpc-1-client",
        "vpc-2-web",
    ]


def test_the_region_matrix_is_every_azs_cells_and_the_cells_between_them(region):
    az1 = site_model(plan_of("prod"), "prod")
    assert set(az1.flows) < set(region.flows)
    assert Counter((f.kind, f.expect) for f in region.flows) == {
        ("lan", "reach"): 160,
        ("routed", "reach"): 16,
        ("egress", "reach"): 15,
        ("mapping", "reach"): 2,
        ("inbound", "blocked"): 43,
        ("ingress", "reach"): 15,
        ("ingress", "blocked"): 10,
        ("proxy", "reach"): 9,
        ("proxy", "blocked"): 1,
        ("exposure", "reach"): 1,
        ("exposure", "blocked"): 1,
        ("cross-az", "reach"): 354,
        ("arp", "reach"): 10,
        ("arp", "blocked"): 18,
        ("broadcast", "reach"): 10,
        ("broadcast", "blocked"): 18,
    }
    # az-2's hosts leave through their own edge's SNAT.
    egress = {f.source: f.seen for f in region.flows if f.kind == "egress"}
    assert egress["worker-5"] == "10.0.2.1" and egress["ingress-5"] == "10.0.3.1"


def test_cross_az_cells_arrive_with_the_senders_own_address_of_the_network(region):
    flows = cross(region)
    for f in flows:
        sender = region.plan.host(f.source)
        assert AZ[f.source] != AZ[f.target]
        assert f.seen == str(sender.address(f.network).address), f  # type: ignore[union-attr]
    pairs = Counter((AZ[f.source], AZ[f.target]) for f in flows)
    assert set(pairs) == {
        (a, b) for a in ("az-1", "az-2", "az-3") for b in ("az-1", "az-2", "az-3")
    } - {
        ("az-1", "az-1"),
        ("az-2", "az-2"),
        ("az-3", "az-3"),
    }
    assert Counter(f.network for f in flows) == {"management": 126, "traffic": 114, "storage": 114}
    # The nodes' management addresses are the k8s-nodes zone's, in each AZ's block.
    k8s = IPNetwork("100.64.64.0/18")
    nodes = [f for f in flows if f.network == "management" and f.target.startswith("worker")]
    assert nodes and all(IPAddress(f.address) in k8s for f in nodes)
    assert (
        Flow(
            "cross-az",
            "worker-1",
            "worker-5",
            "storage",
            "100.66.16.21",
            PROBE_PORT,
            "reach",
            "100.66.0.21",
        )
        in flows
    )
    # jump-1 carries management only: no traffic or storage cell of its own.
    assert {f.network for f in flows if f.source == "jump-1"} == {"management"}


def test_a_packet_to_another_az_takes_the_senders_table_then_both_routers(region):
    worker1 = region.nets["worker-1"]
    assert route_for(worker1, "100.64.64.21", "100.64.80.21") == (
        101,
        Route("management", "default", "eno1.100", "100.64.64.1", "100.64.64.21", 101),
    )
    there = trace(region.plan, region.nets, "worker-1", "100.64.64.21", "100.64.80.21")
    assert there == [
        ("worker-1", 101, "default"),
        ("edge-1", 254, "100.64.80.0/20"),
        ("edge-2", 254, "100.64.80.0/20"),
    ]
    assert region.nets["edge-1"].routes[-1].network == "az-line"
    back = trace(region.plan, region.nets, "worker-5", "100.64.80.21", "100.64.64.21")
    assert back == [
        ("worker-5", 101, "default"),
        ("edge-2", 254, "100.64.64.0/20"),
        ("edge-1", 254, "100.64.64.0/20"),
    ]
    cell = next(
        c for c in region.cross if c.flow.cell().startswith("worker-1 -> worker-5 management")
    )
    assert cell.uses == frozenset(there + back)


def test_without_the_line_routes_no_cross_az_cell_traces_through(region):
    line = region.plan.line.name  # type: ignore[union-attr]
    nets = {
        name: dataclasses.replace(net, routes=tuple(r for r in net.routes if r.network != line))
        for name, net in region.nets.items()
    }
    ends = [nets[c.flow.source] for c in region.cross]
    ends = list({n.host: n for n in ends}.values())
    cells = derive_cross_cells(region.plan, nets, ends)
    assert cells and {c.flow.expect for c in cells} == {"blocked"}
    # The lab may leave them out (SiteOptions), while the matrix keeps what the design promises.
    bare = region_site_model(region.plan, "prod", SiteOptions(line_routes=False))
    assert bare.flows == region.flows
    assert not any(r.network == line for net in bare.nets.values() for r in net.routes)


def test_arp_and_broadcast_cells_stay_inside_an_az_with_a_control(region):
    l2 = [f for f in region.flows if f.kind in ("arp", "broadcast") and f.network == "management"]
    got = {(f.kind, f.source, f.target, f.expect) for f in l2}
    assert got == {
        (kind, src, dst, expect)
        for kind in ("arp", "broadcast")
        for src, dst, expect in [
            ("master-1", "worker-1", "reach"),
            ("master-1", "master-2", "blocked"),
            ("master-1", "master-3", "blocked"),
            ("master-2", "worker-5", "reach"),
            ("master-2", "master-1", "blocked"),
            ("master-2", "master-3", "blocked"),
            ("master-3", "worker-6", "reach"),
            ("master-3", "master-1", "blocked"),
            ("master-3", "master-2", "blocked"),
        ]
    }
    arp = next(f for f in l2 if (f.kind, f.source, f.target) == ("arp", "master-1", "master-2"))
    assert (arp.address, arp.l2) == ("100.64.80.12", ("eno1.100", "100.64.64.11"))
    heard = next(
        f for f in l2 if (f.kind, f.source, f.target) == ("broadcast", "master-1", "worker-1")
    )
    assert (heard.address, heard.port, heard.seen) == (
        "255.255.255.255",
        PROBE_PORT,
        "100.64.64.11",
    )
    assert heard.to_dict()["device"] == "eno1.100"


def test_any_region_with_a_line_and_two_azs_makes_a_region_lab():
    def two_azs(values):
        values["hosts"] = [h for h in values["hosts"] if h["az"] != "az-3"]
        values["gateways"] = [g for g in values["gateways"] if g["name"] != "edge-az-3"]

    site = region_site_model(plan_of("prod", two_azs), "prod")
    flows = cross(site)
    assert flows and {(AZ[f.source], AZ[f.target]) for f in flows} == {
        ("az-1", "az-2"),
        ("az-2", "az-1"),
    }
    assert all(f.expect == "reach" for f in flows)
    assert "management-az-3" not in site.segments.values()


def test_a_region_lab_needs_a_line_and_two_azs():
    with pytest.raises(
        LabError, match=r"^line: the region lab needs the line between the AZ routers"
    ):
        region_site_model(plan_of("dev"), "dev")

    def one_az(values):
        values["hosts"] = [h for h in values["hosts"] if h["az"] == "az-1"]
        values["gateways"] = [
            g for g in values["gateways"] if g["name"] not in ("edge-az-2", "edge-az-3")
        ]

    with pytest.raises(
        LabError, match=r"^hosts: the region lab needs hosts in two AZs or more; all are in az-1$"
    ):
        region_site_model(plan_of("prod", one_az), "prod")


def test_a_line_named_like_an_azs_own_segment_is_refused_never_wired_into_it():
    def renamed(values):
        values["line"]["name"] = "management-az-1"
        for host in values["hosts"]:
            for nic in host["nics"]:
                nic["networks"] = [
                    "management-az-1" if n == "az-line" else n for n in nic["networks"]
                ]

    with pytest.raises(
        LabError,
        match=r"^line.name: 'management-az-1' is the region lab's name of az-1's management "
        r"segment: rename it$",
    ):
        region_site_model(plan_of("prod", renamed), "prod")


def test_the_region_lab_is_the_regions_from_any_of_its_az_stacks(region):
    assert lab_prefix(ROOT, "prod", "east") == lab_prefix(ROOT, "prod-az-2", "east")
    assert lab_prefix(ROOT, "prod", "east").startswith("reast")
    assert lab_prefix(ROOT, "prod", "east") != lab_prefix(ROOT, "prod")
    az2 = dataclasses.replace(region.plan, az="az-2")
    other = region_site_model(az2, "prod-az-2")
    assert other.fingerprint() == region.fingerprint()
    assert other.deploy == region.deploy  # the first AZ's, whichever stack asks
