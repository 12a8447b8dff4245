"""The SSH connection of a remote Command or CopyToRemote: pinned host keys, optional jump host."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

__all__ = ["SshTarget", "connection_args"]


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
