"""The cluster plan: pools, NAT exemption, autodetection, ingress and labels, from the plan."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from netaddr import IPAddress, IPNetwork, IPSet

from lanes.config import ConfigError, parse_stack_config
from lanes.model.cluster import no_nat_ranges
from lanes.model.plan import PLATFORM_SPACE
from lanes.render.cluster import ENCAPSULATION_MODES, plan_cluster
from lanes.rules import checked_plan, find_overlaps
from tests.cluster.conftest import region_plan
from tests.support.kubernetes import render_manifests, render_releases
from tests.support.mutate import changed
from tests.support.pulumi_run import stack_values

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
    assert network["ipPools"] == [] and network["bgp"] == "Enabled"
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


def test_the_gateway_addresses_are_the_routers_dnat_targets():
    plan = region_plan("prod")
    cluster = plan_cluster(plan)
    targets = {
        str(plan.host(route.node).address("traffic").address)
        for gw in plan.gateways
        if plan.host(gw.host).az == "az-1"  # the stack's AZ; az-2 and az-3 have their own
        for route in gw.ingress
    }
    gateway = cluster.manifest("gateway-az-1").body
    addresses = gateway["spec"]["addresses"]
    assert (
        {a["value"] for a in addresses} == targets == {"100.65.0.31", "100.65.0.32", "100.65.0.33"}
    )
    assert {a["type"] for a in addresses} == {"IPAddress"}
    assert gateway["metadata"] == {
        "name": "lanes-az-1",
        "namespace": "tigera-gateway",
        "labels": {"topology.kubernetes.io/zone": "az-1"},
    }
    assert cluster.to_dict()["ingress"]["addresses"] == sorted(targets)


def test_one_listener_per_tenant_hostname_and_ingress_port_admits_that_namespace_only():
    gateway = plan_cluster(region_plan("prod")).manifest("gateway-az-1").body["spec"]
    listeners = {entry["name"]: entry for entry in gateway["listeners"]}
    assert list(listeners) == [
        "shop-80-wildcard.shop.example.com",
        "shop-443-wildcard.shop.example.com",
        "shop-80-shop.example.com",
        "shop-443-shop.example.com",
    ]
    assert [(e["hostname"], e["port"], e["protocol"]) for e in listeners.values()] == [
        ("*.shop.example.com", 80, "HTTP"),
        ("*.shop.example.com", 443, "HTTPS"),
        ("shop.example.com", 80, "HTTP"),
        ("shop.example.com", 443, "HTTPS"),
    ]
    for entry in listeners.values():
        assert entry["allowedRoutes"] == {
            "namespaces": {
                "from": "Selector",
                "selector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
            },
            "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
        }
    assert listeners["shop-443-shop.example.com"]["tls"] == {
        "mode": "Terminate",
        "certificateRefs": [
            {"group": "", "kind": "Secret", "name": "lanes-gateway-tls", "namespace": "shop"}
        ],
    }
    assert "tls" not in listeners["shop-80-shop.example.com"]


def test_the_tls_secret_is_granted_to_the_gateways_and_nothing_else():
    cluster = plan_cluster(region_plan("prod"))
    grant = cluster.manifest("referencegrant-shop").body
    assert grant["metadata"]["namespace"] == "shop"
    assert grant["spec"] == {
        "from": [
            {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "tigera-gateway"}
        ],
        "to": [{"group": "", "kind": "Secret", "name": "lanes-gateway-tls"}],
    }
    # analytics claims no hostname: no listener, no grant, no way in from the gateway
    roles = {m.role for m in cluster.manifests}
    assert "referencegrant-analytics" not in roles
    assert "netpol-analytics-allow-from-gateway" not in roles


def test_the_data_plane_runs_on_the_azs_ingress_nodes_only():
    cluster = plan_cluster(region_plan("prod"))
    spec = cluster.manifest("gateway-api").body["spec"]
    classes = spec["gatewayClasses"]
    assert [(c["name"], c["gatewayKind"]) for c in classes] == [
        (f"lanes-{az}", "DaemonSet") for az in ("az-1", "az-2", "az-3")
    ]
    assert cluster.manifest("gateway-az-1").body["spec"]["gatewayClassName"] == "lanes-az-1"
    # Each AZ's class selects the ingress nodes its stack labels, and no other node.
    for stack, klass, ingress in [
        ("prod", classes[0], {"ingress-1", "ingress-2", "ingress-3"}),
        ("prod-az-2", classes[1], {"ingress-4"}),
        ("prod-az-3", classes[2], {"ingress-5"}),
    ]:
        selector = klass["gatewayDaemonSet"]["spec"]["template"]["spec"]["nodeSelector"]
        labelled = {
            m.body["metadata"]["name"]
            for m in plan_cluster(region_plan(stack)).manifests
            if m.patch
            and all(
                m.body["metadata"]["labels"].get(k) == v
                for k, v in selector.items()
                if k != "kubernetes.io/os"
            )
        }
        assert labelled == ingress, stack
        # no node port: the proxies are reached on the Gateway's addresses only
        assert klass["gatewayService"] == {"spec": {"allocateLoadBalancerNodePorts": False}}
    assert [r.role for r in cluster.releases] == ["calico-operator"]


def test_every_az_with_ingress_nodes_gets_its_class_from_the_region_owner():
    # prod's az-3 without its ingress node (and edge-az-3's route to it): no class for az-3.
    values = copy.deepcopy(stack_values("prod"))
    values["hosts"] = [h for h in values["hosts"] if h["name"] != "ingress-5"]
    edge_az_3 = next(g for g in values["gateways"] if g["name"] == "edge-az-3")
    del edge_az_3["ingress"]
    cluster = cluster_of(values)
    classes = cluster.manifest("gateway-api").body["spec"]["gatewayClasses"]
    assert [c["name"] for c in classes] == ["lanes-az-1", "lanes-az-2"]
    node_selector = classes[1]["gatewayDaemonSet"]["spec"]["template"]["spec"]["nodeSelector"]
    assert node_selector["topology.kubernetes.io/zone"] == "az-2"
    # az-1's stack declares its own Gateway only
    assert [m.role for m in cluster.manifests if m.kind == "Gateway"] == ["gateway-az-1"]


def test_the_dev_lab_has_no_ingress_node_so_no_gateway():
    cluster = plan_cluster(region_plan("dev"))
    assert cluster.ingress_addresses == () and cluster.gateway is None
    assert [r.role for r in cluster.releases] == ["calico-operator"]
    assert not [m for m in cluster.manifests if m.kind in ("GatewayAPI", "Gateway", "Service")]


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
    # az-1's eight nodes (master-2 and master-3 are labelled by the az-2 and az-3 stacks)
    assert "edge-1" not in nodes and "jump-1" not in nodes and len(nodes) == 8
    assert "master-2" not in nodes and "master-3" not in nodes


def test_encapsulation_maps_to_pool_modes_and_bgp():
    for encapsulation, (ipip, vxlan) in ENCAPSULATION_MODES.items():
        cluster = cluster_of(
            changed(stack_values("prod"), "cluster.calico.encapsulation", encapsulation)
        )
        spec = cluster.manifest("ippool-az-1").body["spec"]
        assert (spec["ipipMode"], spec["vxlanMode"]) == (ipip, vxlan)
        bgp = cluster.manifest("installation").body["spec"]["calicoNetwork"]["bgp"]
        assert bgp == "Enabled"  # the AZ routers learn the pod blocks whatever the encapsulation


def test_the_nodes_of_each_az_peer_with_its_router_and_announce_only_pod_blocks():
    cluster = plan_cluster(region_plan("prod"))
    assert cluster.manifest("bgp-configuration").body["spec"] == {
        "asNumber": 64512,
        "nodeToNodeMeshEnabled": False,
        "bindMode": "NodeIP",
        "logSeverityScreen": "Info",
    }
    peer = cluster.manifest("bgp-peer-az-1").body
    assert peer["metadata"]["name"] == "lanes-az-1-router"
    assert peer["spec"] == {
        "peerIP": "100.65.0.1",  # edge-1, number 1: the az-1 traffic block's gateway
        "asNumber": 64513,
        "nodeSelector": "topology.kubernetes.io/zone == 'az-1'",
        "sourceAddress": "UseNodeIP",
    }
    # every AZ of prod has its router, and each AZ's nodes peer with their own
    peers = [m for m in cluster.manifests if m.kind == "BGPPeer"]
    assert [(m.role, m.body["spec"]["peerIP"], m.body["spec"]["nodeSelector"]) for m in peers] == [
        (f"bgp-peer-{az}", ip, f"topology.kubernetes.io/zone == '{az}'")
        for az, ip in [("az-1", "100.65.0.1"), ("az-2", "100.65.16.1"), ("az-3", "100.65.32.1")]
    ]
    # an AZ without a router (prod without az-3's hosts): no peer points at nothing there
    values = copy.deepcopy(stack_values("prod"))
    values["hosts"] = [h for h in values["hosts"] if h["az"] != "az-3"]
    values["gateways"] = [g for g in values["gateways"] if g["name"] != "edge-az-3"]
    roles = [m.role for m in cluster_of(values).manifests if m.kind == "BGPPeer"]
    assert roles == ["bgp-peer-az-1", "bgp-peer-az-2"]
    # nothing but the pod pools is exported: the disabled no-NAT pools say so themselves
    assert all(m.body["spec"]["disableBGPExport"] for m in cluster.manifests if "no-nat" in m.role)
    assert not {"serviceClusterIPs", "serviceExternalIPs", "serviceLoadBalancerIPs"} & set(
        cluster.manifest("bgp-configuration").body["spec"]
    )
    dev = plan_cluster(region_plan("dev")).manifest("bgp-peer-az-1").body
    assert dev["spec"]["peerIP"] == "100.64.32.1"


def test_the_nodes_and_routers_must_be_in_different_as():
    values = changed(stack_values("prod"), "cluster.calico.router_as_number", 64512)
    with pytest.raises(ConfigError, match="router_as_number are both 64512"):
        parse_stack_config(values)


def test_only_the_region_owner_declares_region_objects():
    values = changed(stack_values("prod"), "cluster.region_az", "az-2")
    cluster = cluster_of(values)
    assert not cluster.owner and cluster.releases == ()
    assert {m.kind for m in cluster.manifests} == {"Node", "Gateway"}
    assert cluster.manifest("gateway-az-1").after == ()


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
    section = stack_values(stack)["cluster"]  # as typed in the stack or its region file
    found = IPV4.findall(yaml.safe_dump(section))
    own = {section.get("pod_cidr"), section.get("service_cidr")} - {None}
    assert set(found) == own
