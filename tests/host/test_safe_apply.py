"""Arm, confirm, roll back: the scripts (golden, POSIX sh, refused values), their mechanics in a
scratch root, the host component's arm and confirm steps, and the ``lanes:apply`` config."""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import time
from pathlib import Path

import pytest

from lanes.config import ConfigError, parse_stack_config
from lanes.config.apply import DEFAULT_CONFIRM_TIMEOUT
from lanes.config.stackfile import load_stack
from lanes.model.hostnet import HostNet, build_host_net
from lanes.render.rollback import Undo, arm_script
from lanes.render.scripts import (
    apply_script,
    arm_host_script,
    confirm_host_script,
    disarm_script,
    host_files,
    prepare_script,
    provision_host_script,
    remove_host_script,
    sh_command,
    unprepare_script,
)
from lanes.rules import checked_plan
from tests.host.test_golden import STACKS
from tests.host.test_program import SECRETS
from tests.support.golden import assert_golden
from tests.support.mutate import changed
from tests.support.pulumi_run import ROOT, run_program, stack_values


@functools.cache
def models(stack: str) -> dict[str, HostNet]:
    plan = checked_plan(load_stack(ROOT, stack)).plan
    return {h.name: build_host_net(h, plan) for h in plan.stack_hosts()}


HOSTS = [(stack, host) for stack in STACKS for host in models(stack)]


@pytest.mark.parametrize(("stack", "host"), HOSTS)
def test_the_step_arm_and_confirm_scripts_match_their_golden_files_and_are_posix_sh(stack, host):
    files = host_files(models(stack)[host])
    arm = arm_host_script(host, files, DEFAULT_CONFIRM_TIMEOUT)
    confirm = confirm_host_script(host, files)
    provision = provision_host_script(host, files, DEFAULT_CONFIRM_TIMEOUT)
    remove = remove_host_script(host, files)
    assert_golden(f"host/{stack}/{host}/arm.sh", arm)
    assert_golden(f"host/{stack}/{host}/confirm.sh", confirm)
    assert_golden(f"host/{stack}/{host}/provision.sh", provision)
    assert_golden(f"host/{stack}/{host}/remove.sh", remove)
    for script in (arm, confirm, provision, remove):
        assert script.startswith("set -eu\n")
        proc = subprocess.run(["dash", "-n"], input=script, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: arm_host_script("master-1", f, 0), r"timeout: 0 is not a number of seconds"),
        (lambda f: arm_host_script("master-1", f, 5, watchdog="at"), r"watchdog: 'at'"),
        (lambda f: arm_host_script("master;reboot", f, 5), r"name: 'master;reboot'"),
        (lambda f: arm_host_script("master-1", f, 5, root="/tmp/x y"), r"root"),
        (lambda f: confirm_host_script("Master", f), r"name: 'Master'"),
        (lambda f: Undo("netplan", "/etc/$(reboot)"), r"netplan path"),
        (
            lambda f: arm_script("m", "/var/lib/lanes", (), 5, after="x\nLANES_ROLLBACK_END\n"),
            "after",
        ),
    ],
)
def test_unsafe_values_never_reach_a_script(call, message):
    with pytest.raises(ValueError, match=message):
        call(host_files(models("dev")["master-1"]))


class Scratch:
    """The scripts run locally against a scratch root; reloads touch marker files."""

    def __init__(self, root: Path):
        self.root = root
        self.files = host_files(models("dev")["master-1"])
        self.reloads = {f.kind: (("touch", str(root / f"reloaded-{f.kind}")),) for f in self.files}

    def sh(self, script: str) -> subprocess.CompletedProcess:
        return subprocess.run(["dash", "-c", script], capture_output=True, text=True, timeout=120)

    def install(self, files) -> None:
        assert self.sh(prepare_script(str(self.root))).returncode == 0
        for f in files:
            (self.root / f.staged_path.lstrip("/")).write_text(f.content)
            assert self.sh(apply_script(f, str(self.root), self.reloads[f.kind])).returncode == 0

    def arm(self, files, timeout: int):
        return self.sh(arm_host_script("m1", files, timeout, str(self.root), self.reloads, "sh"))

    def confirm(self, files):
        return self.sh(confirm_host_script("m1", files, str(self.root)))

    def target(self, kind: str) -> Path:
        return self.root / next(f for f in self.files if f.kind == kind).path.lstrip("/")

    def reloaded(self) -> set[str]:
        found = {p.name.removeprefix("reloaded-") for p in self.root.glob("reloaded-*")}
        for p in self.root.glob("reloaded-*"):
            p.unlink()
        return found


