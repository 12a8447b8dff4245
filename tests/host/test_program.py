"""The host components under the SDK's mocks: resource tree, secrets, determinism, locality."""

from __future__ import annotations

import json
import socket

import pulumi
import pytest
from pulumi.runtime import rpc

from lanes.config.apply import DEFAULT_CONFIRM_TIMEOUT
from lanes.config.stackfile import load_stack
from lanes.model.hostnet import build_host_net
from lanes.render.scripts import (
    confirm_host_script,
    host_files,
    host_stdin,
    provision_host_script,
    remove_host_script,
    sh_command,
)
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


def expected_tree(hosts: set[str]) -> set[tuple[str, str, str]]:
    """Three resources per host: the component, its one apply step and its confirm step."""
    tree = set()
    for name in hosts:
        parent = f"{HOST}${name}"
        tree |= {(HOST, name, ""), (COMMAND, f"{name}-apply", parent)}
        tree |= {(COMMAND, f"{name}-confirm", parent)}
    return tree


def test_dev_tree_has_three_resources_per_inventory_host():
    run = run_program("dev", secrets=SECRETS)
    assert host_tree(run) == expected_tree({"router", "jump", "lb", "master-1", "worker-1"})
    assert not [r for r in run.resources if r.type == COPY and f"{HOST}$" in r.urn]


def test_prod_tree_covers_the_az_1_inventory():
    run = run_program("prod", secrets=SECRETS)
    k8s = {"master-1"} | {f"worker-{i}" for i in (1, 2, 3, 4)}
    k8s |= {f"ingress-{i}" for i in (1, 2, 3)}
    others = {"edge-1", "sso-gw", "jump-1", "vpc1-nat", "vpc2-nat"}
    assert host_tree(run) == expected_tree(k8s | others)


@pytest.mark.parametrize(
    ("stack", "edge", "k8s"),
    [
        ("prod-az-2", "edge-2", {"master-2", "worker-5", "ingress-4"}),
        ("prod-az-3", "edge-3", {"master-3", "worker-6", "ingress-5"}),
    ],
)
def test_each_prod_az_stack_covers_its_az_of_the_region(stack, edge, k8s):
    run = run_program(stack, secrets=SECRETS)
    assert host_tree(run) == expected_tree(k8s | {edge})


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


@pytest.mark.parametrize("agent", [None, "/nonexistent/agent.sock"])
def test_neither_a_key_nor_an_agent_stops_the_program_naming_both(monkeypatch, agent):
    if agent is None:
        monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    else:
        monkeypatch.setenv("SSH_AUTH_SOCK", agent)
    with pytest.raises(Exception, match=r"lanes:sshPrivateKey is not set and SSH_AUTH_SOCK"):
        run_program("dev", secrets={})


def test_with_an_agent_no_connection_carries_a_key_and_a_preview_needs_neither(
    monkeypatch, tmp_path
):
    """``SSH_AUTH_SOCK`` names the agent; the provider finds it there itself, so neither a key
    nor the socket's path is a resource input (nothing of either reaches the state)."""
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "agent.sock"))
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "agent.sock"))
    run = run_program("dev", secrets={})
    commands = [r for r in run.resources if r.type in (COPY, COMMAND)]
    assert commands
    for r in commands:
        connection = r.inputs["connection"]["value"]
        assert "privateKey" not in connection and "agentSocketPath" not in connection, r.name
        assert "privateKey" not in connection.get("proxy", {}), r.name
        assert str(tmp_path) not in _plain(r.inputs)
    sock.close()
    monkeypatch.delenv("SSH_AUTH_SOCK")
    assert run_program("dev", secrets={}, preview=True).resources  # a PR's preview: no agent


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
    master = run.by_name("master-1-apply").inputs["connection"]["value"]
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
    jump = run.by_name("jump-apply").inputs["connection"]["value"]
    assert jump["host"] == "192.168.0.52" and "proxy" not in jump
    assert jump["hostKey"] == keys["jump"]


