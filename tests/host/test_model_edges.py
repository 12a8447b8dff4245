"""The host model at its edges (issue 29), read from the netplan document lanes writes."""

from __future__ import annotations

from tests.support.stacks import netplan_of


def test_the_line_on_a_vlan_gets_a_vlan_device_with_the_lines_mtu():
    network = netplan_of("prod", "edge-1", ("line.vlan", 700), ("line.mtu", 9000))
    assert network["ethernets"]["ens3f0"] == {"mtu": 9000}
    line = network["vlans"]["ens3f0.700"]
    assert {k: line[k] for k in ("id", "link", "mtu", "addresses")} == {
        "id": 700,
        "link": "ens3f0",
        "mtu": 9000,
        "addresses": ["100.67.0.1/29"],
    }


def test_the_line_without_a_vlan_is_the_nic_itself():
    network = netplan_of("prod", "edge-1")
    assert network["ethernets"]["ens3f0"]["mtu"] == 1500
    assert network["ethernets"]["ens3f0"]["addresses"] == ["100.67.0.1/29"]
    assert not [name for name in network["vlans"] if name.startswith("ens3f0.")]