@pytest.fixture
def scratch(tmp_path):
    s = Scratch(tmp_path)
    s.install(s.files)
    s.reloaded()
    return s


def changed_netplan(s: Scratch):
    new = dataclasses.replace(s.files[0], content=s.files[0].content + "# v2\n")
    return (new, *s.files[1:])


def test_an_unconfirmed_change_is_put_back_and_reloaded_after_the_timeout(scratch):
    new = changed_netplan(scratch)
    armed = scratch.arm(new, 1)
    assert (
        armed.returncode == 0 and "armed rollback" in armed.stdout and "within 1s" in armed.stdout
    )
    scratch.install(new[:1])
    assert scratch.target("netplan").read_text() == new[0].content
    scratch.reloaded()
    time.sleep(2.5)
    assert scratch.target("netplan").read_text() == scratch.files[0].content
    assert scratch.reloaded() == {"netplan"}  # only what was put back is reloaded
    late = scratch.confirm(new)
    assert late.returncode == 1
    assert "m1: confirm: no confirmation came in time" in late.stderr
    assert "previous configuration is live again" in late.stderr
    assert "rollback: restored" in late.stderr
    # The next change is armed afresh.
    assert scratch.arm(new, 30).returncode == 0


def test_a_confirmed_change_stays_and_a_second_arm_waits_for_the_first(scratch):
    new = changed_netplan(scratch)
    assert scratch.arm(new, 2).returncode == 0
    refused = scratch.arm(new, 2)
    assert refused.returncode == 1 and "still awaits its confirmation" in refused.stderr
    scratch.install(new[:1])
    ok = scratch.confirm(new)
    assert ok.returncode == 0 and ok.stdout.startswith("lanes: m1: confirmed "), ok.stderr
    time.sleep(3)
    assert scratch.target("netplan").read_text() == new[0].content
    assert not list((scratch.root / "var/lib/lanes/txn").iterdir())
    again = scratch.confirm(new)  # nothing pending, and the files are as applied
    assert (again.returncode, again.stdout) == (0, "lanes: m1: confirmed\n")


def test_a_file_that_was_never_there_is_removed_again(scratch):
    kubelet = scratch.target("kubelet")
    kubelet.unlink()
    assert scratch.arm(scratch.files, 1).returncode == 0
    kubelet.write_text("# installed by the change\n")
    time.sleep(2.5)
    assert not kubelet.exists()


def test_destroy_disarms_a_pending_change_and_leaves_no_state(scratch):
    """pulumi destroy deletes the applies (each file put back), then the arm (disarm), then the
    prepare step: no rollback of the removed change comes later, and nothing of lanes is left."""
    new = changed_netplan(scratch)
    assert scratch.arm(new, 2).returncode == 0
    scratch.install(new[:1])
    disarmed = scratch.sh(disarm_script("m1", str(scratch.root)))
    assert disarmed.returncode == 0 and "will not be rolled back" in disarmed.stdout
    scratch.target("netplan").write_text("# what the destroy left\n")
    time.sleep(3)  # past the timeout: the watchdog is gone
    assert scratch.target("netplan").read_text() == "# what the destroy left\n"
    for f in scratch.files:
        (scratch.root / f.staged_path.lstrip("/")).unlink(missing_ok=True)
    for sub in ("backup", "staged"):  # what the applies' deletes leave: empty folders
        for path in sorted((scratch.root / "var/lib/lanes" / sub).rglob("*"), reverse=True):
            if path.is_file():
                path.unlink()
    assert scratch.sh(unprepare_script(str(scratch.root))).returncode == 0
    assert not (scratch.root / "var/lib/lanes").exists()


def test_a_confirmation_fails_when_a_file_is_not_as_applied(scratch):
    scratch.target("sysctl").write_text("# someone else's\n")
    result = scratch.confirm(scratch.files)
    assert result.returncode == 1 and "not as applied: sysctl" in result.stderr


# --- the component ------------------------------------------------------------------------------


