"""A gateway's reboot in a lab: what a reboot takes away, then what the boot units bring back.

A namespace has no systemd to boot, so the emulation is: every nft table of the namespace
flushed away, the lanes nginx killed, forwarding off (a fresh kernel), then the start commands
(``ExecStartPre``/``ExecStart``) of each enabled lanes unit run in the namespace, in unit order,
skipping a unit whose ``ConditionPathExists`` does not hold, as systemd would.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from lanes.intents.gateway import GatewayPaths
from lanes.lab.netns import LabError, NsHost
from lanes.render.systemd import NGINX_UNIT, TABLE_UNIT, start_commands, unit_dir

__all__ = ["power_off", "boot"]

_WANTED_BY = {TABLE_UNIT: "sysinit.target", NGINX_UNIT: "multi-user.target"}


def power_off(ns: NsHost, paths: GatewayPaths) -> None:
    """What a reboot loses: the ruleset, the lanes nginx, forwarding."""
    ns.run(["nft", "flush", "ruleset"])
    pid_file = Path(paths.nginx_pid)
    if pid_file.exists():
        master = int(pid_file.read_text().split()[0])
        doomed = [master, *_children(master)]  # the workers would outlive their master
        for pid in doomed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while any(Path(f"/proc/{p}").exists() for p in doomed) and time.monotonic() < deadline:
            time.sleep(0.05)
        pid_file.unlink()
    ns.sysctl("net.ipv4.ip_forward", 0)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def boot(ns: NsHost, paths: GatewayPaths) -> list[list[str]]:
    """Start every enabled lanes unit as systemd would; returns the commands run."""
    ran = []
    for name in (TABLE_UNIT, NGINX_UNIT):
        link = Path(unit_dir(paths)) / f"{_WANTED_BY[name]}.wants" / name
        if not link.exists():
            continue
        content = link.read_text()
        conditions = [
            line.partition("=")[2]
            for line in content.splitlines()
            if line.startswith("ConditionPathExists=")
        ]
        if not all(Path(c).exists() for c in conditions):
            continue
        for argv in start_commands(content):
            proc = ns.run(argv, check=False)
            if proc.returncode != 0:
                raise LabError(f"{name}: {' '.join(argv)}: exit {proc.returncode}: {proc.stderr}")
            ran.append(argv)
    return ran
