"""The lab's own processes (sshds, BIRD, etcd, the API server): is one alive, is a pid still the
process that was recorded (its kernel start time), and stopping a set of them."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["start_time", "alive", "stop_processes"]


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> str | None:
    """The kernel start time of pid, so a recycled pid is never mistaken for ours."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def alive(pid: int) -> bool:
    """pid runs (a zombie does not)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def stop_processes(pids: Iterable[int], term_grace: float, kill_grace: float) -> None:
    """SIGTERM, wait up to ``term_grace`` seconds, then SIGKILL what is left and wait up to
    ``kill_grace``; a pid already gone is no error."""
    pids = list(pids)
    for sig, grace in ((signal.SIGTERM, term_grace), (signal.SIGKILL, kill_grace)):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.02)
        if not any(alive(p) for p in pids):
            return
