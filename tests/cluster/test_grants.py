"""A tenant's grant opens what it names and nothing more (issue 23): an exposure grant the ports
and protocol the exposure is consumed at, a network grant's protocol as written.

The prod stack with vpc-1-nat also consuming vpc-2-web on the management network, at its own
management address 100.64.0.201 (port 80), where the gateway host also answers SSH on 22.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lanes.config import ConfigError, parse_stack_config
from lanes.config.kinds import NETWORK_KINDS
from lanes.render.cluster import plan_cluster
from lanes.render.schema import config_schema
from lanes.rules import check_exposure_egress, checked_plan
from tests.cluster.netpol import Cluster, host, pod
from tests.lab.test_exposure_consumers import consume_on_management
from tests.support.pulumi_run import stack_values

SHOP = pod("shop-a", "100.96.0.10", "shop", app="web")
CONSUME = host("vpc1-nat (management consume)", "100.64.0.201")
STORAGE = host("storage-az-1", "100.66.0.50")


def with_grant(grant: dict[str, Any], udp: bool = False) -> dict[str, Any]:
    values = copy.deepcopy(stack_values("prod"))
    consume_on_management(values)
    if udp:
        for gw in values["gateways"]:
            for entry in gw.get("publish", []) + gw.get("consume", []):
                entry["protocol"] = "udp"
    values["cluster"]["tenants"][0]["egress"].append(grant)
    return values


def violations(values: dict[str, Any]) -> list[str]:
    return [str(v) for v in checked_plan(parse_stack_config(values)).violations]


def rendered(values: dict[str, Any]) -> tuple[list[dict[str, Any]], Cluster]:
    report = checked_plan(parse_stack_config(values))
    assert report.ok and report.plan is not None, [str(v) for v in report.violations]
    objects = [m.body for m in plan_cluster(report.plan).manifests]
    policy = next(
        o
        for o in objects
        if o["metadata"]["name"] == "lanes-allow-egress-grants" and o["metadata"]["namespace"] == "shop"
    )
    return policy["spec"]["egress"], Cluster(objects, {"kube-system": {}})


@pytest.mark.parametrize(
    ("grant", "udp", "expected"),
    [
        (
            {"exposure": "vpc-2-web", "ports": [22]},
            False,
            "cluster.tenants[0].egress[2].ports[0]: 22: vpc-2-web is consumed at 80/TCP at "
            "100.64.0.201 (gateways[2].consume[1]); an exposure grant opens only those (ports 80, "
            "or leave ports out) [grant-exposure]",
        ),
        (
            {"exposure": "vpc-2-web", "ports": [80, 8080]},
            False,
            "cluster.tenants[0].egress[2].ports[1]: 8080: vpc-2-web is consumed at 80/TCP at "
            "100.64.0.201 (gateways[2].consume[1]); an exposure grant opens only those (ports 80, "
            "or leave ports out) [grant-exposure]",
        ),
        (
            {"exposure": "vpc-2-web", "protocol": "UDP"},
            False,
            "cluster.tenants[0].egress[2].protocol: UDP: vpc-2-web is consumed at 80/TCP at "
            "100.64.0.201 (gateways[2].consume[1]); an exposure grant opens only those (protocol "
            "TCP, or leave protocol out) [grant-exposure]",
        ),
        (
            {"exposure": "vpc-2-web", "ports": [80], "protocol": "TCP"},
            True,
            "cluster.tenants[0].egress[2].protocol: TCP: vpc-2-web is consumed at 80/UDP at "
            "100.64.0.201 (gateways[2].consume[1]); an exposure grant opens only those (protocol "
            "UDP, or leave protocol out) [grant-exposure]",
        ),
    ],
)
def test_an_exposure_grant_wider_than_the_exposure_is_refused(grant, udp, expected):
    assert violations(with_grant(grant, udp)) == [expected]


def test_an_exposure_grant_opens_the_consume_address_on_its_port_and_never_ssh():
    for grant in ({"exposure": "vpc-2-web"}, {"exposure": "vpc-2-web", "ports": [80]}):
        egress, cluster = rendered(with_grant(grant))
        assert egress[-1] == {
            "to": [{"ipBlock": {"cidr": "100.64.0.201/32"}}],
            "ports": [{"protocol": "TCP", "port": 80}],
        }
        assert cluster.allows(SHOP, CONSUME, 80, "TCP")
        assert not cluster.allows(SHOP, CONSUME, 22, "TCP")
        assert not cluster.allows(SHOP, CONSUME, 80, "UDP")


def test_an_exposure_consumed_over_udp_is_granted_over_udp_not_tcp():
    # It was rendered as TCP: the grant's protocol defaulted to TCP whatever the exposure was.
    egress, cluster = rendered(with_grant({"exposure": "vpc-2-web", "ports": [80]}, udp=True))
    assert egress[-1]["ports"] == [{"protocol": "UDP", "port": 80}]
    assert cluster.allows(SHOP, CONSUME, 80, "UDP")
    assert not cluster.allows(SHOP, CONSUME, 80, "TCP")


def test_a_network_grant_with_a_protocol_and_no_ports_opens_that_protocol_only():
    values = copy.deepcopy(stack_values("prod"))
    values["cluster"]["tenants"][0]["egress"][1] = {"network": "storage", "protocol": "UDP"}
    egress, cluster = rendered(values)
    assert egress[1] == {
        "to": [{"ipBlock": {"cidr": "100.66.0.0/16"}}],
        "ports": [{"protocol": "UDP"}],
    }
    assert cluster.allows(SHOP, STORAGE, 2049, "UDP")
    assert not cluster.allows(SHOP, STORAGE, 2049, "TCP")


def test_a_grant_without_protocol_keeps_its_meaning():
    # ports without a protocol are TCP; neither ports nor protocol: everything (prod's storage)
    egress, cluster = rendered(copy.deepcopy(stack_values("prod")))
    assert egress[0]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "ports" not in egress[1]
    assert cluster.allows(SHOP, STORAGE, 2049, "UDP") and cluster.allows(SHOP, STORAGE, 3260, "TCP")


def test_the_schema_says_what_the_grant_rule_reads():
    grant = config_schema()["$defs"]["Grant"]["properties"]["network"]
    assert grant["description"] == f"{NETWORK_KINDS.grant_text}."
    assert grant["description"] == (
        "management (by zone) or storage; never traffic or adjacency (an exposure is granted by "
        "name: {exposure: <name>})."
    )
    found = violations(changed_grant({"network": "adjacency"}))
    assert found and all("[cluster-grant]" in v for v in found)


def changed_grant(grant: dict[str, Any]) -> dict[str, Any]:
    values = copy.deepcopy(stack_values("prod"))
    values["cluster"]["tenants"][0]["egress"][0] = grant
    return values


def test_a_protocol_outside_the_networkpolicy_set_is_a_schema_error():
    with pytest.raises(ConfigError, match=r"egress\[0\]\.protocol: 'ICMP'"):
        parse_stack_config(changed_grant({"network": "storage", "protocol": "ICMP"}))


CONSUMED = {"100.64.0.201": [("TCP", 80)]}


def rule(cidr: str, *ports: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"to": [{"ipBlock": {"cidr": cidr}}]}
    return {**found, "ports": list(ports)} if ports else found


@pytest.mark.parametrize(
    ("egress", "said"),
    [
        ([rule("100.64.0.201/32", {"protocol": "TCP", "port": 80})], None),
        ([rule("100.64.0.201/32", {"port": 80.0})], None),  # the engine's float, TCP by default
        ([rule("100.64.0.0/20", {"protocol": "TCP", "port": 22})], None),  # a network grant's
        ([rule("100.64.0.201/32")], "opens every port and protocol at 100.64.0.201"),
        (
            [rule("100.64.0.201/32", {"protocol": "TCP", "port": 22, "endPort": 80})],
            "opens every port/TCP at 100.64.0.201",
        ),
        (
            [rule("100.64.0.201/32", {"protocol": "UDP", "port": 80})],
            "opens 80/UDP at 100.64.0.201",
        ),
        ([rule("100.64.0.201/32", {"protocol": "TCP"})], "opens every port/TCP at 100.64.0.201"),
    ],
)
def test_the_packs_check_of_a_rendered_egress_rule(egress, said):
    found = [str(v) for v in check_exposure_egress("np.spec.egress", egress, CONSUMED)]
    if said is None:
        assert found == []
    else:
        assert found == [
            f"np.spec.egress[0]: {said}, where exposures are consumed on 80/TCP only: a tenant's "
            "egress to a consume address opens nothing else of its gateway [grant-exposure]"
        ]
