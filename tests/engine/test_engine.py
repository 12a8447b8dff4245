"""The program under the real Pulumi engine (``make engine``): preview, up, policy pack, errors.

The stack is the dev stack's config grown to two AZs and applied as az-2, where no host is: the
program declares the four network components and its exports and no host (the stacks with
hosts run on bare labs: ``test_dev_lab``, ``test_region_lab``). Everything runs on a file
backend in a tmp dir; the pack is given as its folder (``--policy-pack policies``).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest
import yaml

from tests.engine.harness import (
    ENGINE_BIN,
    POLICY_PACK,
    REPO,
    Engine,
    az_without_hosts,
    missing_binaries,
    open_engine,
)

STACK = "engine"
NETWORK_TYPES = [
    "lanes:network:ManagementNetwork",
    "lanes:network:TrafficNetwork",
    "lanes:network:StorageNetwork",
    "lanes:network:AdjacencyNetwork",
]


@pytest.fixture(scope="module")
def engine():
    # Never a skip: an engine tier that silently does not run checks nothing.
    missing = missing_binaries()
    if missing:
        pytest.fail(f"{', '.join(missing)} not in {ENGINE_BIN}: run `make engine`")
    marker = f"lanes-engine-test-{secrets.token_hex(16)}"
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{marker}\n-----END OPENSSH PRIVATE KEY-----\n"
    with open_engine(key, marker) as eng:
        yield eng


@pytest.fixture(scope="module")
def project(engine: Engine):
    folder = engine.project("lanes")
    engine.stack(folder, STACK, az_without_hosts())
    return folder


@pytest.fixture(scope="module")
def first_preview(engine: Engine, project):
    return engine.run(project, "preview", "--stack", STACK, "--non-interactive", "--color=never")


@pytest.fixture(scope="module")
def deployed(engine: Engine, project, first_preview):
    return engine.run(
        project, "up", "--yes", "--stack", STACK, "--non-interactive", "--color=never"
    )


def test_preview_lists_the_network_components(first_preview):
    assert first_preview.ok, first_preview.log
    for type_ in NETWORK_TYPES:
        assert f"+  {type_} lab-" in first_preview.output, first_preview.log
    assert "command:remote" not in first_preview.output
    assert "+ 5 to create" in first_preview.output, first_preview.log  # the stack + 4 networks


def test_up_exports_what_lanes_plan_computes(engine: Engine, project, deployed):
    assert deployed.ok, deployed.log
    assert "5 created" in deployed.output, deployed.log
    outputs = json.loads(
        engine.check(project, "stack", "output", "--json", "--stack", STACK).output
    )
    planned = subprocess.run(
        [sys.executable, "-m", "lanes", "plan", "--stack", STACK, "--project-dir", str(project)]
        + ["--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    plan = json.loads(planned.stdout)
    assert (outputs["region"], outputs["az"]) == ("lab", "az-2")
    # The AZ's own part of the region's plan: every key, its hosts only (az-2 has none).
    assert outputs["plan"] == plan | {"hosts": []} and plan["hosts"]
    assert outputs["networks"]["management"]["az-2"]["-"] == "100.64.4.0/22"


def test_second_preview_has_no_changes(engine: Engine, project, deployed):
    assert deployed.ok, deployed.log
    again = engine.run(
        project, "preview", "--expect-no-changes", "--stack", STACK, "--non-interactive"
    )
    assert again.ok, again.log
    assert "5 unchanged" in again.output, again.log


def test_policy_pack_passes(engine: Engine, project, deployed):
    checked = engine.run(
        project, "preview", "--policy-pack", str(POLICY_PACK), "--stack", STACK, "--non-interactive"
    )
    assert checked.ok, checked.log
    assert "lanes-network-rules" in checked.output, checked.log
    assert "mandatory" not in checked.output, checked.log


def _broken_vlan(config):
    config["lanes:networks"]["management"]["vlan"] = 5000
    return "networks.management.vlan: 5000: Input should be less than or equal to 4094"


def _overlapping_network(config):
    config["lanes:networks"]["storage"]["cidr"] = "100.64.32.0/21"  # traffic's
    config["lanes:networks"]["storage"]["blocks"] = {
        "az-1": "100.64.32.0/22",
        "az-2": "100.64.36.0/22",
    }
    return "networks.storage.cidr: 100.64.32.0/21 overlaps networks.traffic"


@pytest.mark.parametrize("kind", ["vlan", "overlap"])
def test_broken_config_fails_with_lanes_message(engine: Engine, project, kind):
    config = az_without_hosts()
    expected = {"vlan": _broken_vlan, "overlap": _overlapping_network}[kind](config)
    stack = f"broken-{kind}"
    engine.stack(project, stack, config)
    failed = engine.run(project, "preview", "--stack", stack, "--non-interactive")
    assert not failed.ok, failed.log
    assert expected in failed.output, failed.log
    assert "Traceback" not in failed.output, failed.log
    assert "lanes:network:" not in failed.output, failed.log  # nothing declared


TAMPERED = '''\
"""The network components of the engine stack's plan, traffic given management's VLAN, and
lanes' own checks skipped: what only the pack can stop."""
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, {repo!r})

import pulumi  # noqa: E402

from components.network import declare_networks  # noqa: E402
from lanes.rules import checked_plan  # noqa: E402
from lanes.config.stackfile import load_stack  # noqa: E402

