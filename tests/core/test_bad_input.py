"""Bad input: each refused with a message naming the config path and the value."""

from __future__ import annotations

import re

import pytest

from lanes.config import ConfigError, parse_stack_config
from lanes.rules import checked_plan
from tests.support.mutate import DELETE, changed
from tests.support.pulumi_run import stack_values


def violations(stack: str, path: str, value) -> list[str]:
    report = checked_plan(parse_stack_config(changed(stack_values(stack), path, value)))
    return [str(v) for v in report.violations]


def only(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0]


def test_the_seeds_k8s_reserved_block_is_an_error_never_masked():
    found = only(
        violations("prod", "networks.management.zones[1].reserved_blocks[0]", "100.64.111.0/20")
    )
    assert found == (
        "networks.management.zones[1].reserved_blocks[0]: 100.64.111.0/20 is not on a /20 boundary "
        "(the /20 around it is 100.64.96.0/20; the next one is 100.64.112.0/20) [cidr-boundary]"
    )


def test_a_network_off_its_boundary_stops_the_plan():
    report = checked_plan(
        parse_stack_config(changed(stack_values("prod"), "networks.traffic.cidr", "100.65.1.0/16"))
    )
    assert report.plan is None
    assert [str(v) for v in report.violations] == [
        "networks.traffic.cidr: 100.65.1.0/16 is not on a /16 boundary (the /16 around it is "
        "100.65.0.0/16; the next one is 100.66.0.0/16) [cidr-boundary]"
    ]


def test_overlapping_networks():
    values = changed(stack_values("prod"), "networks.storage.cidr", "100.65.0.0/16")
    values = changed(values, "networks.storage.blocks", {})
    values = changed(values, "networks.storage.reserved_blocks", [])
    found = [str(v) for v in checked_plan(parse_stack_config(values)).violations]
    assert (
        "networks.storage.cidr: 100.65.0.0/16 overlaps networks.traffic (100.65.0.0/16) [network-overlap]"
        in found
    )
    assert all("network-overlap" in v or "address-unique" in v for v in found), found


def test_an_outside_network_may_not_overlap_a_platform_network():
    found = violations("prod", "outside[3]", {"name": "dmz", "cidr": "100.64.0.0/12"})
    # The /12 also swallows the line between the AZ routers (100.67.0.0/29).
    assert found == [
        "line.cidr: 100.67.0.0/29 overlaps outside network dmz 100.64.0.0/12 [line-space]"
    ] + [
        f"outside[3].cidr: 100.64.0.0/12 overlaps networks.{name} ({cidr}) [network-overlap]"
        for name, cidr in [
            ("management", "100.64.0.0/16"),
            ("traffic", "100.65.0.0/16"),
            ("storage", "100.66.0.0/16"),
        ]
    ]


def test_outside_networks_may_overlap_each_other():
    # vpc-1 and vpc-2 are both 192.168.0.0/24 in the committed prod stack (seed 000).
    assert violations("prod", "outside[1].description", "still overlapping vpc-2") == []


def test_a_block_outside_its_parent():
    found = only(violations("prod", "networks.management.zones[1].blocks.az-2", "100.64.208.0/20"))
    assert found == (
        "networks.management.zones[1].blocks.az-2: 100.64.208.0/20 is outside its parent "
        "100.64.64.0/18 [block-outside-parent]"
    )


def test_blocks_out_of_az_order():
    found = only(violations("prod", "networks.traffic.blocks.az-2", "100.65.32.0/20"))
    assert found == (
        "networks.traffic.blocks.az-2: 100.65.32.0/20 is not the az-2 block; the plan gives "
        "100.65.16.0/20 [block-order]"
    )


def test_a_zone_written_in_the_wrong_place():
    found = only(violations("prod", "networks.management.zones[2].cidr", "100.64.192.0/18"))
    assert found == (
        "networks.management.zones[2].cidr: 100.64.192.0/18 is not zone 3 of /18 in 100.64.0.0/16; "
        "the plan gives 100.64.128.0/18 [zone-order]"
    )


def test_duplicate_host_number():
    found = violations("prod", "hosts[5].number", 11)  # worker-1 takes master-1's number
    assert (
        "hosts[5].number: 11 is already the number of master-1 in az-1 [host-number-unique]"
        in found
    )


def test_duplicate_address():
    edge = stack_values("prod")["hosts"][0]["outside"]["enterprise"]
    found = only(violations("prod", "hosts[0].outside.enterprise", [*edge, "10.0.0.3"]))  # sso-gw's
    assert (
        found
        == "hosts[1]: sso-gw enterprise address 10.0.0.3 is also held by edge-1 [address-unique]"
    )


def test_a_host_number_past_its_block():
    found = violations("dev", "hosts[3].number", 2047)
    assert found == [
        f"hosts[3].number: 2047 gives master-1 {address} in {network}, which is not a usable "
        f"address of its az-1 block {block} [host-in-block]"
        for address, network, block in [
            ("100.64.7.255", "management", "100.64.0.0/21"),
            ("100.64.39.255", "traffic", "100.64.32.0/21"),
            ("100.64.71.255", "storage", "100.64.64.0/21"),
        ]
    ]


