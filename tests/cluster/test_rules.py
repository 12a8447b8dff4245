"""Bad cluster input: each refused with a message naming the config path and the value."""

from __future__ import annotations

import copy

import pytest

from lanes.config import ConfigError, parse_stack_config
from lanes.render.cluster import plan_cluster
from lanes.rules import check_route_listeners, checked_plan
from tests.cluster.conftest import region_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import stack_values


def cluster_violations(
    stack: str, *changes: tuple[str, object], rule_prefix: str = "cluster-"
) -> list[str]:
    values = stack_values(stack)
    for path, value in changes:
        values = changed(values, path, value)
    report = checked_plan(parse_stack_config(values))
    return [str(v) for v in report.violations if v.rule.startswith(rule_prefix)]


def host_index(stack: str, name: str) -> int:
    return next(i for i, h in enumerate(stack_values(stack)["hosts"]) if h["name"] == name)


def test_the_committed_stacks_break_no_cluster_rule(stack):
    assert cluster_violations(stack) == []


def test_a_pod_range_on_the_traffic_network_is_refused():
    found = cluster_violations(
        "prod", ("cluster.pod_cidr", "100.65.0.0/16"), ("cluster.pool_prefix", 18)
    )
    assert found == [
        "cluster.pod_cidr: 100.65.0.0/16 overlaps the traffic network 100.65.0.0/16 "
        "(networks.traffic.cidr) [cluster-overlap]"
    ]


def test_a_pod_range_partly_on_the_dev_traffic_block_names_every_range_it_hits():
    found = cluster_violations(
        "dev", ("cluster.pod_cidr", "100.64.32.0/19"), ("cluster.pool_prefix", 20)
    )
    assert found == [
        "cluster.pod_cidr: 100.64.32.0/19 overlaps the OVN-Kubernetes join subnet 100.64.0.0/16, "
        "the traffic network 100.64.32.0/21 (networks.traffic.cidr) [cluster-overlap]"
    ]


def test_a_service_range_on_the_ovn_join_subnet_is_refused():
    found = cluster_violations("dev", ("cluster.service_cidr", "100.64.192.0/18"))
    assert found == [
        "cluster.service_cidr: 100.64.192.0/18 overlaps the OVN-Kubernetes join subnet "
        "100.64.0.0/16 [cluster-overlap]"
    ]


def test_a_service_range_equal_to_prod_management_names_the_network_and_the_join_subnet():
    (found,) = cluster_violations("prod", ("cluster.service_cidr", "100.64.0.0/16"))
    assert "the management network 100.64.0.0/16 (networks.management.cidr)" in found
    assert "the OVN-Kubernetes join subnet 100.64.0.0/16" in found


def test_the_ovn_transit_subnet_is_refused_too():
    assert cluster_violations("prod", ("cluster.service_cidr", "100.88.0.0/16")) == [
        "cluster.service_cidr: 100.88.0.0/16 overlaps the OVN-Kubernetes transit switch subnet "
        "100.88.0.0/16 [cluster-overlap]"
    ]


def test_pod_and_service_ranges_may_not_overlap_each_other():
    assert cluster_violations("prod", ("cluster.service_cidr", "100.97.0.0/16")) == [
        "cluster.service_cidr: 100.97.0.0/16 overlaps cluster.pod_cidr 100.96.0.0/12 "
        "[cluster-overlap]"
    ]


def test_an_ingress_node_without_a_traffic_address_is_refused():
    i = host_index("prod", "ingress-2")
    nics = [
        {"name": "eno1", "networks": ["management"]},
        {"name": "ens2f0", "networks": ["storage"]},
    ]
    routes = [r for r in stack_values("prod")["gateways"][0]["ingress"] if r["node"] != "ingress-2"]
    # the edge's route to ingress-2 goes too: that one is the gateway rules' to judge
    found = cluster_violations("prod", (f"hosts[{i}].nics", nics), ("gateways[0].ingress", routes))
    assert found == [
        f"hosts[{i}].nics: ingress-2 has role ingress but no NIC carries traffic: the AZ's "
        "Gateway listens on the ingress nodes' traffic addresses (the router's DNAT targets) "
        "[cluster-gateway-address]"
    ]