plan = checked_plan(load_stack(Path({project!r}), {stack!r})).plan
vlan = plan.network("management").vlan
networks = tuple(
    dataclasses.replace(n, vlan=vlan) if n.name == "traffic" else n for n in plan.networks
)
declare_networks(dataclasses.replace(plan, networks=networks))
pulumi.export("az", plan.az)
'''


@pytest.fixture(scope="module")
def tampered(engine: Engine):
    """A project whose program declares the network components with traffic on management's
    VLAN, lanes' own checks skipped."""
    folder = engine.project("tampered", main=None)
    source = TAMPERED.format(repo=str(REPO), project=str(folder), stack="tampered")
    (folder / "__main__.py").write_text(source)
    engine.stack(folder, "tampered", az_without_hosts())
    return folder


def test_pack_rejects_what_the_program_would_not_declare(engine: Engine, tampered):
    # The real program checks every rule the pack enforces before it declares anything, so no
    # stack config lets a violation reach the pack: a program that skips those checks does.
    folder = tampered
    plain = engine.run(folder, "preview", "--stack", "tampered", "--non-interactive")
    assert plain.ok, plain.log
    checked = engine.run(
        folder, "preview", "--policy-pack", str(POLICY_PACK), "--stack", "tampered",
        "--non-interactive",
    )  # fmt: skip
    assert not checked.ok, checked.log
    assert "vlan-ids" in checked.output, checked.log
    assert "networks.traffic.vlan: 10 is already the VLAN of management" in checked.output, (
        checked.log
    )


def test_secret_never_in_clear(engine: Engine, project, deployed):
    # Last in the file: every run so far (and the state, PULUMI_HOME, stack files) is scanned.
    assert deployed.ok, deployed.log
    shown = engine.check(project, "config", "--stack", STACK).output
    assert "[secret]" in shown, shown
    leaking_runs = [" ".join(r.args) for r in engine.results if r.leaks]
    assert leaking_runs == []
    assert engine.files_holding_secret() == []
    state = sorted((engine.root / "state").rglob(f"{STACK}.json"))
    assert state, "no state file for the stack"
    stack_file = (project / f"Pulumi.{STACK}.yaml").read_text()
    assert "secure: v1:" in stack_file


def test_moving_a_stack_to_a_region_file_changes_none_of_its_resources(engine: Engine):
    """A one-file AZ stack, applied; then its keys move to a region file the stack file names
    (the stack keeps its AZ and its secret): the real engine's preview finds nothing to do.
    Then a change in the region file alone is a change the engine sees."""
    folder = engine.project("moved")
    config = az_without_hosts()
    engine.stack(folder, "moved", config)
    up = engine.run(folder, "up", "--yes", "--stack", "moved", "--non-interactive")
    assert up.ok, up.log
    # The region file is a path of the project, which the program learns from the language
    # host (the project's folder, where Pulumi.yaml is; main: names the repo's program).
    region_dir = folder / "regions"
    region_dir.mkdir()
    inventory = "regions/region.yaml"
    region = {k.removeprefix("lanes:"): v for k, v in config.items() if k != "lanes:az"}
    (region_dir / "region.yaml").write_text(yaml.safe_dump(region, sort_keys=False))
    stack_file = folder / "Pulumi.moved.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    kept = {k: v for k, v in doc["config"].items() if k in ("lanes:az", "lanes:sshPrivateKey")}
    doc["config"] = kept | {"lanes:inventory": inventory}
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert set(doc["config"]) == {"lanes:az", "lanes:sshPrivateKey", "lanes:inventory"}

    moved = engine.run(
        folder, "preview", "--expect-no-changes", "--stack", "moved", "--non-interactive"
    )
    assert moved.ok, moved.log
    assert "5 unchanged" in moved.output, moved.log

    region["networks"]["storage"]["vlan"] = 33
    (region_dir / "region.yaml").write_text(yaml.safe_dump(region, sort_keys=False))
    changed = engine.run(folder, "preview", "--stack", "moved", "--non-interactive")
    assert changed.ok, changed.log
    assert "~  lanes:network:StorageNetwork" in changed.output, changed.log
    assert "1 to update" in changed.output, changed.log


def lanes_preview(engine: Engine, folder, stack: str) -> subprocess.CompletedProcess:
    """``make preview``'s command on a project of the harness: its backend and passphrase."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env |= {
        "PULUMI_BACKEND_URL": f"file://{engine.root / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(engine.cli.passphrase),
    }
    return subprocess.run(
        [sys.executable, "-m", "lanes", "preview", "--stack", stack, "--project-dir", str(folder),
         "--engine-dir", str(REPO), "--policy-pack", str(POLICY_PACK)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_pull_request_comment_counts_changes_per_component_kind(
    engine: Engine, project, deployed
):
    assert deployed.ok, deployed.log
    stack_file = project / f"Pulumi.{STACK}.yaml"
    original = stack_file.read_text()
    doc = yaml.safe_load(original)
    doc["config"]["lanes:networks"]["storage"]["vlan"] = 33
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        proc = lanes_preview(engine, project, STACK)
    finally:
        stack_file.write_text(original)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"### `pulumi preview` of stack `{STACK}`\n"), proc.stdout
    assert "| StorageNetwork | 0 | 1 | 0 | 0 |\n" in proc.stdout
    assert "- StorageNetwork update: `lab-storage`\n" in proc.stdout
    assert "ManagementNetwork" not in proc.stdout
    assert "policies of lanes-network-rules 0.1.0 pass." in proc.stdout
    assert engine.marker not in proc.stdout + proc.stderr


def test_the_pull_request_comment_names_a_mandatory_violation(engine: Engine, tampered):
    proc = lanes_preview(engine, tampered, "tampered")
    assert proc.returncode == 1, proc.stderr
    assert "| mandatory | vlan-ids | `lanes-tampered` | " in proc.stdout, proc.stdout  # the stack
    assert "networks.traffic.vlan: 10 is already the VLAN of management" in proc.stdout
    assert "Preview failed." in proc.stdout
