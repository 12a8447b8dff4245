"""``lanes verify`` against a dev lab: nothing on a fresh lab, the exact item after tampering.

Each test tampers with one live thing over the namespace (as an operator's stray command would),
runs the real CLI, and puts the thing back, so the tests are independent of their order.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lanes.lab.netns import NsHost
from lanes.lab.site import bring_up
from lanes.render.netplan import NETPLAN_PATH
from tests.support.pulumi_run import ROOT

pytestmark = pytest.mark.netns


@pytest.fixture
def lab(dev_lab):
    """The shared dev lab (tests/support/labs.py): every test puts back what it changes."""
    return dev_lab.site, dev_lab.result


def verify(prefix: str, *extra: str, netns: str | None = None, project: Path = ROOT):
    argv = [
        sys.executable,
        "-m",
        "lanes",
        "verify",
        "--stack",
        "dev",
        "--project-dir",
        str(project),
    ]
    argv = ["ip", "netns", "exec", netns, *argv] if netns else argv
    return subprocess.run(
        [*argv, *extra] if extra else [*argv, "--lab", "--prefix", prefix],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def host(result, name: str) -> NsHost:
    return result.lab.hosts[name]


def test_a_fresh_lab_has_no_drift(lab):
    _, result = lab
    proc = verify(result.prefix)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    assert proc.stderr == "verify dev: 5/5 host(s) verified, 0 drift(s)\n"


def test_a_removed_address_is_reported_with_the_routes_it_took(lab):
    site, result = lab
    master = host(result, "master-1")
    master.run(["ip", "address", "del", "100.64.64.2/21", "dev", "eth2"])
    try:
        proc = verify(result.prefix)
    finally:
        master.run(["/usr/local/sbin/netplan", "apply"])  # the host's own files put it back
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (
        "master-1: address 100.64.64.2/21 on eth2: missing\n"
        "master-1: route 100.64.64.0/21 dev eth2 src 100.64.64.2 table 103: missing\n"
        "master-1: route default via 100.64.64.1 dev eth2 src 100.64.64.2 table 103: missing\n"
    )
    assert verify(result.prefix).returncode == 0


def test_a_rule_added_to_the_lanes_table_is_reported_and_lab_up_repairs_it(lab):
    site, result = lab
    host(result, "router").run(
        ["nft", "add", "rule", "ip", "lanes", "forward", "tcp", "dport", "9999", "accept"]
    )
    proc = verify(result.prefix)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (
        "router: nft table ip lanes: not in the config (chain forward): tcp dport 9999 accept\n"
    )
    again = bring_up(site, result.prefix)  # the gateway's apply sees the live table drifted
    assert again.changes == 1
    assert verify(result.prefix).returncode == 0


def test_a_flipped_sysctl_is_reported(lab):
    _, result = lab
    lb = host(result, "lb")
    lb.run(["sysctl", "-q", "-w", "net.ipv4.conf.eth0.rp_filter=2"])
    try:
        proc = verify(result.prefix, "--lab", "--prefix", result.prefix, "--format", "json")
    finally:
        lb.run(["sysctl", "-q", "-w", "net.ipv4.conf.eth0.rp_filter=1"])
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == {
        "stack": "dev",
        "drift": [
            {
                "host": "lb",
                "item": "sysctl net.ipv4.conf.eth0.rp_filter",
                "message": "2, config says 1",
            }
        ],
        "unverified": {},
    }


def test_an_edited_file_and_a_missing_policy_rule_are_reported(lab):
    _, result = lab
    worker = host(result, "worker-1")
    original = worker.read_file(NETPLAN_PATH)
    assert original is not None
    worker.write_file(NETPLAN_PATH, original + "# hand edit\n", "600")
    worker.run(["ip", "rule", "del", "priority", "1102"])
    try:
        proc = verify(result.prefix)
    finally:
        worker.write_file(NETPLAN_PATH, original, "600")
        worker.run(["ip", "rule", "add", "from", "100.64.32.3", "table", "102", "priority", "1102"])
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (
        "worker-1: rule from 100.64.32.3 table 102 priority 1102: missing\n"
        f"worker-1: file {NETPLAN_PATH}: differs from the rendered file\n"
    )


def pinned_project(tmp_path: Path, result, wrong: str | None = None) -> Path:
    """The dev stack with the lab's host keys pinned, as a real stack pins its hosts' keys."""
    state = json.loads((result.lab.state_dir / "site.json").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    config = stack["config"]
    for entry in config["lanes:hosts"]:
        key = state["endpoints"][entry["name"]]["host_key"]
        entry["ssh"]["host_key"] = (
            state["endpoints"]["lb"]["host_key"] if entry["name"] == wrong else key
        )
    config["lanes:ssh"]["jump"]["host_key"] = state["endpoints"]["jump"]["host_key"]
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))
    return tmp_path


def test_real_host_mode_reaches_every_host_as_the_commands_do(lab, tmp_path):
    """The --identity path, run from the deploy box: the router straight at its enterprise
    address, the other hosts through the jump host, each key pinned; every host holds its files
    at their real paths (its own view), so a provisioned lab shows no drift."""
    _, result = lab
    key = str(result.lab.state_dir / "client_ed25519")
    deploy = result.prefix + "deploy"
    project = pinned_project(tmp_path, result)
    proc = verify(result.prefix, "--identity", key, netns=deploy, project=project)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    assert proc.stderr == "verify dev: 5/5 host(s) verified, 0 drift(s)\n"
    # A wrong pinned key: that host is not verified, and says why; the others still are.
    project = pinned_project(tmp_path, result, wrong="master-1")
    proc = verify(result.prefix, "--identity", key, netns=deploy, project=project)
    assert proc.returncode == 2
    assert "error: master-1: ssh exit 255: Host key verification failed." in proc.stderr
    assert "verify dev: 4/5 host(s) verified" in proc.stderr
    # The router's key is the one pinned for its direct address: a wrong one refuses it too.
    project = pinned_project(tmp_path, result, wrong="router")
    proc = verify(result.prefix, "--identity", key, netns=deploy, project=project)
    assert "error: router: ssh exit 255: Host key verification failed." in proc.stderr
