"""Try, confirm or roll back: the arm and confirm scripts around a host's or a gateway's apply.

``arm_script`` runs before the change, in its own SSH session: it copies every file the change
may touch into a transaction directory, writes ``rollback.sh`` beside them and starts a watchdog
that runs it after the timeout. The watchdog outlives the SSH session that started it: a
transient systemd timer where systemd runs (``systemd-run --on-active``), else a ``setsid``
process of plain sh (also what the namespace lab uses, which has no systemd).

``confirm_script`` runs after the change, over a connection made afresh through the new
configuration. Confirmation and rollback race for one ``mkdir`` (atomic): whichever comes first
decides. A confirmation stops the watchdog and checks that the files hold what was applied; a
confirmation that comes too late finds the change rolled back, says so and fails, so the step
that failed names the host and ``pulumi up`` fails with the previous configuration live.

Every value is validated (``check_value``/``check_path``) and shell-quoted where it is assigned.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from lanes.render.checks import check_path, check_value

__all__ = [
    "TXN_DIR",
    "WATCHDOGS",
    "Undo",
    "Expect",
    "arm_script",
    "confirm_script",
    "disarm_script",
]

TXN_DIR = "txn"  # under the caller's state directory
WATCHDOGS = ("auto", "sh")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_LABEL_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
_END = "LANES_ROLLBACK_END"
# How long a late confirmation waits for a rollback that has started to finish.
_ROLLBACK_WAIT = 60


@dataclass(frozen=True)
class Undo:
    """A file a rollback puts back (or removes, if it was absent when armed), and the sh
    snippet that makes the restored file take effect (run only when it was restored)."""

    label: str
    path: str
    reload: str = ""

    def __post_init__(self) -> None:
        check_value(_LABEL_RE, self.label, "label")
        check_path(self.path, f"{self.label} path")
        if _END in self.reload:
            raise ValueError(f"{self.label} reload: must not contain {_END}")


@dataclass(frozen=True)
class Expect:
    """A file a confirmation expects to hold the applied content."""

    label: str
    path: str
    sha256: str

    def __post_init__(self) -> None:
        check_value(_LABEL_RE, self.label, "label")
        check_path(self.path, f"{self.label} path")
        check_value(_HEX_RE, self.sha256, f"{self.label} sha256")


def _head(name: str, state_dir: str) -> list[str]:
    check_value(_NAME_RE, name, "name")
    txns = check_path(state_dir, "state dir").rstrip("/") + "/" + TXN_DIR
    return [
        "set -eu",
        "umask 077",
        f"name={shlex.quote(name)}",
        f"txns={shlex.quote(txns)}",
    ]


def _restore(undo: Undo) -> list[str]:
    """Inside rollback.sh: put one file back as it was when armed, then reload it."""
    reload = undo.reload.strip() or ":"
    return [
        f"# {undo.label}",
        f"target={shlex.quote(undo.path)}",
        f'saved="$txn/{undo.label}"',
        "restored=",
        'if [ -f "$saved" ]; then',
        '  if ! cmp -s "$saved" "$target"; then',
        '    cp -p "$saved" "$target.lanes-rb" && mv -f "$target.lanes-rb" "$target" && restored=1',
        "  fi",
        'elif [ -e "$saved.absent" ] && [ -e "$target" ]; then',
        '  rm -f "$target" && restored=1',
        "fi",
        'if [ -n "$restored" ]; then',
        '  echo "lanes: $name: rollback: restored $target"',
        f'  {{ {reload}\n  }} || echo "lanes: $name: rollback: reloading {undo.label} failed"',
        "fi",
    ]


def _rollback(name: str, undos: tuple[Undo, ...], after: str) -> list[str]:
    """rollback.sh: runs once, and only if no confirmation came first."""
    body = [
        "set -u",
        "umask 077",
        f"name={shlex.quote(name)}",
        'txn="$1"',
        'mkdir "$txn/decided" 2>/dev/null || exit 0',
        'exec >> "$txn/rollback.log" 2>&1',
        'echo "lanes: $name: rollback: no confirmation came; putting back the previous files"',
    ]
    for undo in undos:
        body += _restore(undo)
    if after.strip():
        body += ["{", after.strip(), '} || echo "lanes: $name: rollback: re-applying failed"']
    body += ['date -u +%Y-%m-%dT%H:%M:%SZ > "$txn/rolled-back"']
    return body


def arm_script(
    name: str,
    state_dir: str,
    undos: tuple[Undo, ...],
    timeout: int,
    after: str = "",
    watchdog: str = "auto",
) -> str:
    """Snapshot the files, write rollback.sh and start its watchdog; refuse while an earlier
    change of this host still awaits its confirmation or rollback."""
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 3600:
        raise ValueError(f"timeout: {timeout!r} is not a number of seconds in 1..3600")
    if watchdog not in WATCHDOGS:
        raise ValueError(f"watchdog: {watchdog!r} is not one of {', '.join(WATCHDOGS)}")
    if _END in after:
        raise ValueError(f"after: must not contain {_END}")
    lines = _head(name, state_dir) + [
        f"timeout={timeout}",
        f"watchdog={watchdog}",
        "command -v setsid >/dev/null 2>&1 || command -v systemd-run >/dev/null 2>&1 \\",
        '  || { echo "lanes: $name: arm: neither setsid nor systemd-run is installed" >&2; exit 1; }',
        'mkdir -p "$txns"',
        'if [ -f "$txns/current" ]; then',
        '  last="$txns/$(cat "$txns/current")"',
        '  if [ -d "$last" ] && [ ! -d "$last/decided" ]; then',
        '    echo "lanes: $name: arm: the change armed as ${last##*/} still awaits its'
        ' confirmation or rollback: run again after it" >&2',
        "    exit 1",
        "  fi",
        '  rm -rf "$last"',
        "fi",
        'id="$(date -u +%Y%m%dT%H%M%S)-$$"',
        'txn="$txns/$id"',
        'mkdir "$txn"',
    ]
    for undo in undos:
        path, saved = shlex.quote(undo.path), f'"$txn/{undo.label}'
        lines.append(f'if [ -f {path} ]; then cp -p {path} {saved}"; else : > {saved}.absent"; fi')
    lines += [f"cat > \"$txn/rollback.sh\" <<'{_END}'", *_rollback(name, undos, after), _END]
    lines += [
        'printf \'%s\\n\' "$id" > "$txns/current.new"',
        'mv -f "$txns/current.new" "$txns/current"',
        'if [ "$watchdog" = auto ] && [ -d /run/systemd/system ] \\',
        "    && command -v systemd-run >/dev/null 2>&1; then",
        '  systemd-run --quiet --unit="lanes-rollback-$id" --on-active="${timeout}s" \\',
        '    --timer-property=AccuracySec=1s /bin/sh "$txn/rollback.sh" "$txn"',
        '  printf \'%s\\n\' "lanes-rollback-$id.timer" > "$txn/watchdog.timer"',
        "else",
        # A session of its own: the SSH session ending (or being cut off) does not reach it.
        '  setsid sh -c \'sleep "$1"; exec sh "$2/rollback.sh" "$2"\' lanes-rollback \\',
        '    "$timeout" "$txn" </dev/null >/dev/null 2>&1 &',
        '  printf \'%s\\n\' "$!" > "$txn/watchdog.pid"',
        "fi",
        'echo "lanes: $name: armed rollback $id: confirm within ${timeout}s"',
    ]
    return "\n".join(lines) + "\n"


def _checks(expects: tuple[Expect, ...]) -> list[str]:
    lines = ["bad="]
    for e in expects:
        path = shlex.quote(e.path)
        lines += [
            f"if [ ! -f {path} ] || [ \"$(sha256sum < {path} | cut -d ' ' -f 1)\" != {e.sha256} ];"
            " then",
            f'  bad="$bad {e.label}"',
            "fi",
        ]
    return lines


_STOP_WATCHDOG = [
    '    if [ -f "$txn/watchdog.pid" ]; then kill -- "-$(cat "$txn/watchdog.pid")"'
    " 2>/dev/null || true; fi",
    '    if [ -f "$txn/watchdog.timer" ]; then systemctl stop "$(cat "$txn/watchdog.timer")"'
    " 2>/dev/null || true; fi",
]


def disarm_script(name: str, state_dir: str) -> str:
    """The arm step's delete (``pulumi destroy``, after every apply put its file back): a change
    still awaiting its verdict is decided, so its watchdog never puts a removed configuration
    back; then the transaction folder goes."""
    lines = _head(name, state_dir) + [
        'id="$(cat "$txns/current" 2>/dev/null || true)"',
        'txn="$txns/$id"',
        'if [ -n "$id" ] && [ -d "$txn" ] && mkdir "$txn/decided" 2>/dev/null; then',
        *_STOP_WATCHDOG,
        '  echo "lanes: $name: disarm: the change armed as $id will not be rolled back"',
        "fi",
        'rm -rf "$txns"',
        'echo "lanes: $name: disarmed"',
    ]
    return "\n".join(lines) + "\n"


def confirm_script(name: str, state_dir: str, expects: tuple[Expect, ...]) -> str:
    """Decide for the change if the watchdog has not; fail when it was rolled back, or when
    a file does not hold what was applied."""
    lines = _head(name, state_dir) + [
        'id="$(cat "$txns/current" 2>/dev/null || true)"',
        'txn="$txns/$id"',
        'if [ -n "$id" ] && [ -d "$txn" ]; then',
        '  if mkdir "$txn/decided" 2>/dev/null; then',
        *_STOP_WATCHDOG,
        '    : > "$txn/confirmed"',
        "  fi",
        "  waited=0",
        f'  while [ ! -f "$txn/confirmed" ] && [ ! -f "$txn/rolled-back" ] && [ "$waited" -lt {_ROLLBACK_WAIT} ]; do',
        "    sleep 1; waited=$((waited + 1))",
        "  done",
        '  if [ ! -f "$txn/confirmed" ]; then',
        '    echo "lanes: $name: confirm: no confirmation came in time: the change armed as $id'
        ' was rolled back at $(cat "$txn/rolled-back" 2>/dev/null || echo "(in progress)"):'
        ' the previous configuration is live again" >&2',
        '    if [ -f "$txn/rollback.log" ]; then sed "s/^/  /" "$txn/rollback.log" >&2; fi',
        "    exit 1",
        "  fi",
        "fi",
        *_checks(expects),
        'if [ -n "$bad" ]; then',
        '  echo "lanes: $name: confirm: not as applied:$bad (rolled back earlier?): the previous'
        ' configuration is live; apply again" >&2',
        "  exit 1",
        "fi",
        'if [ -n "$id" ]; then rm -rf "$txn" "$txns/current"; fi',
        'echo "lanes: $name: confirmed${id:+ $id}"',
    ]
    return "\n".join(lines) + "\n"
