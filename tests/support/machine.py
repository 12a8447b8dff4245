"""This machine's own /etc, /var/lib and sysctls, before and after a lab: nothing may change.

A lab host writes to its own view (``lanes.lab.netns``): the upper layers of its /etc and
/var/lib overlays. ``MachineGuard`` records this machine's /etc (every file's SHA-256), /var/lib
(every file's size and mtime) and the kernel keys any lab host's ``sysctl --system`` could set
(every key of this machine's sysctl.d files, and every key lanes renders, in this machine's own
network namespace); ``assert_unchanged`` compares them afterwards at every path a lab host
wrote (the union of the views' upper layers, plus lanes' own paths), so other processes of a
shared machine changing unrelated files never count.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from lanes.lab.netns import STATE_ROOT, VIEWS
from lanes.lab.standins.sysctl import parse, system_files

__all__ = ["MachineGuard", "LANES_PATHS"]

# Where lanes writes on a real host: never on this machine.
LANES_PATHS = (
    "/etc/netplan/50-lab.yaml",
    "/etc/netplan/60-lanes.yaml",
    "/etc/sysctl.d/60-lanes.conf",
    "/etc/sysctl.d/61-lanes-gateway.conf",
    "/etc/lanes",
    "/etc/systemd/system/lanes-gateway.service",
    "/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf",
    "/var/lib/lanes",
)


def _files(root: str, content: bool) -> dict[str, str]:
    found = {}
    for path in Path(root).rglob("*"):
        try:
            if path.is_symlink():
                found[str(path)] = "-> " + str(path.readlink())
            elif path.is_file():
                st = path.stat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest() if content else ""
                found[str(path)] = f"{st.st_size} {st.st_mtime_ns} {st.st_mode:o} {digest}"
        except OSError:
            continue
    return found


def _sysctl_keys(extra: set[str]) -> list[str]:
    keys = set(extra) | {"net.ipv4.ip_forward"}
    for file in system_files():
        try:
            keys |= {key for key, _, _ in parse(file.read_text(errors="replace"))}
        except OSError:
            continue
    return sorted(k for k in keys if "*" not in k)


def _sysctls(keys: list[str]) -> dict[str, str]:
    values = {}
    for key in keys:
        proc = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True)
        values[key] = proc.stdout.strip() if proc.returncode == 0 else f"({proc.stderr.strip()})"
    return values


class MachineGuard:
    """This machine's state a lab must not touch; snapshot at creation."""

    def __init__(self, sysctl_keys: set[str] | None = None):
        self.keys = _sysctl_keys(sysctl_keys or set())
        self.etc = _files("/etc", content=True)
        self.var_lib = _files("/var/lib", content=False)
        self.sysctls = _sysctls(self.keys)
        self.seen: set[str] = set()

    def note_views(self, prefix: str) -> None:
        """Remember every path the lab's hosts wrote (call before the lab goes down)."""
        views = STATE_ROOT / prefix / VIEWS
        for layer, real in (("etc", "/etc"), ("var-lib", "/var/lib")):
            for upper in views.glob(f"*/{layer}/upper"):
                for path in upper.rglob("*"):
                    self.seen.add(real + "/" + str(path.relative_to(upper)))

    def changes(self) -> list[str]:
        """Every path a lab host wrote, or lanes writes, whose state on this machine changed,
        and every guarded kernel key whose value changed."""
        now_etc = _files("/etc", content=True)
        now_var_lib = _files("/var/lib", content=False)
        changed = []
        for path in sorted(self.seen | set(LANES_PATHS)):
            before, after = (
                (self.etc, now_etc) if path.startswith("/etc/") else (self.var_lib, now_var_lib)
            )
            if before.get(path) != after.get(path) or (path in LANES_PATHS and Path(path).exists()):
                changed.append(path)
        now = _sysctls(self.keys)
        changed += [
            f"sysctl {k}: {self.sysctls[k]} -> {now[k]}"
            for k in self.keys
            if now[k] != self.sysctls[k]
        ]
        return changed
