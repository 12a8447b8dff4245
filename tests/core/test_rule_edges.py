"""Each rule at its edge (issue 29): the last value it accepts and the first it refuses, and
violations no other test produces. Every case is a committed stack changed at config paths and
judged as the plan command judges it; each asserts the line a user reads (path, message, rule
id) or the plan they see.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from netaddr import IPAddress, IPNetwork

from lanes.config import ConfigError
from lanes.rules import check_pools_disjoint
from tests.support.mutate import DELETE
from tests.support.policy_run import run_policies
from tests.support.verdicts import (
    checked_apart,
    netplan_of,
    pack_violations,
    plan_of,
    report,
    values_of,
    violations,
)


def bare_management_zones() -> list[dict[str, Any]]:
    """prod's management zones without the CIDRs and blocks written out for reviewers."""
    zones = values_of("prod")["networks"]["management"]["zones"]
    return [{k: z[k] for k in ("name", "reserved") if k in z} for z in zones]


# --- NICs ---------------------------------------------------------------------------------


def test_a_nic_name_used_twice_on_one_host():
    assert violations("dev", ("hosts[4].nics[2].name", "eth1")) == [
        "hosts[4].nics[2]: worker-1 eth1: eth1 is already used by eth1 [nic-layout]"
    ]


def test_a_bond_member_that_is_also_a_nic_of_the_host():
    found = violations("prod", ("hosts[5].nics[2].bond.members[1]", "eno1"))
    assert found == [
        "hosts[5].nics[2]: worker-1 bond1: eno1 is already used by eno1 [nic-layout]"
    ], found


@pytest.mark.parametrize(
    ("stack", "nic", "network", "mtu"),
    [("dev", "hosts[4].nics[2]", "storage", 1500), ("prod", "hosts[5].nics[1]", "traffic", 9000)],
)
def test_a_nic_mtu_equal_to_its_networks_passes_one_below_is_refused(stack, nic, network, mtu):
    assert violations(stack, (f"{nic}.mtu", mtu)) == []
    (found,) = violations(stack, (f"{nic}.mtu", mtu - 1))
    assert found.startswith(f"{nic}.mtu: worker-1 ")
    assert found.endswith(f": mtu {mtu - 1} is below {network}'s mtu {mtu} [nic-mtu]")


def test_a_vlan_interface_name_of_fifteen_characters_fits_sixteen_do_not():
    # worker-4 carries traffic (VLAN 200) and storage (VLAN 300) on one tagged NIC
    assert violations("prod", ("hosts[8].nics[1].name", "enp129s0f0n")) == []
    assert violations("prod", ("hosts[8].nics[1].name", "enp129s0f0np")) == [
        f"hosts[8].nics[1].name: worker-4 enp129s0f0np: VLAN interface enp129s0f0np.{vlan} is "
        "longer than 15 characters [nic-layout]"
        for vlan in (200, 300)
    ]


# --- outside addresses --------------------------------------------------------------------


def test_a_host_address_outside_its_outside_network():
    found = violations(
        "dev", ("hosts[0].outside.enterprise", ["192.168.0.51", "192.168.0.52", "192.168.1.53"])
    )
    assert found == [
        "gateways[0].mappings[1].outside: 192.168.0.53 is not an address of router in enterprise "
        "(it holds 192.168.0.51, 192.168.0.52, 192.168.1.53) [gateway-address]",
        "hosts[0].outside.enterprise: 192.168.1.53 is outside enterprise 192.168.0.0/24 "
        "[host-in-block]",
    ]


def test_an_outside_address_in_a_network_that_is_not_an_outside_one():
    assert violations("dev", ("hosts[0].outside.vpc-9", ["10.0.0.1"])) == [
        "hosts[0].outside.vpc-9: vpc-9 is not an outside network [host-network]"
    ]


def test_a_host_carrying_an_outside_network_without_an_address_in_it():
    found = violations("dev", ("hosts[0].outside", {}))
    assert "hosts[0].outside: router carries enterprise but has no address in it [host-network]" in (
        found
    ), found


# --- gateways -----------------------------------------------------------------------------


def test_an_ingress_route_with_no_port_is_a_config_error():
    with pytest.raises(ConfigError, match=r"gateways\[0\]\.ingress\[0\]\.ports: .*at least 1 item"):
        report("prod", ("gateways[0].ingress[0].ports", []))


@pytest.mark.parametrize("port", [0, 65536])
def test_an_ingress_port_outside_1_to_65535_is_a_config_error(port):
    with pytest.raises(ConfigError, match=r"gateways\[0\]\.ingress\[0\]\.ports\[0\]: "):
        report("prod", ("gateways[0].ingress[0].ports", [port]))


