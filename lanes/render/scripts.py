"""The files a host gets and the POSIX sh scripts that install and remove them over SSH.

One ``Command`` receives every rendered file on its stdin (``lanes.render.bundle``) and runs
``provision_host_script``: each file to a content-addressed staging path, then, unless every
target already holds its file, the rollback armed and each file's ``apply_script``: it checks the staged file against its SHA-256, says
``unchanged`` when the target already holds it, otherwise backs up what was there (once: the
first lanes install keeps the pre-lanes file), installs atomically (copy beside the target,
``mv``) and reloads. ``delete_script`` restores the backup (or removes the file when there was
none), but only while the target still holds what this resource installed: when Pulumi
replaces the Command, the new one installs first and the old one's delete must then leave the
new file alone.

Every value in a script is validated (names, absolute paths, hex digests, modes) and then
shell-quoted. ``root`` prefixes every path, so tests run the very same scripts against a
scratch directory instead of this machine's /etc.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass

from lanes.model.hostnet import HostNet
from lanes.render.bundle import Part, bundle, receive_lines
from lanes.render.checks import check_path, check_value
from lanes.render.kubelet import KUBELET_PATH, render_kubelet
from lanes.render.netplan import NETPLAN_PATH, render_netplan
from lanes.render.rollback import Expect, Undo, arm_script, confirm_script
from lanes.render.rollback import disarm_script as _disarm
from lanes.render.sysctl import SYSCTL_PATH, render_sysctl

__all__ = [
    "STATE_DIR",
    "STAGING_DIR",
    "BACKUP_DIR",
    "HostFile",
    "host_files",
    "prepare_script",
    "apply_script",
    "delete_script",
    "sh_command",
    "check_value",
    "check_path",
    "arm_host_script",
    "confirm_host_script",
    "disarm_script",
    "unprepare_script",
    "host_stdin",
    "provision_host_script",
    "remove_host_script",
]

STATE_DIR = "/var/lib/lanes"
STAGING_DIR = f"{STATE_DIR}/staged"
BACKUP_DIR = f"{STATE_DIR}/backup"

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_KIND_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
_MODE_RE = re.compile(r"^[0-7]{3}$")
_ARG_RE = re.compile(r"^[A-Za-z0-9_./=:@%+-]+$")

Reload = tuple[tuple[str, ...], ...]

NETPLAN_RELOAD: Reload = (("netplan", "apply"),)
SYSCTL_RELOAD: Reload = (("sysctl", "-e", "-q", "--system"),)
KUBELET_RELOAD: Reload = (
    ("systemctl", "daemon-reload"),
    ("systemctl", "try-restart", "kubelet.service"),
)


@dataclass(frozen=True)
class HostFile:
    """A rendered file, where it goes, its mode, and the commands that make it take effect."""

    kind: str
    path: str
    mode: str
    content: str
    reload: Reload

    def __post_init__(self) -> None:
        check_value(_KIND_RE, self.kind, "kind")
        check_path(self.path, "path")
        check_value(_MODE_RE, self.mode, "mode")
        for argv in self.reload:
            for arg in argv:
                check_value(_ARG_RE, arg, f"{self.kind} reload")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()

    @property
    def staged_path(self) -> str:
        """Content-addressed, so a replaced copy never overwrites the one being removed."""
        return f"{STAGING_DIR}/{self.kind}-{self.sha256[:16]}"


# Every file a host may get, so a file no longer rendered (a node that became a service host
# loses its kubelet drop-in) is put back as it was before lanes.
_SLOTS: dict[str, tuple[str, Reload]] = {
    "netplan": (NETPLAN_PATH, NETPLAN_RELOAD),
    "sysctl": (SYSCTL_PATH, SYSCTL_RELOAD),
    "kubelet": (KUBELET_PATH, KUBELET_RELOAD),
}


def host_files(net: HostNet) -> tuple[HostFile, ...]:
    """netplan, sysctl and (Kubernetes nodes only) kubelet, in the order they are applied."""
    files = [
        HostFile("netplan", NETPLAN_PATH, "600", render_netplan(net), NETPLAN_RELOAD),
        HostFile("sysctl", SYSCTL_PATH, "644", render_sysctl(net), SYSCTL_RELOAD),
    ]
    kubelet = render_kubelet(net)
    if kubelet is not None:
        files.append(HostFile("kubelet", KUBELET_PATH, "644", kubelet, KUBELET_RELOAD))
    return tuple(files)


def _root(root: str) -> str:
    return "" if root == "" else check_path(root.rstrip("/") or "/", "root").rstrip("/")


def _variables(file: HostFile, root: str) -> list[str]:
    prefix = _root(root)
    values = [
        ("label", file.kind),
        ("staged", prefix + file.staged_path),
        ("target", prefix + file.path),
        ("backup", prefix + BACKUP_DIR + file.path),
        ("want", check_value(_HEX_RE, file.sha256, "sha256")),
        ("mode", file.mode),
    ]
    return [f"{name}={shlex.quote(value)}" for name, value in values]


def _reload_lines(reload: Reload) -> list[str]:
    for argv in reload:
        for arg in argv:
            check_value(_ARG_RE, arg, "reload")
    return [shlex.join(argv) for argv in reload]


_SUM = "digest() { sha256sum < \"$1\" | cut -d ' ' -f 1; }"


def prepare_script(root: str = "") -> str:
    """Create the staging and backup directories (root only, 0700); idempotent."""
    prefix = _root(root)
    dirs = " ".join(shlex.quote(prefix + d) for d in (STATE_DIR, STAGING_DIR, BACKUP_DIR))
    return (
        "\n".join(
            [
                "set -eu",
                "umask 077",
                f"mkdir -p {dirs}",
                f"chmod 700 {dirs}",
                "echo 'lanes: staging ready'",
            ]
        )
        + "\n"
    )


def unprepare_script(root: str = "") -> str:
    """The prepare step's delete (``pulumi destroy``, after every file was put back): the staging
    and backup folders go once they are empty, and lanes' state folder with them."""
    prefix = _root(root)
    dirs = " ".join(shlex.quote(prefix + d) for d in (STAGING_DIR, BACKUP_DIR))
    state = shlex.quote(prefix + STATE_DIR)
    return (
        "\n".join(
            [
                "set -eu",
                f"for dir in {dirs}; do",
                '  if [ -d "$dir" ]; then find "$dir" -depth -type d -empty -delete; fi',
                "done",
                f"rmdir {state} 2>/dev/null || true",
                "echo 'lanes: staging removed'",
            ]
        )
        + "\n"
    )


