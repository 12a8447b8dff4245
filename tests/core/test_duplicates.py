"""A list lanes reads as a set never drops a repeated entry silently: it is refused, naming both
places (issue 23). Each case repeats one entry of a committed stack and expects that one line."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lanes.config import parse_stack_config
from lanes.rules import checked_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import stack_values

Values = dict[str, Any]


def violations(values: Values) -> list[str]:
    return [str(v) for v in checked_plan(parse_stack_config(values)).violations]


def appended(path: str, *entries: Any) -> Any:
    def change(values: Values) -> Values:
        node: Any = values
        for step in path.replace("]", "").replace("[", ".").split("."):
            node = node[int(step)] if step.isdigit() else node[step]
        return changed(values, path, [*node, *entries])

    return change


def second_egress(values: Values) -> Values:
    egress = values["gateways"][0]["egress"]
    entry = {"networks": ["storage"], "outside": "enterprise", "to": "10.0.1.3"}
    return changed(values, "gateways[0].egress", [*egress, entry])


def outside_twice(values: Values) -> Values:
    again = {**values["outside"][1], "vlan": 777}
    return changed(values, "outside", [*values["outside"], again])


CASES = [
    (
        "egress-network-twice-in-one-entry",
        appended("gateways[0].egress[0].networks", "management"),
        "gateways[0].egress[0].networks[3]: management is also gateways[0].egress[0].networks[0]: "
        "a gateway SNATs a network toward an outside network once (a second SNAT of it would "
        "never match) [duplicate-entry]",
    ),
    (
        "egress-network-in-two-entries",
        second_egress,
        "gateways[0].egress[1].networks[0]: storage is also gateways[0].egress[0].networks[2]: "
        "a gateway SNATs a network toward an outside network once (a second SNAT of it would "
        "never match) [duplicate-entry]",
    ),
    (
        "hostname-twice",
        appended("cluster.tenants[0].hostnames", "shop.example.com"),
        "cluster.tenants[0].hostnames[2]: shop.example.com is also "
        "cluster.tenants[0].hostnames[0]: a tenant claims a hostname once (each is one listener "
        "per port) [duplicate-entry]",
    ),
    (
        "grant-twice",
        appended("cluster.tenants[1].egress", {"az": "az-1", "network": "storage"}),
        "cluster.tenants[1].egress[1]: this grant is also cluster.tenants[1].egress[0]: a tenant "
        "lists a grant once [duplicate-entry]",
    ),
    (
        "grant-port-twice",
        appended("cluster.tenants[0].egress[0].ports", 443),
        "cluster.tenants[0].egress[0].ports[1]: 443 is also cluster.tenants[0].egress[0].ports[0]: "
        "a grant lists a port once [duplicate-entry]",
    ),
    (
        "ingress-port-twice",
        lambda values: changed(values, "gateways[0].ingress[0].ports", [80, 443, 80]),
        "gateways[0].ingress[0].ports[2]: 80 is also gateways[0].ingress[0].ports[0]: an ingress "
        "route lists a port once [duplicate-entry]",
    ),
    (
        "host-zone-twice",
        appended("hosts[0].zones", "k8s-nodes"),
        "hosts[0].zones[3]: k8s-nodes is also hosts[0].zones[1]: a host sits in a zone once "
        "[duplicate-entry]",
    ),
    (
        "host-outside-address-twice",
        appended("hosts[0].outside.enterprise", "10.0.1.2"),
        "hosts[0].outside.enterprise[5]: 10.0.1.2 is also hosts[0].outside.enterprise[1]: a host "
        "holds an address once [duplicate-entry]",
    ),
    (
        "outside-name-twice",
        outside_twice,
        "outside[3].name: vpc-1 is also outside[1].name: outside networks are named once (NICs, "
        "hosts and gateways name them) [duplicate-entry]",
    ),
    (
        "publish-name-twice",
        appended(
            "gateways[3].publish",
            {
                "name": "vpc-2-web",
                "network": "vpc-2",
                "address": "192.168.0.101",
                "port": 81,
                "at": "100.127.0.202",
            },
        ),
        "gateways[3].publish[1].name: vpc-2-web is also gateways[3].publish[0].name: an exposure "
        "is published once (consumes and tenant grants name it) [duplicate-entry]",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_repeated_entry_is_refused_naming_both_places(change, expected):
    assert violations(change(copy.deepcopy(stack_values("prod")))) == [expected]


def test_each_list_is_whole_in_the_committed_stacks():
    for stack in ("dev", "prod"):
        assert violations(stack_values(stack)) == []
