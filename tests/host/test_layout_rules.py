"""Wrong NIC layouts and unsafe values are refused, naming the host, the NIC and the path."""

from __future__ import annotations

import shutil

import pytest
import yaml

from lanes.cli.main import main
from lanes.config import ConfigError, parse_stack_config
from lanes.rules import checked_plan
from tests.support.mutate import DELETE, changed
from tests.support.pulumi_run import ROOT, stack_values


def host_index(values: dict, name: str) -> int:
    return next(i for i, h in enumerate(values["hosts"]) if h["name"] == name)


def violations(values: dict) -> list[tuple[str, str, str]]:
    return [
        (v.path, v.rule, v.message) for v in checked_plan(parse_stack_config(values)).violations
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stack_files_break_no_host_rule(stack):
    assert violations(stack_values(stack)) == []


def test_three_networks_on_one_nic_are_refused():
    values = stack_values("dev")
    i = host_index(values, "master-1")
    one_nic = [{"name": "eth0", "networks": ["management", "traffic", "storage"]}]
    found = violations(changed(values, f"hosts[{i}].nics", one_nic))
    assert (
        f"hosts[{i}].nics[0].networks",
        "nic-three-networks",
        "master-1 eth0 carries management, traffic and storage: all three networks on one NIC "
        "is never allowed",
    ) in found


def test_a_bond_with_one_member_is_refused():
    values = stack_values("prod")
    i = host_index(values, "worker-1")
    values = changed(values, f"hosts[{i}].nics[1].bond", {"members": ["ens1f0"]})
    assert violations(values) == [
        (
            f"hosts[{i}].nics[1].bond.members",
            "bond-members",
            "worker-1 bond0: an active-backup bond needs at least 2 members, has 1",
        )
    ]


def test_a_vlan_id_reused_for_two_networks_is_refused_on_each_nic_that_carries_both():
    values = changed(stack_values("prod"), "networks.storage.vlan", 200)
    found = violations(values)
    assert ("networks.storage.vlan", "vlan-distinct", "200 is already the VLAN of traffic") in found
    per_nic = [(p, m) for p, r, m in found if r == "nic-vlan-distinct"]
    assert per_nic == [
        (
            f"hosts[{host_index(values, name)}].nics[1].networks",
            f"{name} ens1f0: traffic and storage both use VLAN 200; one VLAN per network",
        )
        for name in ("edge-1", "worker-4", "edge-2", "edge-3")
    ]


def test_a_shared_nic_needs_a_vlan_for_each_network():
    values = stack_values("prod")
    values = changed(values, "outside[1].vlan", DELETE)  # vpc-1
    i = host_index(values, "vpc1-nat")
    assert violations(values) == [
        (
            f"hosts[{i}].nics[1].networks",
            "nic-vlan-missing",
            "vpc1-nat ens1f0: vpc-1 has no VLAN id, so it cannot share the NIC with adjacency",
        )
    ]


def test_a_nic_mtu_below_its_network_is_refused():
    values = stack_values("prod")
    i = host_index(values, "master-1")
    found = violations(changed(values, f"hosts[{i}].nics[1].mtu", 1500))
    assert found == [
        (
            f"hosts[{i}].nics[1].mtu",
            "nic-mtu",
            "master-1 ens1f0: mtu 1500 is below traffic's mtu 9000",
        )
    ]


def test_a_nic_at_1500_carrying_the_line_at_9000_is_refused(tmp_path, capsys):
    """The line's MTU counts like a platform network's (it once passed every rule and rendered
    the router's NIC at 1500): refused by the rules, and so by ``lanes plan``."""
    values = changed(stack_values("prod"), "line.mtu", 9000)
    i = host_index(values, "edge-1")
    assert values["hosts"][i]["nics"][3]["networks"] == ["az-line"]
    values = changed(values, f"hosts[{i}].nics[3].mtu", 1500)
    line = (
        f"hosts[{i}].nics[3].mtu",
        "nic-mtu",
        "edge-1 ens3f0: mtu 1500 is below az-line's mtu 9000",
    )
    assert violations(values) == [line]
    stack = tmp_path / "Pulumi.mtu.yaml"
    stack.write_text(yaml.safe_dump({"config": {f"lanes:{k}": v for k, v in values.items()}}))
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    assert main(["plan", "--stack", "mtu", "--project-dir", str(tmp_path)]) == 1
    assert f"violation: {line[0]}: {line[2]} [nic-mtu]" in capsys.readouterr().err.splitlines()


def test_a_nic_fits_every_network_it_carries_outside_networks_too():
    values = stack_values("prod")
    i = host_index(values, "edge-1")
    assert values["hosts"][i]["nics"][2]["networks"] == ["enterprise"]
    found = violations(changed(values, f"hosts[{i}].nics[2].mtu", 1400))
    assert found == [
        (
            f"hosts[{i}].nics[2].mtu",
            "nic-mtu",
            "edge-1 ens2f0: mtu 1400 is below enterprise's mtu 1500",
        )
    ]


def test_a_kubernetes_node_without_management_is_refused():
    values = stack_values("dev")
    i = host_index(values, "worker-1")
    values = changed(
        values, f"hosts[{i}].nics", [{"name": "eth1", "networks": ["traffic"], "tagged": False}]
    )
    assert violations(values) == [
        (
            f"hosts[{i}].ssh.address",
            "ssh-address",
            "worker-1 has no management address to reach it by; set ssh.address",
        ),
        (
            f"hosts[{i}].zones",
            "kubelet-node-ip",
            "worker-1 (worker) holds no management address for kubelet's --node-ip",
        ),
    ]


def test_host_keys_must_be_pinned():
    values = stack_values("dev")
    i = host_index(values, "lb")
    values = changed(values, f"hosts[{i}].ssh.host_key", DELETE)
    values = changed(values, "ssh.jump.host_key", DELETE)
    assert violations(values) == [
        (
            f"hosts[{i}].ssh.host_key",
            "ssh-host-key",
            "lb has no pinned host key; add the `ssh-keyscan` line of its key",
        ),
        (
            "ssh.jump.host_key",
            "ssh-host-key",
            "jump host 192.168.0.52 has no pinned host key; add its `ssh-keyscan` line",
        ),
    ]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("name", "worker-1;reboot"),
        ("name", "$(reboot)"),
        ("nics[0].name", "eth0 && reboot"),
        ("nics[0].name", "-eth0"),
        ("nics[0].bond", {"members": ["eth0`id`", "eth9"]}),
        ("ssh.address", "100.64.0.3; reboot"),
        ("ssh.host_key", "ssh-ed25519 AAAA' ; reboot"),
        ("outside", {"enterprise": ["192.168.0.9|sh"]}),
        ("nics[0].macaddress", "00:11:22:33:44:55\nreboot"),
    ],
)
def test_shell_metacharacters_are_refused_by_the_schema(path, value):
    values = stack_values("dev")
    i = host_index(values, "worker-1")
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(changed(values, f"hosts[{i}].{path}", value))
    assert any(line.startswith(f"hosts[{i}].") for line in caught.value.problems), (
        caught.value.problems
    )