def test_networks_ending_together_are_each_named_against_the_widest():
    # management 100.64.0.0/21, traffic and storage inside it, all three ending at 100.64.7.255
    found = violations(
        "dev",
        ("networks.traffic.cidr", "100.64.4.0/22"),
        ("networks.traffic.block_prefix", 22),
        ("networks.traffic.blocks", {}),
        ("networks.storage.cidr", "100.64.6.0/23"),
        ("networks.storage.block_prefix", 23),
        ("networks.storage.blocks", {}),
    )
    assert [v for v in found if v.endswith("[network-overlap]")] == [
        "networks.storage.cidr: 100.64.6.0/23 overlaps networks.management (100.64.0.0/21) "
        "[network-overlap]",
        "networks.traffic.cidr: 100.64.4.0/22 overlaps networks.management (100.64.0.0/21) "
        "[network-overlap]",
    ]


def test_a_gateway_host_in_no_known_zone_is_planned_in_the_first_one():
    # The zone is the fault; the host still gets an address (the first zone's), so what its
    # gateway claims elsewhere is judged against a complete plan.
    assert violations("prod", ("hosts[1].zones", ["cloud"])) == [
        "gateways[1].proxies[0].listen: 100.64.128.2 is not an address of sso-gw (it holds "
        "100.64.0.2, 10.0.0.3) [gateway-address]",
        "hosts[1].zones[0]: cloud is not a management zone [host-zone]",
    ]


def test_a_gateway_name_listed_twice():
    assert violations("dev", ("gateways[1]", {"name": "lab-router", "host": "router"})) == [
        "gateways[1].host: router already runs gateway lab-router [gateway-ref]",
        "gateways[1].name: lab-router is listed twice [gateway-ref]",
    ]


# --- management zones ---------------------------------------------------------------------

ZONE_ORDER = "cloud-management, k8s-nodes, enterprise-mapping, reserved"


def test_management_zones_in_another_order():
    zones = bare_management_zones()
    zones[0], zones[1] = zones[1], zones[0]
    assert violations("prod", ("networks.management.zones", zones)) == [
        "networks.management.zones: zones are k8s-nodes, cloud-management, enterprise-mapping, "
        f"reserved; a zoned management network has four zones, in this order: {ZONE_ORDER} "
        "[management-zones]"
    ]


def test_management_with_three_zones():
    assert violations("prod", ("networks.management.zones", bare_management_zones()[:3])) == [
        "networks.management.zones: zones are cloud-management, k8s-nodes, enterprise-mapping; "
        f"a zoned management network has four zones, in this order: {ZONE_ORDER} "
        "[management-zones]"
    ]


def test_the_reserved_management_zone_must_be_reserved_and_no_other():
    assert violations("prod", ("networks.management.zones[3].reserved", False)) == [
        "networks.management.zones[3].reserved: zone reserved must be reserved [management-zones]"
    ]
    found = violations("prod", ("networks.management.zones[2].reserved", True))
    assert (
        "networks.management.zones[2].reserved: zone enterprise-mapping must not be reserved "
        "[management-zones]"
    ) in found, found


def test_management_zones_that_are_not_quarters_of_the_network():
    found = violations(
        "prod",
        ("networks.management.zones", bare_management_zones()),
        ("networks.management.zone_prefix", 19),
        ("networks.management.block_prefix", 21),
    )
    wrong = [v for v in found if v.endswith("[management-zones]")]
    assert wrong == [
        f"networks.management.zones[{i}].cidr: zone {name} {cidr} is not a quarter (/18) of "
        "100.64.0.0/16 [management-zones]"
        for i, (name, cidr) in enumerate(
            [
                ("cloud-management", "100.64.0.0/19"),
                ("k8s-nodes", "100.64.32.0/19"),
                ("enterprise-mapping", "100.64.64.0/19"),
                ("reserved", "100.64.96.0/19"),
            ]
        )
    ], found


# --- cluster pools ------------------------------------------------------------------------


def test_one_pool_as_wide_as_the_pod_range_serves_one_az():
    assert violations("dev", ("cluster.pool_prefix", 12)) == []
    assert violations("dev", ("cluster.pool_prefix", 11)) == [
        "cluster.pool_prefix: /11 pools: 100.96.0.0/12 holds 0, fewer than the 1 AZs "
        "[cluster-pools]"
    ]


def test_pools_fewer_than_the_azs():
    assert violations("prod", ("cluster.pool_prefix", 13)) == [
        "cluster.pool_prefix: /13 pools: 100.96.0.0/12 holds 2, fewer than the 3 AZs "
        "[cluster-pools]"
    ]
    assert violations("prod", ("cluster.pool_prefix", 14)) == []


