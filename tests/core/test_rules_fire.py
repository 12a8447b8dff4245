"""Every rule can be seen to fire: each case breaks one thing and asserts the rule id, the
config path and the message (issue 13). Rules a config can break are broken in a stack;
rules only a plan rebuilt from resource props can break are called on such a plan.

Together with the other tests, every id of lanes.rules.catalog is named somewhere; the
catalogue test fails when one is not.
"""

from __future__ import annotations

import dataclasses

import pytest
from netaddr import IPAddress, IPNetwork

from lanes.config import parse_stack_config
from lanes.model.plan import plan_region
from lanes.rules import (
    check_host_blocks,
    check_network_layout,
    checked_plan,
)
from tests.support.mutate import DELETE, changed
from tests.support.pulumi_run import stack_values


def violations(stack: str, *changes: tuple[str, object]) -> list[str]:
    values = stack_values(stack)
    for path, value in changes:
        values = changed(values, path, value)
    return [str(v) for v in checked_plan(parse_stack_config(values)).violations]


CASES = [
    (
        "az-list: an AZ listed twice",
        "prod",
        [("azs[2]", "az-1")],
        "azs[2]: az-1 is listed twice [az-list]",
    ),
    (
        "az-list: the stack's AZ is not one of the region's",
        "dev",
        [("az", "az-9")],
        "az: az-9 is not one of azs ['az-1'] [az-list]",
    ),
    (
        "plan-layout: fewer blocks than AZs",
        "prod",
        [("networks.traffic.block_prefix", 17), ("networks.traffic.blocks", {})],
        "networks.traffic: 100.65.0.0/16 holds 2 blocks of /17, fewer than the 3 AZs [plan-layout]",
    ),
    (
        "plan-layout: zones that do not fit",
        "prod",
        [("networks.management.zone_prefix", 17)],
        "networks.management.zones: 4 zones of /17 do not fit in 100.64.0.0/16 [plan-layout]",
    ),
    (
        "plan-layout: a block larger than its network",
        "dev",
        [("networks.storage.block_prefix", 20), ("networks.storage.blocks", {})],
        "networks.storage: block_prefix /20 is larger than 100.64.64.0/21 [plan-layout]",
    ),
    (
        "zone-order: a written-out zone that is another zone's",
        "prod",
        [("networks.management.zones[1].cidr", "100.64.128.0/18")],
        "networks.management.zones[1].cidr: 100.64.128.0/18 is not zone 2 of /18 in "
        "100.64.0.0/16; the plan gives 100.64.64.0/18 [zone-order]",
    ),
    (
        "zone-outside-parent: a written-out zone outside its network",
        "prod",
        [("networks.management.zones[1].cidr", "100.70.0.0/18")],
        "networks.management.zones[1].cidr: 100.70.0.0/18 is not zone 2 of /18 in "
        "100.64.0.0/16; the plan gives 100.64.64.0/18 [zone-outside-parent]",
    ),
    (
        "host-unique: two hosts of one name",
        "dev",
        [("hosts[4].name", "master-1")],
        "hosts[4].name: master-1 is also hosts[3] [host-unique]",
    ),
    (
        "host-az: a host in an AZ the region does not have",
        "dev",
        [("hosts[4].az", "az-2")],
        "hosts[4].az: az-2 is not one of azs ['az-1'] [host-az]",
    ),
    (
        "host-zone: an unknown zone (and no kubelet line that only follows from it)",
        "prod",
        [("hosts[5].zones", ["cloud"])],
        "hosts[5].zones[0]: cloud is not a management zone [host-zone]",
    ),
    (
        "host-network: a NIC carrying a network that does not exist",
        "dev",
        [("hosts[4].nics[2].networks", ["backup"])],
        "hosts[4].nics[2].networks[0]: backup is not a network [host-network]",
    ),
    (
        "host-network: an outside address without a NIC on that network",
        "dev",
        [("hosts[4].outside", {"enterprise": ["192.168.0.60"]})],
        "hosts[4].outside.enterprise: no NIC of worker-1 carries enterprise [host-network]",
    ),
    (
        "nic-layout: one network on two NICs",
        "dev",
        [("hosts[4].nics[2].networks", ["traffic"])],
        "hosts[4].nics[2].networks[0]: worker-1 eth2: traffic is already carried by eth1 "
        "[nic-layout]",
    ),
    (
        "nic-layout: an untagged NIC with two networks",
        "dev",
        [("hosts[4].nics[1].networks", ["traffic", "storage"]), ("hosts[4].nics[2]", DELETE)],
        "hosts[4].nics[1].networks: worker-1 eth1 is untagged but carries 2 networks [nic-layout]",
    ),
    (
        "nic-device-clash: a NIC named like the VLAN device another NIC makes",
        "prod",
        [
            (
                "hosts[5].nics",
                [
                    {"name": "eno1", "networks": ["management"]},
                    {"name": "ens1f0", "networks": ["traffic", "storage"]},
                    {"name": "ens1f0.200", "networks": ["adjacency"], "tagged": False},
                ],
            )
        ],
        "hosts[5].nics[2]: worker-1: NIC ens1f0.200 makes device ens1f0.200, which traffic on "
        "ens1f0 makes too: two lanes would share one device [nic-device-clash]",
    ),
    (
        "nic-mac-unique: one MAC on two hosts",
        "prod",
        [
            ("hosts[5].nics[0].macaddress", "52:54:00:00:00:01"),
            ("hosts[6].nics[0].macaddress", "52:54:00:00:00:01"),
        ],
        "hosts[6].nics[0].macaddress: worker-2 eno1: 52:54:00:00:00:01 is already the MAC of "
        "worker-1 eno1 [nic-mac-unique]",
    ),
    (
        "bond-members: a primary that is not a member",
        "prod",
        [("hosts[5].nics[1].bond.primary", "ens3f0")],
        "hosts[5].nics[1].bond.primary: worker-1 bond0: primary ens3f0 is not a member "
        "[bond-members]",
    ),
    (
        "gateway-ref: a gateway on a host that does not exist",
        "dev",
        [("gateways[0].host", "nobody")],
        "gateways[0].host: nobody is not a host [gateway-ref]",
    ),
    (
        "gateway-ref: a gateway on a host that is not a gateway",
        "dev",
        [("gateways[0].host", "jump")],
        "gateways[0].host: jump has role service, not gateway [gateway-ref]",
    ),
    (
        "gateway-ref: a consume from a network the gateway has no NIC on",
        "prod",
        [("gateways[2].consume[0].network", "storage")],
        "gateways[2].consume[0].network: no NIC of vpc1-nat carries storage [gateway-ref]",
    ),
    (
        "gateway-intent: a 1:1 mapping on the egress SNAT address",
        "dev",
        [("gateways[0].mappings[0].outside", "192.168.0.51")],
        "gateways[0].mappings[0].outside: 192.168.0.51 is the SNAT address of "
        "gateways[0].egress[0].to: a 1:1 mapping there would take every connection made to it "
        "[gateway-intent]",
    ),
    (
        "gateway-intent: an ingress balancer that is its own front",
        "prod",
        [("gateways[0].ingress[0].balancer", "10.0.1.2")],
        "gateways[0].ingress[0].balancer: 10.0.1.2 is the route's own front address: the "
        "balancer is the client sending to the front, never the front itself [gateway-intent]",
    ),
    (
        "gateway-intent: a consume whose target is its own listener",
        "prod",
        [("gateways[2].consume[0].target", "192.168.0.200")],
        "gateways[2].consume[0].target: 192.168.0.200 is vpc-1-nat's own address: the consume "
        "would call itself [gateway-intent]",
    ),
    (
        "gateway-intent: a consume whose target nobody publishes",
        "prod",
        [("gateways[2].consume[0].target", "100.127.0.99")],
        "gateways[2].consume[0].target: no gateway publishes 100.127.0.99:80/tcp (a publish's "
        "`at`) [gateway-intent]",
    ),
    (
        "gateway-intent: a consume whose target is outside the adjacency network",
        "prod",
        [("gateways[2].consume[0].target", "192.168.0.100")],
        "gateways[2].consume[0].target: 192.168.0.100 is outside the adjacency network "
        "100.127.0.0/16 [gateway-intent]",
    ),
    (
        "gateway-ref: an ingress route to a host that does not exist",
        "prod",
        [("gateways[0].ingress[0].node", "ingress-9")],
        "gateways[0].ingress[0].node: ingress-9 is not a host [gateway-ref]",
    ),
    # the line between the AZ routers
    (
        "line-space: the line outside the platform space",
        "prod",
        [("line.cidr", "10.99.0.0/29")],
        "line.cidr: 10.99.0.0/29 is outside 100.64.0.0/10: the gateways would translate it "
        "[line-space]",
    ),
    (
        "line-space: the line on top of a network",
        "prod",
        [("line.cidr", "100.66.0.0/29")],
        "line.cidr: 100.66.0.0/29 overlaps network storage 100.66.0.0/16 [line-space]",
    ),
    (
        "line-space: the line inside the pod range",
        "prod",
        [("line.cidr", "100.96.0.0/29")],
        "line.cidr: 100.96.0.0/29 overlaps cluster.pod_cidr 100.96.0.0/12 [line-space]",
    ),
    (
        "line-name: the line named like a network",
        "prod",
        [("line.name", "enterprise")],
        "line.name: enterprise is already the name of a network [line-name]",
    ),
    (
        "vlan-distinct: the line on management's VLAN (a trunk would join them)",
        "prod",
        [("line.vlan", 100)],
        "line.vlan: 100 is already the VLAN of management [vlan-distinct]",
    ),
    (
        "line-size: fewer router addresses than AZs",
        "prod",
        [("line.cidr", "100.67.0.0/31")],
        "line.cidr: 100.67.0.0/31 holds 2 router address(es), the region has 3 AZs [line-size]",
    ),
    (
        "line-router: a worker carrying the line",
        "prod",
        [("hosts[16].nics[3]", {"name": "ens9f0", "networks": ["az-line"]})],
        "hosts[16].nics: worker-5 carries az-line but is not its AZ's router (a gateway holding "
        "az-2's traffic gateway address) [line-router]",
    ),
    (
        "line-router: a service gateway (not the router) carrying the line",
        "prod",
        [("hosts[1].nics[2]", {"name": "ens9f0", "networks": ["az-line"]})],
        "hosts[1].nics: sso-gw carries az-line but is not its AZ's router (a gateway holding "
        "az-1's traffic gateway address) [line-router]",
    ),
    (
        "line-missing: hosts in three AZs, no line",
        "prod",
        [
            ("line", DELETE),
            ("hosts[0].nics[3]", DELETE),
            ("hosts[15].nics[3]", DELETE),
            ("hosts[18].nics[3]", DELETE),
        ],
        "line: hosts sit in az-1, az-2, az-3 but the region has no line between its AZ routers: "
        "cross-AZ traffic has no way [line-missing]",
    ),
    (
        "line-missing: an AZ whose router does not carry the line",
        "prod",
        [("hosts[18].nics[3]", DELETE)],
        "line: az-3 has hosts but no router carrying az-line: its hosts cannot reach the other "
        "AZs [line-missing]",
    ),
]