def apply_script(file: HostFile, root: str = "", reload: Reload | None = None) -> str:
    """Install the staged file at its target; a second run prints ``unchanged``.

    When the reload fails, the previous file (or its absence) is put back and reloaded, and the
    script exits non-zero: a failed apply leaves the host as it was.
    """
    reload_chain = " && ".join(_reload_lines(file.reload if reload is None else reload)) or ":"
    lines = [
        "set -eu",
        "umask 077",
        *_variables(file, root),
        _SUM,
        'if [ ! -f "$staged" ] || [ "$(digest "$staged")" != "$want" ]; then',
        '  echo "lanes: $label: $staged is missing or is not sha256 $want" >&2',
        "  exit 1",
        "fi",
        'if [ -f "$target" ] && [ "$(digest "$target")" = "$want" ] \\',
        '    && [ "$(stat -c %a "$target")" = "$mode" ]; then',
        '  echo "lanes: $label: unchanged $target"',
        "  exit 0",
        "fi",
        'mkdir -p "${backup%/*}" "${target%/*}"',
        'if [ ! -e "$backup" ] && [ ! -e "$backup.absent" ]; then',
        '  if [ -e "$target" ]; then cp -p "$target" "$backup"; else : > "$backup.absent"; fi',
        "fi",
        # Keep what is live now, so a reload that fails puts the host back as it was.
        'prev="$target.lanes-prev"',
        'if [ -e "$target" ]; then cp -p "$target" "$prev"; else rm -f "$prev"; fi',
        'cp "$staged" "$target.lanes-new"',
        'chmod "$mode" "$target.lanes-new"',
        'mv -f "$target.lanes-new" "$target"',
        f"if ! {{ {reload_chain}; }}; then",
        '  echo "lanes: $label: reload failed; putting back the previous $target" >&2',
        '  if [ -e "$prev" ]; then mv -f "$prev" "$target"; else rm -f "$target"; fi',
        f"  {reload_chain} || true",
        "  exit 1",
        "fi",
        'rm -f "$prev"',
        'echo "lanes: $label: changed $target"',
    ]
    return "\n".join(lines) + "\n"


