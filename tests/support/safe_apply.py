"""Hosts and gateways applied in a lab the way their components do: one step that stages, arms
and applies, then the confirmation.

Each step is its own SSH connection from the deploy box, as each of the component's Commands
is, so the confirm step reaches the host afresh through the configuration just applied. The
scripts are the components' own; the host's ``netplan apply`` (the lab's stand-in) really
changes the namespace's network, so a bad file cuts the host off, and its rollback brings it
back. Unlike ``lanes.lab.provision``, every step runs whatever the host holds, and a failing
step is the outcome, not an error: the rehearsals look at what the host does about it.

The confirm window counts from the arm, inside the apply step's session: the rest of that
session and the confirm step's new SSH session (through the jump host for most hosts) must fit in
it, which takes seconds on a loaded machine. A change that must be confirmed is armed with
``CONFIRM_WINDOW``; a test that waits out a window to see that nothing rolls back counts it from
``Outcome.armed`` (the apply step's return: the watchdog was running by then), never from the
confirmation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lanes.intents.gateway import GatewayModel
from lanes.lab.netns import SshClient
from lanes.lab.remote import LabHosts
from lanes.render.gateway_scripts import render_gateway
from lanes.render.scripts import (
    HostFile,
    confirm_host_script,
    host_stdin,
    provision_host_script,
    sh_command,
)

__all__ = [
    "CONFIRM_WINDOW",
    "Outcome",
    "safe_apply_host",
    "safe_apply_gateway",
    "wait_for_ssh",
    "wait_out",
]

# Seconds from arming to rollback for a change the test expects to be confirmed: room for the
# steps' SSH sessions on a loaded machine (the default of ``lanes:apply.confirm_timeout`` is 120).
CONFIRM_WINDOW = 30


@dataclass(frozen=True)
class Outcome:
    """How a safe apply of one host ended: ``step`` is the step that failed, None if confirmed."""

    host: str
    step: str | None
    message: str
    # time.monotonic() when the apply step (which arms) returned (None: it did not run);
    # not part of equality.
    armed: float | None = field(default=None, compare=False)

    @property
    def confirmed(self) -> bool:
        return self.step is None


def safe_apply_host(
    hosts: LabHosts, name: str, files: tuple[HostFile, ...], timeout: int
) -> Outcome:
    """The one apply step (every file on stdin: staged, armed, applied), then the confirm step:
    stops at the first failing step, as the engine stops a resource's dependents."""
    # A step cut off by its own change waits for the rollback to bring the host back.
    patience = timeout + 90
    steps = [
        ("apply", provision_host_script(name, files, timeout), host_stdin(files)),
        ("confirm", confirm_host_script(name, files), None),
    ]
    armed = None
    for step, script, stdin in steps:
        result = hosts.session(name).run(sh_command(script), stdin=stdin, timeout=patience)
        if step == "apply":
            # the arm happens inside this session: its window has surely started by its end
            armed = time.monotonic()
        if result.exit_code != 0:
            said = result.stderr.strip() or f"ssh exit {result.exit_code}"
            return Outcome(name, step, f"{name}-{step}: {said}", armed)
    return Outcome(name, None, f"{name}: confirmed", armed)


def wait_out(outcome: Outcome, window: int) -> None:
    """Sleep until the watchdog armed with ``window`` would have fired (plus a second)."""
    assert outcome.armed is not None, outcome
    time.sleep(max(0.0, outcome.armed + window + 1 - time.monotonic()))


def wait_for_ssh(ssh: SshClient, within: float) -> float:
    """Seconds until the host answers a new SSH session; TimeoutError if not ``within``."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if ssh.run("true", timeout=10).exit_code == 0:
            return time.monotonic() - start
        time.sleep(0.2)
    raise TimeoutError(f"{ssh.target.host} did not answer SSH within {within:.0f}s")


def safe_apply_gateway(hosts: LabHosts, model: GatewayModel, timeout: int) -> Outcome:
    """The one apply step (files on stdin), then confirm through the management path, as
    EdgeGateway."""
    files = render_gateway(model, timeout=timeout)
    patience = timeout + 90
    armed = None
    for step, script, stdin in (
        ("apply", files.provision, files.stdin),
        ("confirm", files.confirm, None),
    ):
        if step == "confirm":
            ssh = hosts.prov.confirm_session(model)
        else:
            ssh = hosts.session(model.host)
        result = ssh.run(sh_command(script), stdin=stdin, timeout=patience)
        if step == "apply":
            # the arm happens inside this session: its window has surely started by its end
            armed = time.monotonic()
        if result.exit_code != 0:
            said = result.stderr.strip() or f"ssh exit {result.exit_code}"
            return Outcome(model.name, step, f"{model.name}-{step}: {said}", armed)
    return Outcome(model.name, None, f"{model.name}: confirmed", armed)