def test_only_a_gateway_may_hold_the_gateway_address():
    found = violations("dev", "hosts[3].number", 1)
    assert (
        "hosts[3].number: 1 is already the number of router in az-1 [host-number-unique]" in found
    )
    assert any(
        "the management gateway of 100.64.0.0/21; only a gateway host may hold it" in v
        for v in found
    )


@pytest.mark.parametrize(
    ("vlan", "bound"), [(0, "greater than or equal to 1"), (5000, "less than or equal to 4094")]
)
def test_vlan_outside_range_is_a_schema_error_like_a_bad_mtu(vlan, bound):
    # Static bounds live in the schema: a bad VLAN and a bad MTU are both config errors (exit 2).
    problems = schema_errors(changed(stack_values("prod"), "networks.traffic.vlan", vlan))
    assert problems == [f"networks.traffic.vlan: {vlan}: Input should be {bound}"]
    problems = schema_errors(changed(stack_values("prod"), "networks.traffic.mtu", 100))
    assert problems == ["networks.traffic.mtu: 100: Input should be greater than or equal to 576"]


def test_vlan_reused_for_two_networks():
    found = violations("prod", "networks.storage.vlan", 200)
    # Named at the network, and at every NIC where the two would collide on the wire.
    assert found == [
        f"hosts[{i}].nics[1].networks: {host} ens1f0: traffic and storage both use VLAN 200; one "
        "VLAN per network [nic-vlan-distinct]"
        for i, host in [(0, "edge-1"), (8, "worker-4"), (15, "edge-2"), (18, "edge-3")]
    ] + ["networks.storage.vlan: 200 is already the VLAN of traffic [vlan-distinct]"]


def test_three_networks_on_one_nic():
    found = only(
        violations(
            "prod",
            "hosts[2].nics",
            [{"name": "eno1", "networks": ["management", "traffic", "storage"]}],
        )
    )
    assert found == (
        "hosts[2].nics[0].networks: master-1 eno1 carries management, traffic and storage: all three "
        "networks on one NIC is never allowed [nic-three-networks]"
    )


def test_traffic_and_storage_may_share_a_nic_but_management_may_not():
    shared = [
        {"name": "eno1", "networks": ["management"]},
        {"name": "ens1f0", "networks": ["traffic", "storage"]},
    ]
    assert violations("prod", "hosts[2].nics", shared) == []
    bad = [
        {"name": "eno1", "networks": ["management", "traffic"]},
        {"name": "ens1f0", "networks": ["storage"]},
    ]
    assert only(violations("prod", "hosts[2].nics", bad)) == (
        "hosts[2].nics[0].networks: master-1 eno1 carries management, traffic: only traffic and "
        "storage may share a NIC [nic-shared]"
    )


def test_a_bond_with_one_member():
    bond = {"name": "bond0", "networks": ["traffic"], "bond": {"members": ["ens1f0"]}}
    found = only(violations("prod", "hosts[5].nics[1]", bond))
    assert found == (
        "hosts[5].nics[1].bond.members: worker-1 bond0: an active-backup bond needs at least 2 "
        "members, has 1 [bond-members]"
    )


def schema_errors(values) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    return caught.value.problems


def test_unknown_key():
    problems = schema_errors(changed(stack_values("prod"), "hosts[2].nics[0].colour", "blue"))
    assert problems == ["hosts[2].nics[0].colour: unknown key"]  # never its value (issue 13)


def test_missing_required_key():
    problems = schema_errors(changed(stack_values("prod"), "networks.traffic.cidr", DELETE))
    assert problems == ["networks.traffic.cidr: required key is missing"]


def test_a_cidr_that_is_not_a_prefix():
    problems = schema_errors(
        changed(stack_values("dev"), "networks.traffic.cidr", "100.64.32.0/33")
    )
    assert problems == [
        "networks.traffic.cidr: '100.64.32.0/33' is not an IPv4 prefix like 100.64.0.0/16"
    ]


@pytest.mark.parametrize("name", ["master;reboot", "$(id)", "a b", "-rf"])
def test_shell_metacharacters_in_a_host_name_are_refused(name):
    (problem,) = schema_errors(changed(stack_values("dev"), "hosts[0].name", name))
    assert re.match(rf"hosts\[0\]\.name: {re.escape(repr(name))} is not allowed here", problem)


def test_every_problem_is_listed_not_just_the_first():
    values = changed(stack_values("prod"), "networks.storage.vlan", 200)
    values = changed(values, "networks.adjacency.cidr", "100.127.0.1/16")
    values = changed(values, "hosts[5].number", 11)
    found = [str(v) for v in checked_plan(parse_stack_config(values)).violations]
    assert {v.split(":")[0] for v in found} >= {
        "networks.storage.vlan",
        "networks.adjacency.cidr",
        "hosts[5].number",
    }