def test_calico_blocks_as_large_as_the_pools_fit_larger_ones_do_not():
    assert violations("prod", ("cluster.calico.block_size", 21), ("cluster.pool_prefix", 21)) == []
    assert violations(
        "prod", ("cluster.calico.block_size", 20), ("cluster.pool_prefix", 21)
    ) == ["cluster.calico.block_size: /20 blocks do not fit in /21 pools [cluster-pools]"]


# --- the line -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "addresses"),
    [
        ("100.67.0.0/29", ["100.67.0.1", "100.67.0.2", "100.67.0.3"]),
        ("100.67.0.0/30", ["100.67.0.1", "100.67.0.2"]),
        ("100.67.0.0/31", ["100.67.0.0", "100.67.0.1"]),
        ("100.67.0.0/32", ["100.67.0.0"]),
    ],
)
def test_the_line_gives_each_az_router_an_address_while_it_has_one(cidr, addresses):
    result = report("prod", ("line.cidr", cidr))
    assert result.plan.line.to_dict()["addresses"] == dict(
        zip(["az-1", "az-2", "az-3"], addresses, strict=False)
    )
    short = [str(v) for v in result.violations if v.rule == "line-size"]
    if len(addresses) == 3:
        assert short == []
    else:
        assert short == [
            f"line.cidr: {cidr} holds {len(addresses)} router address(es), the region has 3 AZs "
            "[line-size]"
        ]


@pytest.mark.parametrize(
    ("cidr", "overlaps"),
    [
        ("100.95.255.255/32", False),  # the address before the pod range
        ("100.96.0.0/32", True),  # its first address
        ("100.111.255.255/32", True),  # its last address
        ("100.112.0.0/32", False),  # the address after it
    ],
)
def test_the_line_on_the_first_or_last_address_of_a_range_overlaps_it(cidr, overlaps):
    space = [v for v in violations("prod", ("line.cidr", cidr)) if v.endswith("[line-space]")]
    expected = f"line.cidr: {cidr} overlaps cluster.pod_cidr 100.96.0.0/12 [line-space]"
    assert space == ([expected] if overlaps else [])


def test_hosts_in_two_azs_need_the_line():
    values = values_of("prod")
    hosts = [h for h in values["hosts"] if h["az"] != "az-3"]
    for host in hosts:
        host["nics"] = [n for n in host["nics"] if n["networks"] != ["az-line"]]
    gateways = [g for g in values["gateways"] if g["host"] != "edge-3"]
    assert violations("prod", ("hosts", hosts), ("gateways", gateways), ("line", DELETE)) == [
        "line: hosts sit in az-1, az-2 but the region has no line between its AZ routers: "
        "cross-AZ traffic has no way [line-missing]"
    ]


# --- CIDRs written out for reviewers (pins) -----------------------------------------------

PINS = [
    (
        "reserved blocks that leave part of the network out",
        [("networks.traffic.reserved_blocks", ["100.65.48.0/20", "100.65.64.0/18"])],
        "networks.traffic.reserved_blocks: 100.65.48.0/20, 100.65.64.0/18 is not what is left "
        "after the AZ blocks: 100.65.48.0/20, 100.65.64.0/18, 100.65.128.0/17 [block-order]",
    ),
    (
        "a reserved block outside its network",
        [("networks.traffic.reserved_blocks[2]", "100.99.128.0/17")],
        "networks.traffic.reserved_blocks[2]: 100.99.128.0/17 is outside its parent "
        "100.65.0.0/16 [block-outside-parent]",
    ),
    (
        "a zone's reserved block of the wrong size",
        [("networks.management.zones[1].reserved_blocks", ["100.64.112.0/21"])],
        "networks.management.zones[1].reserved_blocks: 100.64.112.0/21 is not what is left after "
        "the AZ blocks: 100.64.112.0/20 [block-order]",
    ),
    (
        "an AZ block pinned to another AZ's",
        [("networks.traffic.blocks.az-2", "100.65.32.0/20")],
        "networks.traffic.blocks.az-2: 100.65.32.0/20 is not the az-2 block; the plan gives "
        "100.65.16.0/20 [block-order]",
    ),
    (
        "an AZ block pinned outside its network",
        [("networks.traffic.blocks.az-2", "100.75.32.0/20")],
        "networks.traffic.blocks.az-2: 100.75.32.0/20 is outside its parent 100.65.0.0/16 "
        "[block-outside-parent]",
    ),
    (
        "a block pinned for an AZ the region does not have",
        [("networks.traffic.blocks.az-9", "100.65.32.0/20")],
        "networks.traffic.blocks.az-9: az-9 gets no block here [block-order]",
    ),
    (
        "a zone's AZ block pinned to the next block",
        [("networks.management.zones[0].blocks.az-1", "100.64.16.0/20")],
        "networks.management.zones[0].blocks.az-1: 100.64.16.0/20 is not the az-1 block; the "
        "plan gives 100.64.0.0/20 [block-order]",
    ),
]