def test_the_host_component_arms_before_the_applies_and_confirms_afresh_after():
    run = run_program("dev", secrets=SECRETS)
    net = models("dev")["master-1"]
    files = host_files(net)
    apply, confirm = run.by_name("master-1-apply"), run.by_name("master-1-confirm")
    script = provision_host_script("master-1", files, DEFAULT_CONFIRM_TIMEOUT)
    assert apply.inputs["create"] == sh_command(script)
    # One session: every file received and checked, the rollback armed, then each file applied.
    arm = arm_host_script("master-1", files, DEFAULT_CONFIRM_TIMEOUT)
    received = script.index("received content is not sha256")
    first = apply_script(files[0]).rstrip("\n")
    assert received < script.index(arm.rstrip("\n")) < script.index(first)
    assert confirm.inputs["create"] == sh_command(confirm_host_script("master-1", files))
    assert confirm.inputs["triggers"][:-1] == [f"{f.kind}={f.sha256}" for f in files]
    # The step's delete (pulumi destroy) decides a pending change, so no rollback follows it.
    remove = remove_host_script("master-1", files)
    assert apply.inputs["delete"] == sh_command(remove)
    assert disarm_script("master-1").rstrip("\n") in remove
    assert "delete" not in confirm.inputs
    urn = {r.name: r.urn for r in run.resources}
    assert confirm.dependencies == [urn["master-1-apply"]]
    # Its own connection, to the same pinned host through the same jump host.
    assert confirm.inputs["connection"] == apply.inputs["connection"]
    assert run.by_name("master-1").inputs["confirmTimeout"] == DEFAULT_CONFIRM_TIMEOUT


def test_the_timeout_is_stack_config():
    values = changed(stack_values("dev"), "apply", {"confirm_timeout": 45})
    run = run_program("dev", values=values, secrets=SECRETS)
    files = host_files(models("dev")["worker-1"])
    assert run.by_name("worker-1-apply").inputs["create"] == sh_command(
        provision_host_script("worker-1", files, 45)
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"confirm_timeout": 2}, r"apply\.confirm_timeout: .*greater than or equal to 5"),
        ({"confirm_timeout": 7200}, r"apply\.confirm_timeout: .*less than or equal to 3600"),
        ({"timeout": 60}, r"apply\.timeout: unknown key"),
    ],
)
def test_a_bad_timeout_is_an_error_naming_its_path(value, message):
    with pytest.raises(ConfigError, match=message):
        parse_stack_config(changed(stack_values("dev"), "apply", value))


STUB = """#!/bin/sh
printf '%s\\n' "$(basename "$0") $*" >> "{log}"
"""


def test_where_systemd_runs_the_watchdog_is_a_transient_timer(scratch, tmp_path):
    """A private mount namespace with /run/systemd/system, and stubs that record what the
    scripts ask systemd-run and systemctl: nothing of this machine's systemd is touched."""
    log, stubs = tmp_path / "systemd.log", tmp_path / "stubs"
    stubs.mkdir()
    for tool in ("systemd-run", "systemctl"):
        (stubs / tool).write_text(STUB.format(log=log))
        (stubs / tool).chmod(0o755)
    new = changed_netplan(scratch)
    arm = arm_host_script("m1", new, 7, str(scratch.root), scratch.reloads, "auto")
    confirm = confirm_host_script("m1", new, str(scratch.root))
    scratch.install(new[:1])
    script = (
        "mount -t tmpfs lanes-test /run && mkdir -p /run/systemd/system && "
        f'PATH="{stubs}:$PATH" && export PATH && dash -c "$1" && dash -c "$2"'
    )
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "-", arm, confirm],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    run, stop = log.read_text().splitlines()
    txn = str(scratch.root / "var/lib/lanes/txn")
    words = run.split()
    assert words[:3] == ["systemd-run", "--quiet", words[2]]
    unit = words[2].removeprefix("--unit=")
    assert unit.startswith("lanes-rollback-")
    assert words[3:] == [
        "--on-active=7s",
        "--timer-property=AccuracySec=1s",
        "/bin/sh",
        f"{txn}/{unit.removeprefix('lanes-rollback-')}/rollback.sh",
        f"{txn}/{unit.removeprefix('lanes-rollback-')}",
    ]
    assert stop == f"systemctl stop {unit}.timer"
    assert "confirmed" in proc.stdout