def test_the_steps_carry_the_rendered_files_and_scripts():
    run = run_program("prod", secrets=SECRETS)
    plan = checked_plan(load_stack(ROOT, "prod")).plan
    net = build_host_net(plan.host("worker-1"), plan)
    files = host_files(net)
    assert [f.kind for f in files] == ["netplan", "sysctl", "kubelet"]
    apply = run.by_name("worker-1-apply").inputs
    provision = sh_command(provision_host_script("worker-1", files, DEFAULT_CONFIRM_TIMEOUT))
    remove = sh_command(remove_host_script("worker-1", files))
    assert apply["create"] == provision and apply["delete"] == remove
    assert "update" not in apply  # an update runs create again: the same idempotent step
    # Every file on stdin, in file order (netplan first: the sysctl drop-in names its devices).
    assert apply["stdin"] == "".join(f.content for f in files) == host_stdin(files)
    assert "triggers" not in apply  # a change updates in place: no replacement, no delete
    confirm = run.by_name("worker-1-confirm").inputs
    assert confirm["triggers"][:3] == [f"{f.kind}={f.sha256}" for f in files]
    assert confirm["triggers"][3].startswith("step=")
    assert confirm["create"] == sh_command(confirm_host_script("worker-1", files))
    urn = {r.name: r.urn for r in run.resources}
    deps = {r.name: r.dependencies for r in run.resources}
    assert deps["worker-1-confirm"] == [urn["worker-1-apply"]]
    assert run.by_name("worker-1").outputs["files"] == {f.kind: f.sha256 for f in files}


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
    assert {name for _, name in differing} == {"worker-2", "worker-2-apply", "worker-2-confirm"}
    # Only the netplan file changed: the triggers say so, file by file.
    old_triggers = before.by_name("worker-2-confirm").inputs["triggers"]
    new_triggers = after.by_name("worker-2-confirm").inputs["triggers"]
    assert [a.split("=")[0] for a, b in zip(old_triggers, new_triggers, strict=True) if a != b] == [
        "netplan",
        "step",
    ]


@pytest.mark.parametrize(
    ("stack", "direct"),
    [
        ("dev", {"router": "192.168.0.51"}),
        ("prod", {"edge-1": "10.0.1.1", "sso-gw": "10.0.0.3"}),
        ("prod-az-2", {"edge-2": "10.0.2.1"}),
    ],
)
def test_hosts_behind_the_gateways_wait_for_the_ones_reached_directly(stack, direct):
    """A new site's order: the gateway hosts on the deploy box's network (reached at their own
    address there) with their gateways and BGP first; every step of every other host after all
    of theirs, so ``pulumi destroy`` restores those hosts while their path still exists."""
    run = run_program(stack, secrets=SECRETS)
    commands = [r for r in run.resources if r.type.startswith("command:remote:")]
    owner = {r.urn: _host_of(run, r) for r in commands}
    deps = {r.urn: set(r.dependencies) for r in run.resources}
    first = {urn for urn, host in owner.items() if host in direct}
    assert {owner[urn] for urn in first} == set(direct)
    for r in commands:
        if r.urn in first:
            assert not set(r.dependencies) - first, f"{r.name} waits for a host behind it"
            if not r.name.endswith("-confirm"):
                assert r.inputs["connection"]["value"]["host"] == direct[owner[r.urn]], r.name
                assert "proxy" not in r.inputs["connection"]["value"], r.name
        else:
            assert first <= _closure(deps, r.urn), f"{r.name} does not wait for {sorted(direct)}"


def _closure(deps: dict[str, set[str]], urn: str) -> set[str]:
    """Everything ``urn`` waits for, directly or through what it waits for."""
    seen, todo = set(), [urn]
    while todo:
        for dep in deps.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _host_of(run: Run, resource) -> str:
    """The host a step runs on: its component's ``host`` prop (hosts, gateways, speakers)."""
    parent = next(r for r in run.resources if r.urn == resource.parent)
    return parent.inputs["host"]
