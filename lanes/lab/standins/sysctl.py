"""The lab's ``sysctl --system``: the host's sysctl.d files, their ``net.`` keys only.

What ``systemd-sysctl`` and ``sysctl --system`` do at boot and after a drop-in changes: read
``/etc/sysctl.d``, ``/run/sysctl.d``, ``/usr/local/lib/sysctl.d``, ``/usr/lib/sysctl.d`` and
``/lib/sysctl.d`` (a file name found in an earlier folder hides the later ones), in file name
order, then ``/etc/sysctl.conf``, and set each key. A lab host owns only its network
namespace's keys; every other key (``kernel.*``, ``fs.*``, ``vm.*``) is this machine's, read-only
in the host's view, and skipped here. Key syntax as procps': ``.`` or ``/`` separators (when
the first one is ``.``, a ``/`` stands for a ``.`` in an interface name, ``eno1/100``), a leading
``-`` ignores a failure, ``*`` globs match several keys.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

__all__ = ["SYSTEM_DIRS", "system_files", "parse", "key_paths", "main"]

SYSTEM_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
PROC = Path("/proc/sys")


def system_files() -> list[Path]:
    """The files ``sysctl --system`` reads, in its order."""
    by_name: dict[str, Path] = {}
    for folder in SYSTEM_DIRS:
        for path in sorted(Path(folder).glob("*.conf")):
            by_name.setdefault(path.name, path)
    files = [by_name[name] for name in sorted(by_name)]
    if Path("/etc/sysctl.conf").is_file():
        files.append(Path("/etc/sysctl.conf"))
    return files


def parse(text: str) -> list[tuple[str, str, bool]]:
    """(key, value, ignore failure) per setting line."""
    settings = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        settings.append((key.lstrip("-"), value, key.startswith("-")))
    return settings


def _path_of(key: str) -> str:
    dot, slash = key.find("."), key.find("/")
    if dot != -1 and (slash == -1 or dot < slash):
        key = key.translate(str.maketrans("./", "/."))
    return key


def key_paths(key: str) -> list[Path]:
    """The /proc/sys files of a key (several for a glob)."""
    path = _path_of(key)
    if "*" in path:
        return [Path(p) for p in sorted(glob.glob(str(PROC / path)))]
    return [PROC / path]


def _apply(files: list[Path], quiet: bool, unknown_ok: bool) -> int:
    failed = 0
    for file in files:
        if not quiet:
            print(f"* Applying {file} ...")
        for key, value, ignore in parse(file.read_text(errors="replace")):
            if not _path_of(key).startswith("net/"):
                continue  # this machine's, not the namespace's
            for path in key_paths(key):
                try:
                    path.write_text(value + "\n")
                except OSError as exc:
                    if not ignore and not (unknown_ok and isinstance(exc, FileNotFoundError)):
                        print(f'sysctl: setting key "{key}": {exc.strerror}', file=sys.stderr)
                        failed = 1
                    continue
                if not quiet:
                    print(f"{key} = {value}")
    return failed


def main(argv: list[str]) -> int:
    """``sysctl [-e] [-q] --system``."""
    flags = {a for a in argv if a.startswith("-")}
    if "--system" not in flags or flags - {"--system", "-e", "-q", "--quiet"} or set(argv) - flags:
        print("usage: sysctl [-e] [-q] --system (the lab's stand-in)", file=sys.stderr)
        return 2
    return _apply(system_files(), bool(flags & {"-q", "--quiet"}), "-e" in flags)
