"""Tenant NetworkPolicies applied as a decision table: who may open a connection to whom."""

from __future__ import annotations

import pytest

from lanes.render.cluster import DNS_POD_LABELS, GATEWAY_POD_LABELS, plan_cluster
from tests.cluster.conftest import region_plan
from tests.cluster.netpol import Cluster, host, pod

SYSTEM = {"kube-system": {}, "tigera-gateway": {}}

# prod endpoints: pods get addresses of their AZ pool, the rest are plan addresses
SHOP_A = pod("shop-a", "100.96.0.10", "shop", app="web")
SHOP_B = pod("shop-b", "100.96.1.20", "shop", app="db")
ANALYTICS = pod("analytics-c", "100.100.0.5", "analytics", app="batch")
DNS = pod("coredns", "100.96.2.2", "kube-system", **DNS_POD_LABELS)
PROXY = pod(
    "envoy-lanes-az-1",
    "100.96.3.3",
    "tigera-gateway",
    **GATEWAY_POD_LABELS,
    **{"gateway.envoyproxy.io/owning-gateway-name": "lanes-az-1"},
)
GATEWAY_CONTROLLER = pod(
    "envoy-gateway",
    "100.96.3.9",
    "tigera-gateway",
    **{"app.kubernetes.io/name": "gateway-helm", "control-plane": "envoy-gateway"},
)
STORAGE_AZ1 = host("storage-az-1", "100.66.0.50")
STORAGE_AZ2 = host("storage-az-2", "100.66.16.50")
SSO = host("sso (mapping zone)", "100.64.128.2")
VPC2_WEB = host("vpc-2 web (adjacency)", "100.127.0.202")
KUBELET = host("worker-1 kubelet", "100.64.64.21")
APISERVER = host("master-1 apiserver", "100.64.64.11")
TRAFFIC_NODE = host("worker-1 traffic", "100.65.0.21")
ENTERPRISE_SSO = host("enterprise sso", "10.0.0.2")
INTERNET = host("internet", "8.8.8.8")
FRONT_LB = host("front lb", "10.0.1.100")

ALLOWED, DENIED = True, False

PROD_TABLE = [
    # same tenant
    (SHOP_A, SHOP_B, 5432, "TCP", ALLOWED),
    (SHOP_B, SHOP_A, 8080, "TCP", ALLOWED),
    # across tenants, both ways
    (SHOP_A, ANALYTICS, 8080, "TCP", DENIED),
    (ANALYTICS, SHOP_A, 8080, "TCP", DENIED),
    # DNS
    (SHOP_A, DNS, 53, "UDP", ALLOWED),
    (SHOP_A, DNS, 53, "TCP", ALLOWED),
    (ANALYTICS, DNS, 53, "UDP", ALLOWED),
    (SHOP_A, DNS, 9153, "TCP", DENIED),
    (DNS, SHOP_A, 8080, "TCP", DENIED),
    # the gateway's proxies reach a tenant with hostnames, nothing else of their namespace does;
    # analytics has no hostname, so no route and no way in from the gateway
    (PROXY, SHOP_A, 8080, "TCP", ALLOWED),
    (PROXY, ANALYTICS, 80, "TCP", DENIED),
    (GATEWAY_CONTROLLER, SHOP_A, 8080, "TCP", DENIED),
    (FRONT_LB, SHOP_A, 8080, "TCP", DENIED),
    # storage: shop has the whole storage network, analytics only the az-1 block
    (SHOP_A, STORAGE_AZ1, 3260, "TCP", ALLOWED),
    (SHOP_A, STORAGE_AZ2, 2049, "TCP", ALLOWED),
    (ANALYTICS, STORAGE_AZ1, 3260, "TCP", ALLOWED),
    (ANALYTICS, STORAGE_AZ2, 3260, "TCP", DENIED),
    # exposures: the mapping zone on 443; the adjacency network itself is never granted (an
    # exposure is called at a consume address)
    (SHOP_A, SSO, 443, "TCP", ALLOWED),
    (SHOP_A, SSO, 22, "TCP", DENIED),
    (ANALYTICS, SSO, 443, "TCP", DENIED),
    (SHOP_A, VPC2_WEB, 80, "TCP", DENIED),
    # the nodes and the outside
    (SHOP_A, KUBELET, 10250, "TCP", DENIED),
    (SHOP_A, APISERVER, 6443, "TCP", DENIED),
    (SHOP_A, TRAFFIC_NODE, 22, "TCP", DENIED),
    (SHOP_A, ENTERPRISE_SSO, 443, "TCP", DENIED),
    (SHOP_A, INTERNET, 443, "TCP", DENIED),
    (ANALYTICS, INTERNET, 443, "TCP", DENIED),
]

