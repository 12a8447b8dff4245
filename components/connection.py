"""The SSH connection of a remote Command or CopyToRemote (pinned host keys, optional jump host,
the stack's key or an SSH agent), and the remote Command as lanes declares it."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_command import remote

__all__ = ["AGENT_ENV", "KEY", "SshTarget", "connection_args", "ssh_key", "command"]

KEY = "sshPrivateKey"
AGENT_ENV = "SSH_AUTH_SOCK"


@dataclass(frozen=True)
class SshTarget:
    """Where an SSH connection goes and the host key it must present (pinned, never learned)."""

    host: str
    port: int
    user: str
    host_key: str | None


def connection_args(
    target: SshTarget, proxy: SshTarget | None, private_key: pulumi.Input[str] | None
) -> remote.ConnectionArgs:
    """Key auth, each host key pinned, never learned: with the stack's secret key, or, when
    ``private_key`` is None, with the SSH agent the provider finds in ``SSH_AUTH_SOCK`` (so
    neither the key nor the agent's path is a resource input: the state holds neither)."""
    jump = None
    if proxy is not None:
        jump = remote.ProxyConnectionArgs(
            host=proxy.host,
            port=proxy.port,
            user=proxy.user,
            private_key=private_key,
            host_key=proxy.host_key,
        )
    return remote.ConnectionArgs(
        host=target.host,
        port=target.port,
        user=target.user,
        private_key=private_key,
        host_key=target.host_key,
        proxy=jump,
    )


def _agent_socket() -> str | None:
    """The SSH agent's socket named by ``SSH_AUTH_SOCK``, if it names one."""
    path = os.environ.get(AGENT_ENV, "")
    try:
        return path if path and stat.S_ISSOCK(os.stat(path).st_mode) else None
    except OSError:
        return None


def ssh_key(config: pulumi.Config) -> pulumi.Input[str] | None:
    """The stack's SSH credential: the secret ``lanes:sshPrivateKey`` when it is set (it is then
    in every Command's connection, encrypted in the state); else None, and every step
    authenticates with the SSH agent ``SSH_AUTH_SOCK`` names (no key in the state at all). A
    preview connects nowhere, so it needs neither; ``up`` and ``destroy`` stop here, before any
    step, naming both ways when there is neither."""
    key = config.get_secret(KEY)
    if key is not None:
        return key
    if not pulumi.runtime.is_dry_run() and _agent_socket() is None:
        named = os.environ.get(AGENT_ENV)
        why = (
            f"{AGENT_ENV}={named!r} is not an agent's socket" if named else f"{AGENT_ENV} is unset"
        )
        raise pulumi.RunError(
            f"lanes:{KEY} is not set and {why}: start an SSH agent holding the stack's key "
            f"(`eval $(ssh-agent)`, `ssh-add KEY`) and run pulumi with its {AGENT_ENV}, or set the "
            f"key: `pulumi config set --secret lanes:{KEY} < KEY`"
        )
    return None


def command(name: str, **kwargs: Any) -> remote.Command:
    """A remote Command whose session carries no ``PULUMI_COMMAND_STDOUT``/``_STDERR``: lanes'
    scripts never read the previous run's output, and a stock sshd refuses the variables (its
    ``AcceptEnv`` names only the locale's), which the provider would report on every update and
    delete. Nothing on the hosts needs to change for it."""
    return remote.Command(name, add_previous_output_in_env=False, **kwargs)
