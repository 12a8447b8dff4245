"""The apply/delete scripts over real SSH against a namespace host, in a scratch root.

The namespaces share this machine's filesystem, so every script runs with ``root`` set to a
directory of the lab's own state dir: nothing here may write /etc of this machine.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest

from lanes.config.stackfile import load_stack
from lanes.lab.netns import SshClient
from lanes.model.hostnet import HostNet, build_host_net
from lanes.render.scripts import (
    HostFile,
    apply_script,
    delete_script,
    host_files,
    prepare_script,
    sh_command,
)
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT

REAL_TARGETS = [
    Path("/etc/netplan/60-lanes.yaml"),
    Path("/etc/sysctl.d/60-lanes.conf"),
    Path("/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf"),
]


@functools.cache
def master() -> HostNet:
    plan = checked_plan(load_stack(ROOT, "dev")).plan
    return build_host_net(plan.host("master-1"), plan)


class Remote:
    """A namespace stand-in for dev's master-1, reached from a deploy host over SSH."""

    def __init__(self, lab, via_jump: bool = False):
        mgmt, outer = lab.segment("mgmt"), lab.segment("outer")
        deploy, target = lab.host("deploy"), lab.host("master")
        lab.link(target, mgmt, "eth0", ["100.64.0.2/21"])
        lab.link(target, lab.segment("traffic"), "eth1", ["100.64.32.2/21"])
        lab.link(target, lab.segment("storage"), "eth2", ["100.64.64.2/21"])
        proxy = None
        if via_jump:
            jump = lab.host("jump")
            lab.link(deploy, outer, "eth0", ["192.168.0.105/24"])
            lab.link(jump, outer, "eth0", ["192.168.0.52/24"])
            lab.link(jump, mgmt, "eth1", ["100.64.0.52/21"])
            proxy = jump.start_sshd(listen=["192.168.0.52"])
        else:
            lab.link(deploy, mgmt, "eth0", ["100.64.0.105/21"])
        self.ssh = SshClient(target.start_sshd(listen=["100.64.0.2"]), deploy, proxy=proxy)
        self.root = lab.state_dir / "root"
        self.marker = lab.state_dir / "reloaded"
        self.reload = (("touch", str(self.marker)),)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def run(self, script: str):
        return self.ssh.run(sh_command(script))

    def stage(self, file: HostFile) -> None:
        assert self.run(prepare_script(str(self.root))).exit_code == 0
        self.ssh.copy(file.content, str(self.path(file.staged_path)))

    def apply(self, file: HostFile):
        self.stage(file)
        return self.run(apply_script(file, str(self.root), self.reload))

    def delete(self, file: HostFile):
        return self.run(delete_script(file, str(self.root), self.reload))

    def reloaded(self) -> bool:
        """Whether the reload ran since the last call."""
        ran = self.marker.exists()
        self.marker.unlink(missing_ok=True)
        return ran


@pytest.fixture
def remote(netlab):
    before = [p.exists() for p in REAL_TARGETS]
    yield Remote(netlab)
    assert [p.exists() for p in REAL_TARGETS] == before  # this machine's /etc untouched


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_files_land_second_run_changes_nothing_delete_restores(remote):
    files = {f.kind: f for f in host_files(master())}
    assert set(files) == {"netplan", "sysctl", "kubelet"}
    netplan = remote.path(files["netplan"].path)
    netplan.parent.mkdir(parents=True)
    netplan.write_text("# the host's own netplan file\n")
    netplan.chmod(0o644)

    for kind, file in files.items():
        target = remote.path(file.path)
        first = remote.apply(file)
        assert (first.exit_code, first.stdout) == (0, f"lanes: {kind}: changed {target}\n"), first
        assert target.read_text() == file.content
        assert mode(target) == int(file.mode, 8)
        assert remote.reloaded()

        second = remote.run(apply_script(file, str(remote.root), remote.reload))
        assert (second.exit_code, second.stdout) == (0, f"lanes: {kind}: unchanged {target}\n")
        assert not remote.reloaded()
        assert target.read_text() == file.content

    assert remote.path("/etc/netplan/60-lanes.yaml").read_text() == files["netplan"].content
    assert remote.path("/etc/sysctl.d/60-lanes.conf").read_text() == files["sysctl"].content
    assert (
        "--node-ip=100.64.0.2"
        in remote.path("/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf").read_text()
    )

    gone = remote.delete(files["netplan"])
    assert (gone.exit_code, gone.stdout) == (0, f"lanes: netplan: restored {netplan}\n")
    assert netplan.read_text() == "# the host's own netplan file\n" and mode(netplan) == 0o644
    assert remote.reloaded()
    sysctl = remote.path(files["sysctl"].path)
    removed = remote.delete(files["sysctl"])
    assert (removed.exit_code, removed.stdout) == (0, f"lanes: sysctl: removed {sysctl}\n")
    assert not sysctl.exists()
    assert not remote.path(files["sysctl"].staged_path).exists()
    again = remote.delete(files["sysctl"])
    assert again.stdout == f"lanes: sysctl: unchanged {sysctl} (nothing to restore)\n"
    assert remote.reloaded()  # once, for the removal; the no-op delete reloads nothing
    assert not remote.reloaded()
    assert not list(remote.path("/var/lib/lanes/backup/etc/sysctl.d").iterdir())