DEMO = pod("demo", "100.96.0.7", "demo")
SANDBOX = pod("sandbox", "100.96.0.8", "sandbox")
DEV_DNS = pod("coredns", "100.96.0.2", "kube-system", **DNS_POD_LABELS)
DEV_STORAGE = host("lab storage", "100.64.64.40")
DEV_MASTER = host("master-1", "100.64.0.2")
DEV_ENTERPRISE = host("dev box", "192.168.0.105")

DEV_TABLE = [
    (DEMO, SANDBOX, 80, "TCP", DENIED),
    (SANDBOX, DEMO, 80, "TCP", DENIED),
    (DEMO, DEV_DNS, 53, "UDP", ALLOWED),
    (SANDBOX, DEV_DNS, 53, "UDP", ALLOWED),
    (DEMO, DEV_STORAGE, 3260, "TCP", ALLOWED),
    (SANDBOX, DEV_STORAGE, 3260, "TCP", DENIED),
    (DEMO, DEV_MASTER, 6443, "TCP", DENIED),
    (DEMO, DEV_ENTERPRISE, 22, "TCP", DENIED),
]


def cluster_of(stack: str) -> Cluster:
    return Cluster([m.body for m in plan_cluster(region_plan(stack)).manifests], SYSTEM)


def decisions(cluster: Cluster, table) -> list[tuple[str, str, int, str, bool]]:
    return [
        (s.name, d.name, port, proto, cluster.allows(s, d, port, proto))
        for s, d, port, proto, _ in table
    ]


def expected(table) -> list[tuple[str, str, int, str, bool]]:
    return [(s.name, d.name, port, proto, want) for s, d, port, proto, want in table]


@pytest.mark.parametrize(("stack", "table"), [("prod", PROD_TABLE), ("dev", DEV_TABLE)])
def test_the_policies_give_the_decisions_the_config_promises(stack, table):
    assert decisions(cluster_of(stack), table) == expected(table)


def test_without_lanes_policies_everything_would_be_allowed():
    # the table is not vacuous: the same evaluator on the same pods without the rendered
    # policies lets every connection through
    bare = Cluster([], SYSTEM)
    assert all(bare.allows(s, d, port, proto) for s, d, port, proto, _ in PROD_TABLE)


def test_dropping_one_grant_flips_exactly_its_rows():
    objects = [m.body for m in plan_cluster(region_plan("prod")).manifests]
    for obj in objects:
        if (
            obj["kind"] == "NetworkPolicy"
            and obj["metadata"]["namespace"] == "shop"
            and obj["metadata"]["name"] == "lanes-allow-egress-grants"
        ):
            obj["spec"]["egress"] = obj["spec"]["egress"][:1]  # no storage for shop
    changed = decisions(Cluster(objects, SYSTEM), PROD_TABLE)
    flipped = [
        row[:2] for row, want in zip(changed, expected(PROD_TABLE), strict=True) if row != want
    ]
    assert flipped == [("shop-a", "storage-az-1"), ("shop-a", "storage-az-2")]


# --- the evaluator's own semantics, on hand-written policies -------------------------------


def policy(namespace, spec):
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": spec,
    }


def test_evaluator_namespace_and_pod_selector_in_one_peer_mean_and():
    a = pod("a", "100.96.0.1", "x", app="a")
    b_in_y = pod("b", "100.96.0.2", "y", app="b")
    other_in_y = pod("c", "100.96.0.3", "y", app="c")
    and_peer = policy(
        "x",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "y"}
                            },
                            "podSelector": {"matchLabels": {"app": "b"}},
                        }
                    ]
                }
            ],
        },
    )
    cluster = Cluster([and_peer], {"x": {}, "y": {}})
    assert cluster.allows(b_in_y, a, 80) and not cluster.allows(other_in_y, a, 80)
    or_peers = policy(
        "x",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "y"}
                            }
                        },
                        {"podSelector": {"matchLabels": {"app": "b"}}},
                    ]
                }
            ],
        },
    )
    assert Cluster([or_peers], {"x": {}, "y": {}}).allows(other_in_y, a, 80)


def test_evaluator_ip_block_except_and_ports():
    a = pod("a", "100.96.0.1", "x")
    egress = policy(
        "x",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                    "ports": [{"protocol": "UDP", "port": 53}],
                }
            ],
        },
    )
    cluster = Cluster([egress], {"x": {}})
    assert cluster.allows(a, host("d", "10.2.0.1"), 53, "UDP")
    assert not cluster.allows(a, host("d", "10.1.0.1"), 53, "UDP")
    assert not cluster.allows(a, host("d", "10.2.0.1"), 53, "TCP")
    assert cluster.allows(host("d", "10.1.0.1"), a, 80)  # not isolated for ingress


def test_evaluator_policy_types_default_to_ingress():
    a = pod("a", "100.96.0.1", "x", app="a")
    ingress_only = policy(
        "x",
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]}},
    )
    cluster = Cluster([ingress_only], {"x": {}})
    assert cluster.allows(a, host("h", "8.8.8.8"), 443)
    assert not cluster.allows(host("h", "8.8.8.8"), a, 443)
