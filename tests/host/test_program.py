"""The host components under the SDK's mocks: resource tree, secrets, determinism, locality."""

from __future__ import annotations

import json

import pulumi
import pytest
from pulumi.runtime import rpc

from lanes.config.stackfile import load_stack
from lanes.model.hostnet import build_host_net
from lanes.render.scripts import apply_script, delete_script, host_files, sh_command
from lanes.rules import checked_plan
from tests.support.mutate import DELETE, changed
from tests.support.pulumi_run import ROOT, Run, run_program, stack_values

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAlanes-test-key\n-----END OPENSSH PRIVATE KEY-----\n"
SECRETS = {"sshPrivateKey": KEY}
HOST = "lanes:host:BareMetalHost"
COPY = "command:remote:CopyToRemote"
COMMAND = "command:remote:Command"


def host_tree(run: Run) -> set[tuple[str, str, str]]:
    return {t for t in run.tree() if t[0] == HOST or t[2].startswith(f"{HOST}$")}


def expected_tree(hosts: dict[str, bool]) -> set[tuple[str, str, str]]:
    """host -> is a Kubernetes node (gets the kubelet drop-in)."""
    tree = set()
    for name, k8s in hosts.items():
        parent = f"{HOST}${name}"
        tree |= {(HOST, name, ""), (COMMAND, f"{name}-prepare", parent)}
        tree |= {(COMMAND, f"{name}-arm", parent), (COMMAND, f"{name}-confirm", parent)}
        for kind in ["netplan", "sysctl"] + (["kubelet"] if k8s else []):
            tree |= {
                (COPY, f"{name}-{kind}-copy", parent),
                (COMMAND, f"{name}-{kind}-apply", parent),
            }
    return tree


def test_dev_tree_has_one_host_per_inventory_host_with_a_copy_and_apply_per_file():
    run = run_program("dev", secrets=SECRETS)
    assert host_tree(run) == expected_tree(
        {"router": False, "jump": False, "lb": False, "master-1": True, "worker-1": True}
    )


def test_prod_tree_covers_the_az_1_inventory():
    run = run_program("prod", secrets=SECRETS)
    k8s = {"master-1"} | {f"worker-{i}" for i in (1, 2, 3, 4)}
    k8s |= {f"ingress-{i}" for i in (1, 2, 3)}
    others = {"edge-1", "sso-gw", "jump-1", "vpc1-nat", "vpc2-nat"}
    assert host_tree(run) == expected_tree({n: n in k8s for n in k8s | others})


@pytest.mark.parametrize(
    ("stack", "edge", "k8s"),
    [
        ("prod-az-2", "edge-2", {"master-2", "worker-5", "ingress-4"}),
        ("prod-az-3", "edge-3", {"master-3", "worker-6", "ingress-5"}),
    ],
)
def test_each_prod_az_stack_covers_its_az_of_the_region(stack, edge, k8s):
    run = run_program(stack, secrets=SECRETS)
    assert host_tree(run) == expected_tree({n: n in k8s for n in k8s | {edge}})


def _plain(value) -> str:
    """Inputs as text, secrets included only if the SDK leaked them into plain values."""
    return json.dumps(value, sort_keys=True, default=_asset)


def _asset(value):
    if isinstance(value, pulumi.StringAsset):
        return {"StringAsset": value.text}
    raise TypeError(f"unexpected input {value!r}")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_private_key_stays_secret(stack):
    run = run_program(stack, secrets=SECRETS)
    resources = [r for r in run.resources if r.type in (COPY, COMMAND)]
    assert resources
    for r in resources:
        connection = r.inputs["connection"]
        assert connection.get(rpc._special_sig_key) == rpc._special_secret_sig, r.name
        assert "test-key" not in _plain({k: v for k, v in r.inputs.items() if k != "connection"})
        assert connection["value"]["privateKey"] == KEY
    for r in run.resources:
        if r.type == HOST or r.type.startswith("lanes:network:"):
            assert "test-key" not in _plain(r.inputs) and "test-key" not in _plain(r.outputs)
    assert "test-key" not in _plain(run.outputs)


def test_a_missing_private_key_stops_the_program_naming_the_key():
    with pytest.raises(Exception, match=r"lanes:sshPrivateKey"):
        run_program("dev", secrets={})


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("hosts[2].ssh.host_key", r"hosts\[2\]\.ssh\.host_key: lb has no pinned host key"),
        (
            "ssh.jump.host_key",
            r"ssh\.jump\.host_key: jump host 192\.168\.0\.52 has no pinned host key",
        ),
    ],
)
def test_an_unpinned_host_key_stops_the_program(path, message):
    assert stack_values("dev")["hosts"][2]["name"] == "lb"
    with pytest.raises(Exception, match=message):
        run_program("dev", values=changed(stack_values("dev"), path, DELETE), secrets=SECRETS)


