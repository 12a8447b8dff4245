"""The SSH connection of a remote Command or CopyToRemote (pinned host keys, optional jump host),
and the remote Command as lanes declares it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_command import remote

__all__ = ["SshTarget", "connection_args", "command"]


@dataclass(frozen=True)
class SshTarget:
    """Where an SSH connection goes and the host key it must present (pinned, never learned)."""

    host: str
    port: int
    user: str
    host_key: str | None


def connection_args(
    target: SshTarget, proxy: SshTarget | None, private_key: pulumi.Input[str]
) -> remote.ConnectionArgs:
    """Key auth with the stack's secret key; each host key pinned, never learned."""
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


def command(name: str, **kwargs: Any) -> remote.Command:
    """A remote Command whose session carries no ``PULUMI_COMMAND_STDOUT``/``_STDERR``: lanes'
    scripts never read the previous run's output, and a stock sshd refuses the variables (its
    ``AcceptEnv`` names only the locale's), which the provider would report on every update and
    delete. Nothing on the hosts needs to change for it."""
    return remote.Command(name, add_previous_output_in_env=False, **kwargs)
