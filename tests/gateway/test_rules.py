"""Gateway rules: own addresses, listeners, references, SNAT exemption and order, map conflicts."""

import copy
import dataclasses

from lanes.config import parse_stack_config
from lanes.intents.gateway import SnatStep
from lanes.rules import Violation, check_gateway_model, checked_plan
from tests.gateway.support import models_of, plan_of
from tests.support.pulumi_run import stack_values


def violations(stack, edit, rule):
    values = copy.deepcopy(stack_values(stack))
    edit(values)
    return [
        (v.path, v.message)
        for v in checked_plan(parse_stack_config(values)).violations
        if v.rule == rule
    ]


def gateway(values, name):
    return next(g for g in values["gateways"] if g["name"] == name)


def test_committed_stacks_keep_every_gateway_rule():
    for stack in ("dev", "prod"):
        assert checked_plan(parse_stack_config(stack_values(stack))).ok


def test_egress_to_an_address_the_router_does_not_hold():
    def edit(v):
        gateway(v, "lab-router")["egress"][0]["to"] = "192.168.0.99"

    assert violations("dev", edit, "gateway-address") == [
        (
            "gateways[0].egress[0].to",
            "192.168.0.99 is not an address of router in enterprise "
            "(it holds 192.168.0.51, 192.168.0.52, 192.168.0.53)",
        )
    ]


def test_publish_at_an_adjacency_address_of_another_host():
    def edit(v):
        gateway(v, "vpc-2-nat")["publish"][0]["at"] = "100.127.0.201"

    assert violations("prod", edit, "gateway-address") == [
        (
            "gateways[3].publish[0].at",
            "100.127.0.201 is not an address of vpc2-nat in adjacency (it holds 100.127.0.202)",
        )
    ]


def test_proxy_source_must_be_the_gateways_own_leg():
    def edit(v):
        gateway(v, "sso")["proxies"][0]["source"] = "10.0.0.4"

    found = violations("prod", edit, "gateway-address")
    assert [p for p, _ in found] == ["gateways[1].proxies[0].source"]
    assert found[0][1].startswith("10.0.0.4 is not an address of sso-gw (it holds ")


def test_one_address_and_port_answers_one_intent():
    def edit(v):
        gw = gateway(v, "edge")
        gw["ingress"].append(
            {
                "front": "10.0.1.52",
                "network": "enterprise",
                "node": "ingress-1",
                "balancer": "10.0.1.100",
                "ports": [8443],
            }
        )
        gw["ingress"].append(dict(gw["ingress"][0], node="ingress-2"))

    assert violations("prod", edit, "gateway-listener") == [
        (
            "gateways[0].ingress[3].front",
            "10.0.1.52:8443/tcp is already taken by gateways[0].mappings[0].outside",
        ),
        (
            "gateways[0].ingress[4].front",
            "10.0.1.2:80/tcp is already taken by gateways[0].ingress[0].front",
        ),
        (
            "gateways[0].ingress[4].front",
            "10.0.1.2:443/tcp is already taken by gateways[0].ingress[0].front",
        ),
    ]


def test_a_host_mapped_twice_would_be_refused_by_the_kernel():
    def edit(v):
        gateway(v, "lab-router")["mappings"][1]["host"] = "jump"

    assert violations("dev", edit, "gateway-map-conflict") == [
        (
            "gateways[0].mappings[1]",
            "mapping_snat eth0 . 100.64.0.52 already goes to 192.168.0.52 (gateways[0].mappings[0]); "
            "the kernel would refuse the ruleset",
        )
    ]


def test_references_name_networks_of_the_right_kind_and_one_gateway_per_host():
    def edit(v):
        gateway(v, "lab-router")["mappings"][0]["network"] = "management"
        v["gateways"].append({"name": "second", "host": "router"})

    assert violations("dev", edit, "gateway-ref") == [
        ("gateways[0].mappings[0].network", "management is not an outside network"),
        ("gateways[1].host", "router already runs gateway lab-router"),
    ]


def test_egress_snat_before_a_specific_snat_is_reported():
    model = models_of(plan_of("prod"))["edge"]
    swapped = dataclasses.replace(model, snat=tuple(reversed(model.snat)))
    assert check_gateway_model(swapped) == [
        Violation(
            "gateways[0].egress[0]",
            "gateway-snat-order",
            "egress SNAT of edge comes before its mapping, ingress-reply SNAT",
        )
    ]
    assert check_gateway_model(model) == []


def test_egress_snat_that_would_translate_the_platform_space_is_reported():
    model = models_of(plan_of("dev"))["lab-router"]
    egress = dataclasses.replace(model.egress[0], exempt=None)
    bare = dataclasses.replace(
        model, snat=(SnatStep("mapping", None), SnatStep("egress", None, egress))
    )
    assert [(v.path, v.rule) for v in check_gateway_model(bare)] == [
        ("gateways[0].mapping", "gateway-snat-exempt"),
        ("gateways[0].egress[0]", "gateway-snat-exempt"),
    ]