def test_a_replacement_keeps_the_new_file_and_the_original_backup(remote):
    old = next(f for f in host_files(master()) if f.kind == "sysctl")
    new = HostFile(
        old.kind, old.path, old.mode, old.content + "net.ipv4.tcp_syncookies = 1\n", old.reload
    )
    target = remote.path(old.path)
    target.parent.mkdir(parents=True)
    target.write_text("vm.swappiness = 10\n")

    assert remote.apply(old).exit_code == 0
    # Pulumi creates the replacement first, then deletes the old resource.
    assert remote.apply(new).stdout == f"lanes: sysctl: changed {target}\n"
    left = remote.delete(old)
    assert left.stdout == (
        f"lanes: sysctl: {target} no longer holds what this resource installed: left alone\n"
    )
    assert target.read_text() == new.content
    assert remote.path(new.staged_path).exists() and not remote.path(old.staged_path).exists()
    assert remote.delete(new).stdout == f"lanes: sysctl: restored {target}\n"
    assert target.read_text() == "vm.swappiness = 10\n"


def test_a_failed_reload_puts_the_previous_file_back(remote):
    sysctl = host_files(master())[1]
    assert remote.apply(sysctl).exit_code == 0
    before = remote.path(sysctl.path).read_bytes()
    changed = HostFile(
        sysctl.kind, sysctl.path, sysctl.mode, sysctl.content + "# v2\n", sysctl.reload
    )
    remote.stage(changed)
    failing = (("touch", str(remote.marker)), ("false",))
    result = remote.run(apply_script(changed, str(remote.root), failing))
    assert result.exit_code == 1
    assert "reload failed; putting back the previous" in result.stderr
    assert remote.path(sysctl.path).read_bytes() == before
    assert not remote.path(sysctl.path + ".lanes-prev").exists()
    # Nothing was there before lanes: a failed first install leaves nothing behind.
    kubelet = host_files(master())[2]
    remote.stage(kubelet)
    result = remote.run(apply_script(kubelet, str(remote.root), failing))
    assert result.exit_code == 1
    assert not remote.path(kubelet.path).exists()


def test_a_staged_file_that_does_not_match_its_hash_is_refused(remote):
    file = next(f for f in host_files(master()) if f.kind == "kubelet")
    remote.stage(file)
    remote.path(file.staged_path).write_text("[Service]\nExecStart=/bin/evil\n")
    result = remote.run(apply_script(file, str(remote.root), remote.reload))
    assert result.exit_code == 1
    assert f"is missing or is not sha256 {file.sha256}" in result.stderr
    assert not remote.path(file.path).exists()
    assert not remote.reloaded()


def test_scripts_reach_a_host_behind_the_jump_host(netlab):
    remote = Remote(netlab, via_jump=True)
    file = next(f for f in host_files(master()) if f.kind == "netplan")
    result = remote.apply(file)
    assert result.stdout == f"lanes: netplan: changed {remote.path(file.path)}\n"
    assert remote.path(file.path).read_text() == file.content


@pytest.mark.parametrize(
    "change",
    [
        {"path": "/etc/netplan/60-lanes.yaml;reboot"},
        {"path": "/etc/netplan/$(reboot).yaml"},
        {"path": "/etc/../root/.ssh/authorized_keys"},
        {"path": "etc/netplan/relative.yaml"},
        {"kind": "net plan"},
        {"mode": "0600'"},
        {"reload": (("netplan", "apply;reboot"),)},
    ],
)
def test_unsafe_values_never_reach_a_script(change):
    base = next(f for f in host_files(master()) if f.kind == "netplan")
    fields = {
        "kind": base.kind,
        "path": base.path,
        "mode": base.mode,
        "content": base.content,
        "reload": base.reload,
    } | change
    with pytest.raises(ValueError, match="is not allowed in a script|must not contain"):
        HostFile(**fields)


@pytest.mark.parametrize("root", ["/tmp/a b", "/tmp/x'y", "relative/root", "/tmp/$(id)"])
def test_unsafe_roots_are_refused(root):
    base = host_files(master())[0]
    with pytest.raises(ValueError, match="root"):
        apply_script(base, root)


def test_every_script_is_posix_sh():
    scripts = [prepare_script()]
    for file in host_files(master()):
        scripts += [apply_script(file), delete_script(file)]
    for script in scripts:
        assert script.startswith("set -eu\n")
        proc = subprocess.run(["dash", "-n"], input=script, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
