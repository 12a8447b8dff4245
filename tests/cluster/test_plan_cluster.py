"""The cluster plan: pools, NAT exemption, autodetection, ingress and labels, from the plan."""

from __future__ import annotations

import re

import yaml
from hypothesis import given
from hypothesis import strategies as st
from netaddr import IPAddress, IPNetwork, IPSet

from lanes.cluster import ENCAPSULATION_MODES, no_nat_ranges, plan_cluster
from lanes.config import parse_stack_config
from lanes.plan import PLATFORM_SPACE
from lanes.render.kubernetes import render_manifests, render_releases
from lanes.rules import checked_plan, find_overlaps
from tests.cluster.conftest import region_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import ROOT, stack_values

IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:/\d{1,2})?\b")


def cluster_of(values):
    report = checked_plan(parse_stack_config(values))
    assert report.ok, [str(v) for v in report.violations]
    return plan_cluster(report.plan)


def test_prod_pools_are_carved_in_az_order_from_the_pod_range():
    cluster = plan_cluster(region_plan("prod"))
    assert {p.az: str(p.cidr) for p in cluster.pools} == {
        "az-1": "100.96.0.0/14",
        "az-2": "100.100.0.0/14",
        "az-3": "100.104.0.0/14",
    }
    pool = cluster.manifest("ippool-az-2").body
    assert pool["spec"]["nodeSelector"] == "topology.kubernetes.io/zone == 'az-2'"
    assert (pool["spec"]["blockSize"], pool["spec"]["natOutgoing"]) == (26, True)
    assert (pool["spec"]["ipipMode"], pool["spec"]["vxlanMode"]) == ("Never", "CrossSubnet")


def test_autodetection_is_pinned_to_the_traffic_blocks_in_the_installation():
    installation = plan_cluster(region_plan("prod")).manifest("installation").body
    network = installation["spec"]["calicoNetwork"]
    assert network["nodeAddressAutodetectionV4"] == {
        "cidrs": ["100.65.0.0/20", "100.65.16.0/20", "100.65.32.0/20"]
    }
    assert network["ipPools"] == [] and network["bgp"] == "Disabled"
    dev = plan_cluster(region_plan("dev")).manifest("installation").body
    assert dev["spec"]["calicoNetwork"]["nodeAddressAutodetectionV4"]["cidrs"] == ["100.64.32.0/21"]


def test_the_nat_exemption_covers_the_platform_space_except_pods_and_storage(stack, cluster):
    plan = region_plan(stack)
    storage = plan.network("storage").cidr
    pools = [(p.cidr, f"pool {p.az}") for p in cluster.pools]
    no_nat = [(c, f"no-nat {c}") for c in cluster.no_nat]
    assert find_overlaps(pools + no_nat) == []  # Calico refuses overlapping pools
    assert IPSet(cluster.no_nat) | IPSet([cluster.pod_cidr]) | IPSet([storage]) == IPSet(
        [PLATFORM_SPACE]
    )
    assert not IPSet(cluster.no_nat) & IPSet([storage])
    for role in (m.role for m in cluster.manifests if m.role.startswith("ippool-no-nat-")):
        spec = cluster.manifest(role).body["spec"]
        assert spec["disabled"] is True and spec["natOutgoing"] is False


def test_prod_exemption_literal():
    assert [str(c) for c in plan_cluster(region_plan("prod")).no_nat] == [
        "100.64.0.0/15",
        "100.67.0.0/16",
        "100.68.0.0/14",
        "100.72.0.0/13",
        "100.80.0.0/12",
        "100.112.0.0/12",
    ]


def test_without_storage_attachment_the_storage_network_is_exempt_too():
    values = changed(stack_values("dev"), "cluster.storage", "none")
    values = changed(values, "cluster.tenants[0].egress", [])
    cluster = cluster_of(values)
    assert cluster.storage is None
    assert IPSet(cluster.no_nat) | IPSet([cluster.pod_cidr]) == IPSet([PLATFORM_SPACE])


@given(
    st.integers(min_value=11, max_value=20).flatmap(
        lambda prefix: st.tuples(
            st.just(prefix), st.integers(min_value=0, max_value=(1 << (prefix - 10)) - 1)
        )
    ),
    st.integers(min_value=0, max_value=(1 << 6) - 1),
)
def test_property_exemption_partitions_the_space(pod, storage_index):
    prefix, index = pod
    pod_cidr = IPNetwork(
        f"{IPAddress(PLATFORM_SPACE.first + index * (1 << (32 - prefix)))}/{prefix}"
    )
    storage = IPNetwork(f"{IPAddress(PLATFORM_SPACE.first + storage_index * (1 << 16))}/16")
    ranges = no_nat_ranges(pod_cidr, storage)
    assert find_overlaps([(c, str(c)) for c in ranges] + [(pod_cidr, "pod")]) == []
    assert IPSet(ranges) | IPSet([pod_cidr]) | IPSet([storage]) == IPSet([PLATFORM_SPACE])
    assert not IPSet(ranges) & IPSet([storage])


def test_the_ingress_addresses_are_the_routers_dnat_targets():
    plan = region_plan("prod")
    cluster = plan_cluster(plan)
    targets = {
        str(plan.host(route.node).address("traffic").address)
        for gw in plan.config.gateways
        for route in gw.ingress
    }
    service = cluster.manifest("ingress-service-az-1").body["spec"]
    assert set(service["externalIPs"]) == targets == {"100.65.0.31", "100.65.0.32", "100.65.0.33"}
    assert service["externalTrafficPolicy"] == "Local" and service["type"] == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [
        (80, "http"),
        (443, "https"),
    ]