def delete_script(file: HostFile, root: str = "", reload: Reload | None = None) -> str:
    """Put back what was there before lanes, unless the target now holds someone else's file."""
    lines = [
        "set -eu",
        *_variables(file, root),
        _SUM,
        'rm -f "$staged"',
        'if [ -f "$target" ] && [ "$(digest "$target")" != "$want" ]; then',
        '  echo "lanes: $label: $target no longer holds what this resource installed: left alone"',
        "  exit 0",
        "fi",
        'if [ -e "$backup" ]; then',
        '  mv -f "$backup" "$target"',
        '  echo "lanes: $label: restored $target"',
        'elif [ -e "$backup.absent" ]; then',
        '  rm -f "$target" "$backup.absent"',
        '  echo "lanes: $label: removed $target"',
        "else",
        '  echo "lanes: $label: unchanged $target (nothing to restore)"',
        "  exit 0",
        "fi",
        *_reload_lines(file.reload if reload is None else reload),
    ]
    return "\n".join(lines) + "\n"


def sh_command(script: str) -> str:
    """The one command line the remote login shell runs: POSIX sh whatever the user's shell."""
    return f"sh -c {shlex.quote(script)}"


def arm_host_script(
    name: str,
    files: tuple[HostFile, ...],
    timeout: int,
    root: str = "",
    reloads: dict[str, Reload] | None = None,
    watchdog: str = "auto",
) -> str:
    """Before the files' applies: snapshot every target (and those of files no longer rendered,
    which the step puts back) and arm their rollback (reloads as in ``apply_script``, per kind),
    which puts them back in file order after ``timeout`` seconds
    unless ``confirm_host_script`` runs first."""
    prefix, reloads = _root(root), reloads or {}
    slots = [(f.kind, f.path, f.reload) for f in files] + _retired(files)
    undos = tuple(
        Undo(kind, prefix + path, " && ".join(_reload_lines(reloads.get(kind, reload))))
        for kind, path, reload in slots
    )
    return arm_script(name, prefix + STATE_DIR, undos, timeout, watchdog=watchdog)


def disarm_script(name: str, root: str = "") -> str:
    """The arm step's delete: no rollback of the host's files after ``pulumi destroy``."""
    return _disarm(name, _root(root) + STATE_DIR)


def confirm_host_script(name: str, files: tuple[HostFile, ...], root: str = "") -> str:
    """After the applies, over a fresh connection: confirm, or fail if rolled back."""
    prefix = _root(root)
    expects = tuple(Expect(f.kind, prefix + f.path, f.sha256) for f in files)
    return confirm_script(name, prefix + STATE_DIR, expects)


def _subshell(script: str) -> list[str]:
    """One step's script inside the combined one: its ``exit 0`` ends only that step."""
    return ["(", script.rstrip("\n"), ")"]


def _parts(files: tuple[HostFile, ...], root: str) -> tuple[Part, ...]:
    return tuple(Part(f.kind, f.content, _root(root) + f.staged_path) for f in files)


def host_stdin(files: tuple[HostFile, ...]) -> str:
    """What the host's step receives on stdin: every rendered file, in file order."""
    return bundle(_parts(files, ""))


def _retired(files: tuple[HostFile, ...]) -> list[tuple[str, str, Reload]]:
    kinds = {f.kind for f in files}
    return [(kind, path, reload) for kind, (path, reload) in _SLOTS.items() if kind not in kinds]


