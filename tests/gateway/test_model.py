"""The derived gateway model: literal values from the dev and prod stacks, and its errors."""

import dataclasses

import pytest
from netaddr import IPAddress, IPNetwork

from lanes.intents.gateway import (
    PLATFORM_SPACE,
    GatewayError,
    GatewayPaths,
    SnatStep,
    derive_gateway,
    derive_gateways,
    gateway_from_dict,
    nat_maps,
)
from tests.gateway.support import models_of, plan_of


def test_dev_router_snats_the_three_lab_ranges_and_maps_jump_and_lb():
    model = models_of(plan_of("dev"))["lab-router"]
    assert dict(model.interfaces) == {
        "enterprise": "eth0",
        "management": "eth1",
        "traffic": "eth2",
        "storage": "eth3",
    }
    assert model.outside_interfaces == ("eth0",)
    (egress,) = model.egress
    assert egress.interface == "eth0"
    assert egress.sources == (
        IPNetwork("100.64.0.0/21"),
        IPNetwork("100.64.32.0/21"),
        IPNetwork("100.64.64.0/21"),
    )
    assert egress.to == IPAddress("192.168.0.51")
    assert egress.exempt == IPNetwork("100.64.0.0/10")
    assert [(str(m.outside), str(m.inside)) for m in model.mappings] == [
        ("192.168.0.52", "100.64.0.52"),
        ("192.168.0.53", "100.64.0.53"),
    ]
    assert [s.kind for s in model.snat] == ["mapping", "egress"]


def test_prod_edge_routes_front_addresses_to_ingress_nodes_before_egress():
    model = models_of(plan_of("prod"))["edge"]
    assert dict(model.interfaces) == {
        "az-line": "ens3f0",  # edge-1 is az-1's router on the line between the AZs
        "enterprise": "ens2f0.500",
        "management": "eno1.100",
        "storage": "ens1f0.300",
        "traffic": "ens1f0.200",
    }
    routes = {(str(i.front), i.port): (str(i.balancer), str(i.node)) for i in model.ingress}
    assert routes == {
        ("10.0.1.2", 80): ("10.0.1.100", "100.65.0.31"),
        ("10.0.1.2", 443): ("10.0.1.100", "100.65.0.31"),
        ("10.0.1.3", 80): ("10.0.1.100", "100.65.0.32"),
        ("10.0.1.3", 443): ("10.0.1.100", "100.65.0.32"),
        ("10.0.1.4", 80): ("10.0.1.100", "100.65.0.33"),
        ("10.0.1.4", 443): ("10.0.1.100", "100.65.0.33"),
    }
    assert [s.kind for s in model.snat] == ["ingress-reply", "mapping", "egress"]
    # The AZ-1 blocks of every zone: a /20 per zone, never the whole /16.
    assert [str(s) for s in model.egress[0].sources] == [
        "100.64.0.0/20",
        "100.64.64.0/20",
        "100.64.128.0/20",
        "100.65.0.0/20",
        "100.66.0.0/20",
    ]


def test_prod_vpc_nat_devices_publish_and_consume_through_the_adjacency_network():
    models = models_of(plan_of("prod"))
    (consume,) = models["vpc-1-nat"].exposures
    assert consume.to_dict() == {
        "name": "vpc-2-web",
        "role": "consume",
        "listen_interface": "ens1f0.601",
        "listen": "192.168.0.200",
        "protocol": "tcp",
        "port": 80,
        "target": "100.127.0.202",
        "target_port": 80,
        "target_interface": "ens1f0.400",
        "source": "100.127.0.201",
    }
    (publish,) = models["vpc-2-nat"].exposures
    assert publish.to_dict() == {
        "name": "vpc-2-web",
        "role": "publish",
        "listen_interface": "ens1f0.400",
        "listen": "100.127.0.202",
        "protocol": "tcp",
        "port": 80,
        "target": "192.168.0.100",
        "target_port": 80,
        "target_interface": "ens1f0.602",
        "source": "192.168.0.200",
    }
    # Exposure SNAT goes to an adjacency address, inside 100.64.0.0/10 on purpose.
    assert models["vpc-1-nat"].snat == (SnatStep("exposure", None),)


def test_sso_gateway_is_a_proxy_with_a_leg_in_each_network():
    (proxy,) = models_of(plan_of("prod"))["sso"].proxies
    assert proxy.to_dict() == {
        "name": "sso",
        "mode": "stream",
        "listen": "100.64.128.2",
        "port": 443,
        "upstream": "10.0.0.2",
        "upstream_port": 443,
        "source": "10.0.0.3",
    }


def test_maps_hold_one_element_per_intent():
    maps = nat_maps(models_of(plan_of("prod"))["edge"])
    assert {name: len(entries) for name, entries in maps.items()} == {
        "mapping_dnat": 1,
        "mapping_snat": 1,
        "ingress_dnat": 6,
        "ingress_snat": 6,
        "exposure_dnat": 0,
        "exposure_snat": 0,
    }


def test_only_the_stacks_az_gets_gateways():
    def other_az(values):
        values["azs"] = ["az-1", "az-2", "az-3"]
        for name in ("management", "traffic", "storage", "adjacency"):
            net = values["networks"][name]
            net["block_prefix"] = 23
            net.pop("blocks", None)
        values["az"] = "az-2"

    assert derive_gateways(plan_of("dev", other_az)) == []


def test_model_is_plain_data_for_the_component_props():
    data = models_of(plan_of("prod"))["edge"].to_dict()
    assert data["snat"][0] == {"kind": "ingress-reply", "exempt": None}
    assert data["snat"][-1]["exempt"] == str(PLATFORM_SPACE)
    assert data["interfaces"]["enterprise"] == "ens2f0.500"


def test_a_dangling_reference_names_its_path():
    plan = plan_of("prod")
    broken = (plan.gateways[0].model_copy(update={"host": "ghost"}),)
    with pytest.raises(GatewayError, match=r"^gateways\[0\]\.host: ghost is not a host$"):
        derive_gateway(dataclasses.replace(plan, gateways=broken), 0)


def test_paths_follow_the_root():
    paths = GatewayPaths("/run/lab/gw")
    assert paths.ruleset == "/run/lab/gw/etc/lanes/gateway/lanes.nft"
    assert paths.nginx_pid == "/run/lab/gw/var/lib/lanes/gateway/nginx/nginx.pid"
    assert GatewayPaths().ruleset == "/etc/lanes/gateway/lanes.nft"
    assert GatewayPaths().sysctl_conf == "/etc/sysctl.d/61-lanes-gateway.conf"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_to_dict_and_from_dict_are_inverse(stack):
    """The policy pack rebuilds gateways from their props with gateway_from_dict."""
    for model in derive_gateways(plan_of(stack)):
        assert gateway_from_dict(model.to_dict(), model.path) == model