def test_two_tenants_claiming_one_hostname_are_refused():
    found = cluster_violations("prod", ("cluster.tenants[1].hostnames", ["shop.example.com"]))
    assert found == [
        "cluster.tenants[1].hostnames[0]: shop.example.com of tenant analytics overlaps "
        "shop.example.com of tenant shop (cluster.tenants[0].hostnames[0]): a hostname's routes "
        "attach for one tenant only [cluster-hostname]"
    ]


def test_a_wildcard_covering_another_tenants_hostname_is_refused_both_ways():
    found = cluster_violations("prod", ("cluster.tenants[1].hostnames", ["api.shop.example.com"]))
    assert found == [
        "cluster.tenants[1].hostnames[0]: api.shop.example.com of tenant analytics overlaps "
        "*.shop.example.com of tenant shop (cluster.tenants[0].hostnames[1]): a hostname's "
        "routes attach for one tenant only [cluster-hostname]"
    ]
    # a sibling of the wildcard's parent, and the bare parent, are not covered
    siblings = ["example.com", "shop.example.org", "analytics.example.com"]
    assert cluster_violations("prod", ("cluster.tenants[1].hostnames", siblings)) == []


def test_hostnames_without_an_ingress_node_in_the_region_are_refused():
    found = cluster_violations("dev", ("cluster.tenants[0].hostnames", ["demo.lab.example"]))
    assert found == [
        "cluster.tenants: tenants claim hostnames but the region has no ingress node to run a "
        "Gateway on [cluster-hostname]"
    ]


def test_more_listeners_than_a_gateway_holds_are_refused():
    names = [f"h{i}.shop.example.org" for i in range(31)]
    # 32 hostnames x 2 ingress ports (80, 443) = 64 listeners: exactly what a Gateway holds
    assert cluster_violations("prod", ("cluster.tenants[0].hostnames", [*names, "a.example"])) == []
    found = cluster_violations(
        "prod", ("cluster.tenants[0].hostnames", [*names, "a.example", "b.example"])
    )
    assert found == [
        f"cluster.tenants: 33 hostnames on 2 ingress ports make 66 listeners on {az}'s Gateway; "
        "a Gateway holds 64 [cluster-hostname]"
        for az in ("az-1", "az-2", "az-3")
    ]


