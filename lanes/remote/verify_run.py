"""Run ``lanes verify``: reach every target over SSH, collect its live state, compare.

Real hosts are reached the way the stack's Commands reach them: the stack's user and jump host,
each host's SSH address and port, and host keys pinned from the config (a host without a
pinned key is refused, never trusted on first use). The private key is a Pulumi secret that
only the Pulumi CLI decrypts, so verify takes a key file (``--identity``) instead. The lab
(``lanes.lab.remote``) hands in its own sessions of the same client (``lanes.remote.ssh``); everything after the connection is the same.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lanes.model.plan import HostPlan, Plan
from lanes.remote.ssh import LocalOrigin, SshClient, SshEndpoint
from lanes.remote.verify import Drift, Target, collect_script, compare, parse_live
from lanes.render.scripts import sh_command

__all__ = ["Outcome", "verify_targets", "RealHosts", "VerifyError"]

WORKERS = 8


class VerifyError(ValueError):
    """The stack cannot be verified as configured (a missing host key, a missing key file)."""


SessionOf = Callable[[str], SshClient]


@dataclass(frozen=True)
class Outcome:
    """One target's result: its drifts, or why it could not be verified."""

    target: str
    drifts: tuple[Drift, ...]
    error: str | None = None


def _verify_one(target: Target, session_of: SessionOf) -> Outcome:
    try:
        result = session_of(target.name).run(sh_command(collect_script(target)))
    except Exception as exc:  # noqa: BLE001 - one unreachable host must not hide the others
        return Outcome(target.name, (), f"cannot connect: {exc}")
    if result.exit_code != 0:
        detail = result.stderr.strip().splitlines()[-1:] or ["no message"]
        return Outcome(target.name, (), f"ssh exit {result.exit_code}: {detail[0]}")
    try:
        live = parse_live(result.stdout)
    except ValueError as exc:
        return Outcome(target.name, (), str(exc))
    return Outcome(target.name, tuple(compare(target, live)))


def verify_targets(
    targets: list[Target], session_of: SessionOf, workers: int = WORKERS
) -> list[Outcome]:
    """Every target, side by side; outcomes in target order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda t: _verify_one(t, session_of), targets))


class RealHosts:
    """Sessions to the stack's real hosts, as the stack's ssh settings say."""

    def __init__(self, plan: Plan, identity: Path):
        if not identity.is_file():
            raise VerifyError(f"--identity: {identity} is not a file")
        self.plan = plan
        self.identity = identity
        self._dir = tempfile.TemporaryDirectory(prefix="lanes-verify-")
        self.origin = LocalOrigin(Path(self._dir.name))
        self.endpoints = {h.name: self._endpoint(h) for h in plan.stack_hosts()}
        self.jump = self._jump()

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> RealHosts:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _endpoint(self, host: HostPlan) -> SshEndpoint:
        ssh = host.ssh
        if ssh.host_key is None:
            raise VerifyError(f"{host.path}.ssh.host_key: not set; verify only trusts pinned keys")
        address = host.ssh_address
        if address is None:
            nodes = self.plan.kinds.nodes_network
            raise VerifyError(f"{host.path}.ssh.address: {host.name} has no {nodes} address")
        return SshEndpoint(address, ssh.port, self.plan.ssh.user, self.identity, ssh.host_key)

    def _jump(self) -> SshEndpoint | None:
        jump = self.plan.ssh.jump
        if jump is None:
            return None
        if jump.host_key is None:
            raise VerifyError("ssh.jump.host_key: not set; verify only trusts pinned keys")
        return SshEndpoint(jump.address, jump.port, jump.user, self.identity, jump.host_key)

    def session(self, name: str) -> SshClient:
        host = self.plan.host(name)
        assert host is not None
        target, jump = self.endpoints[name], self.jump
        # The jump host itself, and hosts that do not go through it, are reached directly.
        through = jump is not None and host.ssh.via_jump and target.host != jump.host
        return SshClient(target, self.origin, jump if through else None)