def test_the_controller_runs_on_the_azs_ingress_nodes_only():
    cluster = plan_cluster(region_plan("prod"))
    (release,) = [r for r in cluster.releases if r.role == "ingress-nginx"]
    selector = release.values["controller"]["nodeSelector"]
    labelled = {
        m.body["metadata"]["name"]
        for m in cluster.manifests
        if m.patch
        and all(
            m.body["metadata"]["labels"].get(k) == v
            for k, v in selector.items()
            if k != "kubernetes.io/os"
        )
    }
    assert labelled == {"ingress-1", "ingress-2", "ingress-3"}
    assert release.values["controller"]["hostNetwork"] is False
    assert release.values["controller"]["service"] == {"enabled": False}
    assert (release.chart.name, release.chart.version) == ("ingress-nginx", "4.14.1")


def test_the_dev_lab_has_no_ingress_node_so_no_controller():
    cluster = plan_cluster(region_plan("dev"))
    assert cluster.ingress_addresses == ()
    assert [r.role for r in cluster.releases] == ["calico-operator"]
    assert not [m for m in cluster.manifests if m.kind == "Service"]


def test_node_labels():
    cluster = plan_cluster(region_plan("prod"))
    assert cluster.manifest("node-worker-1").body == {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "worker-1",
            "labels": {
                "lanes.io/role": "worker",
                "topology.kubernetes.io/region": "east",
                "topology.kubernetes.io/zone": "az-1",
            },
        },
    }
    nodes = sorted(m.body["metadata"]["name"] for m in cluster.manifests if m.patch)
    assert "edge-1" not in nodes and "jump-1" not in nodes and len(nodes) == 10


def test_encapsulation_maps_to_pool_modes_and_bgp():
    for encapsulation, (ipip, vxlan) in ENCAPSULATION_MODES.items():
        cluster = cluster_of(
            changed(stack_values("prod"), "cluster.calico.encapsulation", encapsulation)
        )
        spec = cluster.manifest("ippool-az-1").body["spec"]
        assert (spec["ipipMode"], spec["vxlanMode"]) == (ipip, vxlan)
        bgp = cluster.manifest("installation").body["spec"]["calicoNetwork"]["bgp"]
        assert bgp == ("Disabled" if encapsulation.startswith("VXLAN") else "Enabled")


def test_only_the_region_owner_declares_region_objects():
    values = changed(stack_values("prod"), "cluster.region_az", "az-2")
    cluster = cluster_of(values)
    assert not cluster.owner and cluster.releases[0].role == "ingress-nginx"
    assert {m.kind for m in cluster.manifests} == {"Node", "Service"}


def test_the_pod_network_is_protected():
    cluster = plan_cluster(region_plan("prod"))
    assert {m.role for m in cluster.manifests if m.protect} == {
        "installation",
        "ippool-az-1",
        "ippool-az-2",
        "ippool-az-3",
    }


def test_grants_resolve_to_the_plans_ranges():
    cluster = plan_cluster(region_plan("prod"))
    egress = cluster.manifest("netpol-shop-allow-egress-grants").body["spec"]["egress"]
    assert egress == [
        {
            "to": [{"ipBlock": {"cidr": "100.64.128.0/18"}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        },
        {
            "to": [{"ipBlock": {"cidr": "100.127.0.0/16"}}],
            "ports": [{"protocol": "TCP", "port": 80}],
        },
        {"to": [{"ipBlock": {"cidr": "100.66.0.0/16"}}]},
    ]
    analytics = cluster.manifest("netpol-analytics-allow-egress-grants").body["spec"]["egress"]
    assert analytics == [{"to": [{"ipBlock": {"cidr": "100.66.0.0/20"}}]}]


def plan_ranges(stack: str) -> tuple[set[IPNetwork], set[IPAddress]]:
    plan = region_plan(stack)
    nets = set()
    for net in plan.networks:
        nets.add(net.cidr)
        for zone in net.zones:
            nets.add(zone.cidr)
            nets.update(b.cidr for b in zone.blocks)
    addresses = {e.address for h in plan.hosts for e in h.addresses}
    return nets, addresses


def test_no_address_in_the_cluster_objects_is_not_derived_from_the_plan(stack, cluster):
    nets, addresses = plan_ranges(stack)
    own = {p.cidr for p in cluster.pools} | set(cluster.no_nat)
    text = render_manifests(cluster) + render_releases(cluster)
    for literal in IPV4.findall(text):
        if "/" in literal:
            assert IPNetwork(literal) in nets | own, literal
        else:
            assert IPAddress(literal) in addresses, literal
    # the carved ranges come from the configured pod range and 100.64.0.0/10 only
    assert all(p.cidr in cluster.pod_cidr for p in cluster.pools)
    assert all(c in PLATFORM_SPACE and c not in cluster.pod_cidr for c in cluster.no_nat)


def test_the_cluster_section_of_the_stack_files_types_no_plan_address(stack):
    section = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["lanes:cluster"]
    found = IPV4.findall(yaml.safe_dump(section))
    own = {section.get("pod_cidr"), section.get("service_cidr")} - {None}
    assert set(found) == own