def test_each_az_gateway_is_counted_with_its_own_ingress_ports():
    # Issue 29: the rule counted the ports of every AZ's routes together. With every route on
    # 443 alone but az-3's edge routing none, az-3's Gateway listens on 80 and 443 (the default)
    # and would hold 66 listeners, which the API server refuses; the region's union is {443}.
    names = ["shop.example.com", *(f"h{i}.shop.example.com" for i in range(32))]
    changes = [("cluster.tenants[0].hostnames", names), ("gateways[5].ingress", [])]
    changes += [(f"gateways[0].ingress[{i}].ports", [443]) for i in range(3)]
    changes += [("gateways[4].ingress[0].ports", [443])]
    assert cluster_violations("prod", *changes) == [
        "cluster.tenants: 33 hostnames on 2 ingress ports make 66 listeners on az-3's Gateway; "
        "a Gateway holds 64 [cluster-hostname]"
    ]
    # az-3's edge routing to its ingress node on 443 too: every Gateway holds 33 listeners
    az3_on_443 = ("gateways[5].ingress[0].ports", [443])
    assert cluster_violations("prod", changes[0], az3_on_443, *changes[2:]) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            (("cluster.pod_cidr", "10.244.0.0/16"),),
            "cluster.pod_cidr: 10.244.0.0/16 is not inside 100.64.0.0/10 [cluster-space]",
        ),
        (
            (("cluster.pod_cidr", "100.97.0.0/12"),),
            "cluster.pod_cidr: 100.97.0.0/12 is not on a /12 boundary (the /12 around it is "
            "100.96.0.0/12; the next one is 100.112.0.0/12) [cluster-boundary]",
        ),
        (
            (("cluster.pool_prefix", 13),),
            "cluster.pool_prefix: /13 pools: 100.96.0.0/12 holds 2, fewer than the 3 AZs "
            "[cluster-pools]",
        ),
        (
            (("cluster.pool_prefix", 27),),
            "cluster.calico.block_size: /26 blocks do not fit in /27 pools [cluster-pools]",
        ),
        (
            (("cluster.region_az", "az-9"),),
            "cluster.region_az: az-9 is not one of azs ['az-1', 'az-2', 'az-3'] [cluster-region-az]",
        ),
        (
            (("cluster.tenants[1].name", "shop"),),
            "cluster.tenants[1].name: shop is also cluster.tenants[0] [cluster-tenant]",
        ),
        (
            (("cluster.tenants[1].name", "kube-system"),),
            "cluster.tenants[1].name: kube-system is a system namespace, not a tenant [cluster-tenant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"network": "traffic"}),),
            "cluster.tenants[0].egress[0].network: traffic is never granted: a grant names "
            "management (by zone) or storage; never traffic or adjacency (an exposure is granted "
            "by name: {exposure: <name>}) [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"network": "adjacency", "ports": [80]}),),
            "cluster.tenants[0].egress[0].network: adjacency carries no pod packets (exposures are "
            "called at a consume address, never on the adjacency network itself); grant the "
            "exposure by name: {exposure: <name>} [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"network": "management"}),),
            "cluster.tenants[0].egress[0].zone: management is granted by zone only (never the whole "
            "network: it holds the API server, etcd and kubelet) [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"network": "management", "zone": "sso"}),),
            "cluster.tenants[0].egress[0].zone: sso is not a zone of management [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"network": "management", "zone": "reserved"}),),
            "cluster.tenants[0].egress[0].zone: reserved is a reserved zone [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"network": "management", "zone": "k8s-nodes"}),),
            "cluster.tenants[0].egress[0].zone: k8s-nodes holds the cluster nodes ingress-1, "
            "ingress-2, ingress-3, ingress-4, ingress-5, master-1, master-2, master-3, worker-1, "
            "worker-2, worker-3, worker-4, worker-5, worker-6; a tenant is never granted the "
            "nodes' management addresses [cluster-grant]",
        ),
        (
            (("cluster.tenants[1].egress[0].az", "az-7"),),
            "cluster.tenants[1].egress[0].az: az-7 is not one of azs ['az-1', 'az-2', 'az-3'] "
            "[cluster-grant]",
        ),
        (
            (("cluster.storage", "none"),),
            "cluster.tenants[0].egress[1].network: storage is granted but cluster.storage is none: "
            "pods have no way to storage [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"exposure": "vpc-2-web"}),),
            "cluster.tenants[0].egress[0].exposure: vpc-2-web is consumed only in vpc-1, which "
            "pods do not reach: grant an exposure a gateway consumes in a platform network "
            "[cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"exposure": "nothing"}),),
            "cluster.tenants[0].egress[0].exposure: nothing is consumed by no gateway: grant an "
            "exposure a gateway consumes in a platform network [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"exposure": "vpc-2-web", "zone": "sso"}),),
            "cluster.tenants[0].egress[0].zone: an exposure grant takes no zone [cluster-grant]",
        ),
        (
            (("cluster.tenants[0].egress[0]", {"ports": [80]}),),
            "cluster.tenants[0].egress[0].network: a grant names a network or an exposure "
            "[cluster-grant]",
        ),
    ],
)
def test_bad_cluster_input_is_refused_with_its_path_and_value(changes, expected):
    assert expected in cluster_violations("prod", *changes)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("cluster.calico.encapsulation", "Geneve", r"cluster\.calico\.encapsulation: 'Geneve'"),
        ("cluster.calico.block_size", 19, r"cluster\.calico\.block_size: 19"),
        (
            "cluster.pod_cidr",
            "100.96.0.0",
            r"cluster\.pod_cidr: '100\.96\.0\.0' is not an IPv4 prefix",
        ),
        ("cluster.tenants[0].name", "Shop", r"cluster\.tenants\[0\]\.name: 'Shop' is not allowed"),
        (
            "cluster.tenants[0].hostnames",
            ["Shop.example.com"],
            r"cluster\.tenants\[0\]\.hostnames\[0\]: 'Shop\.example\.com'",
        ),
        (
            "cluster.tenants[0].hostnames",
            ["shop.*.com"],
            r"cluster\.tenants\[0\]\.hostnames\[0\]: 'shop\.\*\.com'",
        ),
        ("cluster.ingress_class", "nginx", r"cluster\.ingress_class: renamed to `gateway_class`"),
        ("cluster.colour", "blue", r"cluster\.colour: unknown key"),
        # A static bound is the schema's: a bad port exits 2 like a bad VLAN (issue 12).
        (
            "cluster.tenants[0].egress[1].ports",
            [0],
            r"cluster\.tenants\[0\]\.egress\[1\]\.ports\[0\]: 0: Input should be greater than or equal to 1",
        ),
    ],
)
def test_malformed_cluster_values_are_schema_errors(path, value, message):
    with pytest.raises(ConfigError, match=message):
        parse_stack_config(changed(stack_values("prod"), path, value))


