"""Hosts and gateways applied in a lab the way their components do: arm, apply, confirm.

Each step is its own SSH connection from the deploy box, as each of the component's Commands
is, so the confirm step reaches the host afresh through the configuration just applied. The
netplan reload is the lab's ``netplan apply`` (``lanes.lab.netplan_apply``), which really
changes the namespace's network: a bad file cuts the host off, and its rollback brings it back.
The watchdog is the plain-sh one (a namespace shares this machine's systemd, if it has one, and
must never hand it a timer).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from lanes.intents.gateway import GatewayModel, GatewayPaths
from lanes.lab.netns import SshClient
from lanes.lab.remote import LabHosts
from lanes.remote.confirm import confirm_address
from lanes.render.gateway_scripts import render_gateway
from lanes.render.netplan import NETPLAN_PATH
from lanes.render.scripts import (
    HostFile,
    Reload,
    apply_script,
    arm_host_script,
    confirm_host_script,
    prepare_script,
    sh_command,
)
from lanes.render.sysctl import SYSCTL_PATH

__all__ = ["Outcome", "lab_reloads", "safe_apply_host", "safe_apply_gateway", "wait_for_ssh"]


@dataclass(frozen=True)
class Outcome:
    """How a safe apply of one host ended: ``step`` is the step that failed, None if confirmed."""

    host: str
    step: str | None
    message: str

    @property
    def confirmed(self) -> bool:
        return self.step is None


def lab_reloads(root: str) -> dict[str, Reload]:
    """The reload of each host file in a namespace (no networkd, no kubelet)."""
    return {
        "netplan": ((sys.executable, "-m", "lanes.lab.netplan_apply", root + NETPLAN_PATH),),
        "sysctl": (("sysctl", "-q", "-p", root + SYSCTL_PATH),),
        "kubelet": (("true",),),
    }


def safe_apply_host(
    hosts: LabHosts, name: str, files: tuple[HostFile, ...], timeout: int
) -> Outcome:
    """prepare, copy, arm, apply each file, confirm: stops at the first failing step, as the
    engine stops a resource's dependents."""
    root = hosts.root(name)
    reloads = lab_reloads(root)
    # A step cut off by its own change waits for the rollback to bring the host back.
    patience = timeout + 90
    steps = [("prepare", prepare_script(root))]
    steps.append(("arm", arm_host_script(name, files, timeout, root, reloads, watchdog="sh")))
    steps += [(f"{f.kind}-apply", apply_script(f, root, reloads[f.kind])) for f in files]
    steps.append(("confirm", confirm_host_script(name, files, root)))
    for step, script in steps:
        ssh = hosts.session(name)
        if step == "arm":
            for file in files:
                ssh.copy(file.content, root + file.staged_path)
        result = ssh.run(sh_command(script), timeout=patience)
        if result.exit_code != 0:
            said = result.stderr.strip() or f"ssh exit {result.exit_code}"
            return Outcome(name, step, f"{name}-{step}: {said}")
    return Outcome(name, None, f"{name}: confirmed")


def wait_for_ssh(ssh: SshClient, within: float) -> float:
    """Seconds until the host answers a new SSH session; TimeoutError if not ``within``."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if ssh.run("true", timeout=10).exit_code == 0:
            return time.monotonic() - start
        time.sleep(0.2)
    raise TimeoutError(f"{ssh.target.host} did not answer SSH within {within:.0f}s")


def _management_path(hosts: LabHosts, model: GatewayModel) -> SshClient:
    """As EdgeGateway's confirm step: through the jump host when ``confirm_address`` says so."""
    prov = hosts.prov
    plan = prov.site.plan
    address, jump = confirm_address(plan, model), plan.ssh.jump
    jumps = [h for h in plan.stack_hosts() if jump and h.ssh.address == jump.address]
    if address is None or jump is None or not jumps:
        return hosts.session(model.host)
    target = prov.endpoint(model.host, address)
    return SshClient(target, prov.deploy, prov.endpoint(jumps[0].name, jump.address))


def safe_apply_gateway(hosts: LabHosts, model: GatewayModel, timeout: int) -> Outcome:
    """prepare, arm, copy, apply, confirm through the management path, as EdgeGateway."""
    root = hosts.root(model.host)
    files = render_gateway(model, GatewayPaths(root), timeout=timeout, watchdog="sh")
    patience = timeout + 90
    copies = [(files.ruleset, files.paths.ruleset)]
    if files.nginx is not None:
        copies.append((files.nginx, files.paths.nginx_conf))
    for step, script in (
        ("prepare", files.prepare),
        ("arm", files.arm),
        ("apply", files.apply),
        ("confirm", files.confirm),
    ):
        ssh = _management_path(hosts, model) if step == "confirm" else hosts.session(model.host)
        if step == "apply":
            for content, path in copies:
                ssh.copy(content, path)
        result = ssh.run(sh_command(script), timeout=patience)
        if result.exit_code != 0:
            said = result.stderr.strip() or f"ssh exit {result.exit_code}"
            return Outcome(model.name, step, f"{model.name}-{step}: {said}")
    return Outcome(model.name, None, f"{model.name}: confirmed")