def _retire_script(kind: str, path: str, reload: Reload, root: str) -> str:
    """Put back what lanes' no longer rendered file replaced (a backup exists only while lanes'
    file is installed), and reload it."""
    prefix = _root(root)
    values = [("label", kind), ("target", prefix + path), ("backup", prefix + BACKUP_DIR + path)]
    lines = [
        "set -eu",
        *(f"{key}={shlex.quote(value)}" for key, value in values),
        'if [ -e "$backup" ]; then',
        '  mv -f "$backup" "$target"',
        '  echo "lanes: $label: restored $target (no longer rendered)"',
        'elif [ -e "$backup.absent" ]; then',
        '  rm -f "$target" "$backup.absent"',
        '  echo "lanes: $label: removed $target (no longer rendered)"',
        "else",
        "  exit 0",
        "fi",
        *_reload_lines(reload),
    ]
    return "\n".join(lines) + "\n"


def _unchanged_lines(files: tuple[HostFile, ...], root: str) -> list[str]:
    """``same`` stays set only while every target holds its file and nothing is to retire."""
    prefix, lines = _root(root), ["same=1"]
    for file in files:
        target = shlex.quote(prefix + file.path)
        lines += [
            f'if [ ! -f {target} ] || [ "$(digest {target})" != {file.sha256} ] \\',
            f'    || [ "$(stat -c %a {target})" != {file.mode} ]; then same=; fi',
        ]
    for _, path, _ in _retired(files):
        backup = shlex.quote(prefix + BACKUP_DIR + path)
        lines.append(f"if [ -e {backup} ] || [ -e {backup}.absent ]; then same=; fi")
    return lines


def provision_host_script(
    name: str,
    files: tuple[HostFile, ...],
    timeout: int,
    root: str = "",
    reloads: dict[str, Reload] | None = None,
    watchdog: str = "auto",
) -> str:
    """The host's one step (create and update), its files on stdin (``host_stdin``): prepare,
    receive and check every file; when every target already holds its file, say ``unchanged``
    and arm nothing; else arm the rollback of every file (``arm_host_script``), apply each in
    file order (netplan first: the sysctl drop-in names its interfaces), and put back a file no
    longer rendered. The confirmation is a step of its own, over a new connection."""
    reloads = reloads or {}
    staged = " ".join(shlex.quote(p.staged) for p in _parts(files, root))
    lines = [
        "set -eu",
        "umask 077",
        _SUM,
        f"name={shlex.quote(check_value(_NAME_RE, name, 'name'))}",
        *_subshell(prepare_script(root)),
        # Lanes' staging folder holds only what this step received: an older run's files go.
        f"find {shlex.quote(_root(root) + STAGING_DIR)} -maxdepth 1 -type f -delete",
        *receive_lines(name, _parts(files, root), _root(root) + STAGING_DIR),
        *_unchanged_lines(files, root),
        'if [ -n "$same" ]; then',
        f"  rm -f {staged}",
        '  echo "lanes: $name: unchanged"',
        "  exit 0",
        "fi",
        *_subshell(arm_host_script(name, files, timeout, root, reloads, watchdog)),
    ]
    for file in files:
        lines += _subshell(apply_script(file, root, reloads.get(file.kind)))
    for kind, path, reload in _retired(files):
        lines += _subshell(_retire_script(kind, path, reloads.get(kind, reload), root))
    lines.append(f"rm -f {staged}")
    return "\n".join(lines) + "\n"


def remove_host_script(
    name: str, files: tuple[HostFile, ...], root: str = "", reloads: dict[str, Reload] | None = None
) -> str:
    """The host's step's delete (``pulumi destroy``): each file put back in reverse file order,
    then the rollback disarmed and lanes' folders removed once empty."""
    reloads = reloads or {}
    lines = ["set -eu"]
    for file in reversed(files):
        lines += _subshell(delete_script(file, root, reloads.get(file.kind)))
    lines += _subshell(disarm_script(name, root))
    lines += _subshell(unprepare_script(root))
    return "\n".join(lines) + "\n"
