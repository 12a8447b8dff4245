"""The one SSH client of lanes: OpenSSH's ssh and sftp, host keys pinned, an optional jump host.

``SshClient.run`` sends a command as one string that the remote user's shell executes and
``copy`` uploads over SFTP: the two things ``remote.Command`` and ``remote.CopyToRemote`` do.
The client runs from an *origin*: this machine (``LocalOrigin``, verify against real hosts) or
a namespace of the lab (``lanes.lab.netns.NsHost``), which wraps the argv and lends a scratch
folder for the known_hosts file and uploads. known_hosts and ProxyCommand are written only from
validated endpoints: an address or host name, a port, and one OpenSSH public key.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import shlex
import subprocess
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from lanes.config.base import check_host_key

__all__ = [
    "SshError",
    "SshEndpoint",
    "SshResult",
    "Origin",
    "LocalOrigin",
    "SshClient",
]

_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z")
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")
_REMOTE_PATH_RE = re.compile(r'^/[^"\n\r\\]*\Z')


class SshError(RuntimeError):
    """An SSH or SFTP step failed; the message names the endpoint and the exit code."""


def _check_host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if not _HOSTNAME_RE.match(value):
        raise ValueError(f"ssh host {value!r} is neither an address nor a host name")
    return value


@dataclass(frozen=True)
class SshEndpoint:
    """Where and how to reach one sshd: address, port, user, client key, pinned host key."""

    host: str
    port: int
    user: str
    key_path: Path
    host_key: str  # "ssh-ed25519 AAAA..." as in the server's .pub file, without comment

    def __post_init__(self) -> None:
        _check_host(self.host)
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValueError(f"ssh port {self.port!r} is outside 1..65535")
        if not _USER_RE.match(self.user):
            raise ValueError(f"ssh user {self.user!r} is not a user name")
        check_host_key(self.host_key)

    def known_hosts_line(self) -> str:
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        return f"{name} {self.host_key}"

    def at(self, host: str) -> SshEndpoint:
        """The same sshd reached on another of its addresses."""
        return replace(self, host=host)


@dataclass(frozen=True)
class SshResult:
    exit_code: int
    stdout: str
    stderr: str


class Origin(Protocol):
    """Where the ssh client runs: wraps its argv and lends a scratch folder."""

    scratch_dir: Path

    def argv(self, argv: list[str]) -> list[str]: ...

    def next_id(self) -> int: ...


class LocalOrigin:
    """This machine as the origin: argv as it is, scratch files in ``scratch_dir``."""

    def __init__(self, scratch_dir: Path):
        self.scratch_dir = scratch_dir
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def argv(self, argv: list[str]) -> list[str]:
        return argv

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)


class SshClient:
    """An ssh/sftp client run from ``origin``, pinned to the target's (and jump's) host key."""

    error: type[Exception] = SshError

    def __init__(self, target: SshEndpoint, origin: Origin, proxy: SshEndpoint | None = None):
        self.target = target
        self.origin = origin
        self.proxy = proxy
        self.known_hosts = origin.scratch_dir / "clients" / f"known_hosts-{origin.next_id()}"
        self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
        pinned = [e.known_hosts_line() for e in (target, proxy) if e is not None]
        self.known_hosts.write_text("\n".join(pinned) + "\n")

    def _options(self, endpoint: SshEndpoint) -> list[str]:
        options = {
            "IdentitiesOnly": "yes",
            "StrictHostKeyChecking": "yes",
            "UserKnownHostsFile": str(self.known_hosts),
            "GlobalKnownHostsFile": "/dev/null",
            "UpdateHostKeys": "no",
            "BatchMode": "yes",
            # The TCP connect and the server's banner, per hop: 15 s as the command provider's
            # per-dial timeout (the engine reaches the same hosts). 5 s timed out in the banner
            # exchange on a loaded deploy host (20 sshds starting sessions at once).
            "ConnectTimeout": "15",
            "LogLevel": "ERROR",
        }
        argv = ["-F", "/dev/null", "-i", str(endpoint.key_path)]
        for key, value in options.items():
            argv += ["-o", f"{key}={value}"]
        return argv

    def _common(self) -> list[str]:
        opts = self._options(self.target)
        if self.proxy is not None:
            jump = self.proxy
            hop = ["ssh", *self._options(jump), "-p", str(jump.port), "-W", "%h:%p"]
            opts += ["-o", f"ProxyCommand={shlex.join([*hop, f'{jump.user}@{jump.host}'])}"]
        return opts

    def run(
        self,
        command: str,
        stdin: str | bytes | None = None,
        check: bool = False,
        timeout: float = 60,
    ) -> SshResult:
        t = self.target
        argv = ["ssh", *self._common(), "-T", "-p", str(t.port), f"{t.user}@{t.host}", "--"]
        data = stdin.encode() if isinstance(stdin, str) else stdin
        proc = subprocess.run(
            self.origin.argv([*argv, command]),
            input=data,
            stdin=None if data is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
        result = SshResult(
            proc.returncode,
            proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"),
        )
        if check and result.exit_code != 0:
            raise self.error(
                f"ssh {t.user}@{t.host}: {command!r}: exit {result.exit_code}: "
                f"{result.stderr.strip()}"
            )
        return result

    def copy(
        self, content: str | bytes, remote_path: str, mode: int | None = None, timeout: float = 60
    ) -> None:
        if not _REMOTE_PATH_RE.match(remote_path):
            raise ValueError(f"remote_path: {remote_path!r} is not a plain absolute path")
        upload_dir = self.origin.scratch_dir / "uploads"
        upload_dir.mkdir(parents=True, exist_ok=True)
        local = upload_dir / f"upload-{self.origin.next_id()}"
        local.write_bytes(content.encode() if isinstance(content, str) else content)
        batch = [f'put "{local}" "{remote_path}"']
        if mode is not None:
            batch.append(f'chmod {mode:o} "{remote_path}"')
        t = self.target
        argv = ["sftp", *self._common(), "-q", "-b", "-", "-P", str(t.port), f"{t.user}@{t.host}"]
        try:
            proc = subprocess.run(
                self.origin.argv(argv),
                input="\n".join(batch) + "\n",
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        finally:
            local.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise self.error(
                f"sftp {t.user}@{t.host}:{remote_path}: exit {proc.returncode}: "
                f"{proc.stderr.strip()}"
            )