def test_connection_pins_host_keys_and_goes_through_the_jump_host():
    run = run_program("dev", secrets=SECRETS)
    cfg = stack_values("dev")
    keys = {h["name"]: h["ssh"]["host_key"] for h in cfg["hosts"]}
    master = run.by_name("master-1-netplan-apply").inputs["connection"]["value"]
    assert master["host"] == "100.64.0.2" and master["user"] == "root" and master["port"] == 22
    assert master["hostKey"] == keys["master-1"]
    assert master["proxy"] == {
        "host": "192.168.0.52",
        "port": 22,
        "user": "root",
        "hostKey": cfg["ssh"]["jump"]["host_key"],
        "privateKey": KEY,
        "dialErrorLimit": 10.0,
        "perDialTimeout": 15.0,  # the provider's defaults
    }
    # The jump host itself is reached directly on its mapped enterprise address.
    jump = run.by_name("jump-prepare").inputs["connection"]["value"]
    assert jump["host"] == "192.168.0.52" and "proxy" not in jump
    assert jump["hostKey"] == keys["jump"]


def test_copies_and_commands_carry_the_rendered_files_and_scripts():
    run = run_program("prod", secrets=SECRETS)
    plan = checked_plan(load_stack(ROOT, "prod")).plan
    net = build_host_net(plan.host("worker-1"), plan)
    files = {f.kind: f for f in host_files(net)}
    assert set(files) == {"netplan", "sysctl", "kubelet"}
    for kind, file in files.items():
        copy = run.by_name(f"worker-1-{kind}-copy").inputs
        apply = run.by_name(f"worker-1-{kind}-apply").inputs
        assert copy["source"].text == file.content
        assert copy["remotePath"] == file.staged_path
        assert copy["triggers"] == [file.sha256] == apply["triggers"]
        assert apply["create"] == sh_command(apply_script(file))
        assert apply["delete"] == sh_command(delete_script(file))
    # netplan before sysctl before kubelet: the sysctl drop-in names netplan's interfaces.
    urn = {r.name: r.urn for r in run.resources}
    deps = {r.name: r.dependencies for r in run.resources}
    assert urn["worker-1-netplan-apply"] in deps["worker-1-sysctl-apply"]
    assert urn["worker-1-sysctl-apply"] in deps["worker-1-kubelet-apply"]
    # Every copy before the rollback is armed, the rollback armed before the first apply.
    assert urn["worker-1-netplan-copy"] in deps["worker-1-arm"]
    assert urn["worker-1-arm"] in deps["worker-1-netplan-apply"]
    assert urn["worker-1-prepare"] in deps["worker-1-netplan-copy"]


def test_host_component_props_carry_the_model():
    run = run_program("prod", secrets=SECRETS)
    props = run.by_name("worker-1").inputs
    assert props["host"] == "worker-1" and props["role"] == "worker"
    assert props["ssh"] == {"host": "100.64.64.21", "port": 22, "user": "root", "via": "10.0.1.52"}
    assert props["network"]["node_ip"] == "100.64.64.21"
    assert props["network"]["default_network"] == "traffic"
    assert {t["network"]: t["id"] for t in props["network"]["tables"]} == {
        "management": 101,
        "traffic": 102,
        "storage": 103,
    }
    assert run.by_name("worker-1").outputs["nodeIp"] == "100.64.64.21"


def _inputs(run: Run) -> dict[tuple[str, str], str]:
    return {(r.type, r.name): _plain(r.inputs) for r in run.resources}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_inputs_are_identical_when_the_program_runs_twice(stack):
    first, second = run_program(stack, secrets=SECRETS), run_program(stack, secrets=SECRETS)
    assert _inputs(first) == _inputs(second)
    assert len(_inputs(first)) == len(first.resources)


def _owner(name: str, hosts: set[str]) -> str | None:
    return next(
        (h for h in sorted(hosts, key=len, reverse=True) if name == h or name.startswith(f"{h}-")),
        None,
    )


def test_changing_one_host_changes_only_that_hosts_resources():
    values = stack_values("prod")
    index = next(i for i, h in enumerate(values["hosts"]) if h["name"] == "worker-2")
    before = run_program("prod", values=values, secrets=SECRETS)
    after = run_program(
        "prod",
        values=changed(values, f"hosts[{index}].nics[1].bond.primary", "ens2f0"),
        secrets=SECRETS,
    )
    old, new = _inputs(before), _inputs(after)
    assert old.keys() == new.keys()
    hosts = {r.name for r in before.of_type(HOST)}
    differing = {key for key in old if old[key] != new[key]}
    assert differing  # the change reached the program at all
    assert {_owner(name, hosts) for _, name in differing} == {"worker-2"}
    # Only the netplan file changed: sysctl and kubelet inputs are untouched.
    assert {name for _, name in differing} == {
        "worker-2",
        "worker-2-netplan-copy",
        "worker-2-arm",
        "worker-2-netplan-apply",
        "worker-2-confirm",
    }