def rendered_listeners() -> list[dict]:
    gateway = plan_cluster(region_plan("prod")).manifest("gateway-az-1").body
    return copy.deepcopy(gateway["spec"]["listeners"])


def test_the_rendered_gateway_admits_each_tenant_on_its_own_listeners_only():
    assert check_route_listeners("gw", rendered_listeners(), "tigera-gateway") == []


@pytest.mark.parametrize(
    "namespaces",
    [
        {"from": "All"},
        {"from": "Same"},
        {},
        {"from": "Selector", "selector": {"matchLabels": {"lanes.io/tenant": "shop"}}},
        {
            "from": "Selector",
            "selector": {
                "matchLabels": {"kubernetes.io/metadata.name": "shop"},
                "matchExpressions": [{"key": "x", "operator": "Exists"}],
            },
        },
    ],
)
def test_a_listener_open_beyond_one_namespace_is_refused(namespaces):
    listeners = rendered_listeners()
    listeners[1]["allowedRoutes"]["namespaces"] = namespaces
    assert [str(v) for v in check_route_listeners("gw", listeners, "tigera-gateway")] == [
        "gw[1].allowedRoutes.namespaces: listener shop-443-wildcard.shop.example.com admits "
        "routes of more than one tenant: it must select one namespace by "
        "kubernetes.io/metadata.name (from: Selector) [gateway-listener-scope]"
    ]


def test_a_listener_serving_another_namespaces_certificate_is_refused():
    listeners = rendered_listeners()
    listeners[1]["tls"]["certificateRefs"][0]["namespace"] = "analytics"
    del listeners[3]["tls"]["certificateRefs"][0]["namespace"]  # the Gateway's own
    assert [str(v) for v in check_route_listeners("gw", listeners, "tigera-gateway")] == [
        "gw[1].tls.certificateRefs[0]: listener shop-443-wildcard.shop.example.com serves "
        "tenant shop with a certificate of namespace analytics [gateway-listener-scope]",
        "gw[3].tls.certificateRefs[0]: listener shop-443-shop.example.com serves tenant shop "
        "with a certificate of namespace tigera-gateway [gateway-listener-scope]",
    ]


def test_a_tenant_granted_an_exposure_may_call_its_consume_addresses_on_platform_networks():
    from tests.gateway.support import plan_of
    from tests.lab.test_exposure_consumers import consume_on_management

    def edit(values):
        consume_on_management(values)
        values["cluster"]["tenants"][0]["egress"].append({"exposure": "vpc-2-web"})

    policy = plan_cluster(plan_of("prod", edit)).manifest("netpol-shop-allow-egress-grants")
    # only vpc-1-nat's management consume: the vpc-1 one is not where pods' packets go
    assert policy.body["spec"]["egress"][-1] == {
        "to": [{"ipBlock": {"cidr": "100.64.0.201/32"}}],
        "ports": [{"protocol": "TCP", "port": 80}],
    }
