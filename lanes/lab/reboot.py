"""A lab host's reboot: what a reboot takes away, then what the host's boot brings back.

A namespace has no kernel or systemd of its own to reboot, so the emulation is, in the host's
view (``lanes.lab.netns``): the units the stand-in ``systemctl`` started are stopped and ``/run``
is emptied, every other process of the host is killed (the lanes nginx, a watchdog), every nft
table flushed away and forwarding turned off (a fresh kernel); then the host boots
(``lanes.lab.standins``, ``boot``): its network from its netplan files, its sysctl.d files, then
every unit enabled on it, ``sysinit.target``'s first, each only while its
``ConditionPathExists`` holds. The lab's own sshd (the host's way in) survives, as a real
host's sshd comes back.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from lanes.lab.netns import LabError, NsHost

__all__ = ["power_off", "boot", "reboot"]


def _processes(ns: NsHost) -> list[int]:
    """The host's processes (in its view), but the lab's sshd and its sessions."""
    sshd = (ns.read_file("/run/sshd.pid") or "").strip()
    spared = {int(sshd) if sshd.isdigit() else -1, os.getpid()}
    return [pid for pid in ns.processes() if pid not in spared and not _child_of(pid, spared)]


def _child_of(pid: int, parents: set[int]) -> bool:
    """An sshd session (a child of the listener) is the lab's, not the host's."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return int(stat.rsplit(")", 1)[1].split()[1]) in parents


def power_off(ns: NsHost) -> None:
    """What a reboot loses: the units' and every other process of the host, /run, the nft
    ruleset, forwarding."""
    if ns.view_pid is None:
        raise LabError(f"{ns.ns}: only a host with its own view reboots")
    ns.run([sys.executable, "-m", "lanes.lab.standins", "power-off"])
    doomed = _processes(ns)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in doomed:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in doomed):
            time.sleep(0.05)
    ns.run(["nft", "flush", "ruleset"])
    ns.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"])


def boot(ns: NsHost) -> str:
    """The host's boot: network, sysctls, enabled units; what it said."""
    proc = ns.run([sys.executable, "-m", "lanes.lab.standins", "boot"], check=False, timeout=120)
    if proc.returncode != 0:
        raise LabError(f"{ns.ns}: boot: {proc.stderr.strip()}")
    return proc.stdout


def reboot(ns: NsHost) -> str:
    power_off(ns)
    return boot(ns)