@pytest.mark.parametrize(("what", "stack", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_rule_fires_with_its_id_path_and_message(what, stack, changes, expected):
    found = violations(stack, *changes)
    assert expected in found, found
    if what.startswith("host-zone"):
        assert not [v for v in found if "[kubelet-node-ip]" in v], found


@pytest.mark.parametrize("vlan", [1, 4094])
def test_the_vlan_bounds_themselves_are_accepted(vlan):
    assert violations("dev", ("networks.adjacency.vlan", vlan)) == []


def prod_plan():
    return plan_region(parse_stack_config(stack_values("prod")))


def test_zone_outside_parent_and_zone_overlap_on_a_rebuilt_plan():
    # What a component could register and a config never produces: checked the same way.
    net = prod_plan().network("management")
    moved = dataclasses.replace(net.zones[1], cidr=IPNetwork("100.70.0.0/18"))
    overlapping = dataclasses.replace(net.zones[2], cidr=IPNetwork("100.64.0.0/18"))
    found = [
        str(v)
        for v in check_network_layout(
            dataclasses.replace(net, zones=(net.zones[0], moved, overlapping, net.zones[3])),
            ("az-1", "az-2", "az-3"),
        )
    ]
    assert (
        "networks.management.zones[1]: 100.70.0.0/18 is outside 100.64.0.0/16 "
        "[zone-outside-parent]" in found
    )
    assert "networks.management.zones[2]: overlaps networks.management.zones[0] [zone-overlap]" in (
        found
    )
    # the moved zone's blocks stayed where they were: each is named outside its zone
    assert {
        f"networks.management.zones[1].blocks.{az}: {block} is outside 100.70.0.0/18 "
        "[block-outside-parent]"
        for az, block in zip(
            ("az-1", "az-2", "az-3"), ("100.64.64.0/20", "100.64.80.0/20", "100.64.96.0/20"),
            strict=True,
        )
    } <= set(found)


def test_block_gateway_and_block_overlap_on_a_rebuilt_plan():
    net = prod_plan().network("traffic")
    zone = net.zones[0]
    first, second, third = zone.blocks
    wrong_gateway = dataclasses.replace(first, gateway=IPAddress("100.65.0.9"))
    on_top = dataclasses.replace(second, cidr=first.cidr)
    broken = dataclasses.replace(zone, blocks=(wrong_gateway, on_top, third))
    found = [
        str(v)
        for v in check_network_layout(
            dataclasses.replace(net, zones=(broken,)), ("az-1", "az-2", "az-3")
        )
    ]
    assert (
        "networks.traffic.blocks.az-1: gateway 100.65.0.9 is not the first address of "
        "100.65.0.0/20 [block-gateway]" in found
    )
    assert (
        "networks.traffic.blocks.az-2: overlaps networks.traffic.blocks.az-1 [block-overlap]"
        in (found)
    )


def test_host_az_block_on_a_rebuilt_plan():
    plan = prod_plan()
    host = plan.host("worker-1")
    entry = host.address("traffic")
    elsewhere = dataclasses.replace(entry, block=IPNetwork("100.65.16.0/20"))
    moved = dataclasses.replace(
        host, addresses=tuple(elsewhere if a is entry else a for a in host.addresses)
    )
    found = [str(v) for v in check_host_blocks(moved, plan.networks)]
    assert found == [
        f"{host.path}.az: worker-1 {entry.address} is placed in 100.65.16.0/20, but traffic has "
        "its az-1 block 100.65.0.0/20 [host-az-block]"
    ]