@pytest.mark.parametrize(("what", "changes", "expected"), PINS, ids=[p[0] for p in PINS])
def test_a_pin_that_is_not_the_plans_names_itself(what, changes, expected):
    assert violations("prod", *changes) == [expected]


def test_the_first_reserved_block_outside_its_network_is_named_once():
    assert violations(
        "prod",
        ("networks.traffic.reserved_blocks[0]", "100.99.0.0/20"),
        ("networks.traffic.reserved_blocks[2]", "100.99.128.0/17"),
    ) == [
        "networks.traffic.reserved_blocks[0]: 100.99.0.0/20 is outside its parent 100.65.0.0/16 "
        "[block-outside-parent]"
    ]


# --- plans as the pack rebuilds them from resource props ----------------------------------


def with_address(plan: Any, host: str, network: str, address: str) -> Any:
    """``plan`` with ``host``'s address in ``network`` moved to ``address`` (a component that
    registers a wrong one)."""
    old = plan.host(host)
    addresses = tuple(
        dataclasses.replace(a, address=IPAddress(address)) if a.network == network else a
        for a in old.addresses
    )
    new = dataclasses.replace(old, addresses=addresses)
    return dataclasses.replace(plan, hosts=tuple(new if h is old else h for h in plan.hosts))


def test_a_host_address_in_reserved_space():
    found = pack_violations(with_address(plan_of("prod"), "worker-3", "management", "100.64.48.21"))
    assert found == [
        "hosts[7].number: 100.64.48.21/32 lies in management reserved space 100.64.48.0/20 "
        "(networks.management.zones[0].reserved_blocks[0]) [reserved-unused]",
        "hosts[7].number: worker-3 holds 100.64.48.21 in management/k8s-nodes, not "
        "100.64.64.23: a host keeps its number 23 in every network [host-number-same]",
    ]


def test_pod_pools_registered_over_each_other_and_over_a_network():
    plan = plan_of("prod")
    pools = [("pools[0]", "100.96.0.0/14"), ("pools[1]", "100.98.0.0/15"), ("pools[2]", "100.66.0.0/16")]
    found = check_pools_disjoint(
        [(path, IPNetwork(cidr)) for path, cidr in pools], plan.networks, plan.outside
    )
    assert [str(v) for v in found] == [
        "pools[2]: pool 100.66.0.0/16 overlaps the storage network 100.66.0.0/16 [pool-overlap]",
        "pools[1]: pool 100.98.0.0/15 overlaps pool 100.96.0.0/14 [pool-overlap]",
    ]


# --- check(cfg, plan): the same verdict as checked_plan, built apart ----------------------


def test_check_of_a_config_and_its_plan_is_checked_plans_verdict():
    changes = (
        ("hosts[4].name", "master-1"),
        ("hosts[0].outside.enterprise", ["192.168.0.51", "192.168.0.52", "192.168.1.53"]),
    )
    both = checked_apart("dev", *changes)
    assert both == violations("dev", *changes)
    assert "hosts[4].name: master-1 is also hosts[3] [host-unique]" in both
    assert (
        "hosts[0].outside.enterprise: 192.168.1.53 is outside enterprise 192.168.0.0/24 "
        "[host-in-block]"
    ) in both
    # without the plan, only what the config alone breaks
    assert checked_apart("dev", *changes, planned=False) == [
        "hosts[4].name: master-1 is also hosts[3] [host-unique]"
    ]


def test_check_leaves_out_what_only_follows_from_an_unknown_zone():
    found = checked_apart("prod", ("hosts[5].zones", ["cloud"]))
    assert found == ["hosts[5].zones[0]: cloud is not a management zone [host-zone]"]


@pytest.mark.parametrize("vlan", [1, 4094])
def test_a_tagged_nic_carries_the_first_and_the_last_vlan(vlan):
    # prod's nodes carry management tagged on eno1: both ends of 1..4094 plan, pass the pack's
    # judgement of the rendered devices, and render
    change = ("networks.management.vlan", vlan)
    assert violations("prod", change) == []
    assert run_policies("prod", values_of("prod", change)).reported == []
    tagged = netplan_of("prod", "worker-1", change)["vlans"][f"eno1.{vlan}"]
    assert (tagged["id"], tagged["link"]) == (vlan, "eno1")
