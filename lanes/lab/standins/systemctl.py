"""The lab's ``systemctl``: the units a lab host's scripts install and enable, started and stopped
from the host's own unit files, and ``boot``: what a reboot starts.

A lab host shares this machine's systemd, if it has one, and must never hand it a unit, so this
stand-in runs them itself, in the host's view: it reads the unit (``/etc/systemd/system``, then
the distribution's folders, with ``<unit>.d/*.conf`` drop-ins), checks ``ConditionPathExists``,
loads ``Environment``/``EnvironmentFile``, and runs ``ExecStartPre``/``ExecStart``/
``ExecStartPost``/``ExecReload``/``ExecStop`` as systemd would for ``Type=simple`` (the process
is the service: BIRD's ``bird -f``), ``forking`` (``PIDFile``: the lanes nginx) and ``oneshot``
(``RemainAfterExit``: the lanes table). What runs is recorded under ``/run/lanes-systemd`` (the
host's ``/run``, gone with a reboot); what is enabled is the ``*.wants`` links under
``/etc/systemd/system``, where ``systemctl enable`` and lanes' scripts put them.

``boot`` is the lab's reboot after ``power_off``: the network from the netplan files (networkd),
the sysctl.d files (systemd-sysctl), then every enabled unit, ``sysinit.target`` first.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["UNIT_DIRS", "STATE", "Unit", "load_unit", "main", "boot", "power_off"]

UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)
ETC = Path("/etc/systemd/system")
STATE = Path("/run/lanes-systemd")
BOOT_TARGETS = ("sysinit.target", "basic.target", "network.target", "multi-user.target")
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_LISTS = {"ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "Environment",
          "EnvironmentFile", "ConditionPathExists", "WantedBy", "RequiredBy"}  # fmt: skip
_STOP_WAIT = 10.0


class UnitError(RuntimeError):
    """A unit could not be loaded, started or stopped; the message says which and why."""


@dataclass
class Unit:
    """A unit as the stand-in needs it: name, file, and each section's settings in order."""

    name: str
    path: Path
    settings: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def get(self, section: str, key: str, default: str = "") -> str:
        values = self.settings.get(section, {}).get(key, [])
        return values[-1] if values else default

    def all(self, section: str, key: str) -> list[str]:
        return list(self.settings.get(section, {}).get(key, []))

    @property
    def type(self) -> str:
        return self.get("Service", "Type", "simple")


def _unit_name(name: str) -> str:
    return name if "." in name else f"{name}.service"


def _read(unit: Unit, text: str) -> None:
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        values = unit.settings.setdefault(section, {}).setdefault(key, [])
        if key in _LISTS:
            if value:
                values.append(value)
            else:
                values.clear()  # an empty assignment resets the list (drop-ins)
        else:
            values[:] = [value]


def load_unit(name: str) -> Unit:
    """The unit file of ``name`` (first found in UNIT_DIRS) and its drop-ins, in order."""
    name = _unit_name(name)
    path = next((Path(d) / name for d in UNIT_DIRS if (Path(d) / name).is_file()), None)
    if path is None:
        raise UnitError(f"Unit {name} not found.")
    unit = Unit(name, path)
    _read(unit, path.read_text())
    drop_ins: dict[str, Path] = {}
    for folder in reversed(UNIT_DIRS):
        for conf in sorted((Path(folder) / f"{name}.d").glob("*.conf")):
            drop_ins[conf.name] = conf
    for conf_name in sorted(drop_ins):
        _read(unit, drop_ins[conf_name].read_text())
    return unit


# --- running ------------------------------------------------------------------------------


def _environment(unit: Unit) -> dict[str, str]:
    env = {"PATH": _PATH, "LANG": "C.UTF-8"}
    for item in unit.all("Service", "EnvironmentFile"):
        optional = item.startswith("-")
        path = Path(item.lstrip("-"))
        if not path.is_file():
            if optional:
                continue
            raise UnitError(f"{unit.name}: EnvironmentFile {path} does not exist")
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip().strip("\"'")
    for item in unit.all("Service", "Environment"):
        for word in shlex.split(item):
            key, _, value = word.partition("=")
            env[key] = value
    return env


_WORD_VAR = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _argv(line: str, env: dict[str, str]) -> tuple[list[str], bool]:
    """An Exec line as argv, and whether a failure is ignored (``-`` prefix): ``$VAR`` alone is
    split into words, ``${VAR}`` is put in place, as systemd does."""
    ignore, expand = False, True
    while line and line[0] in "-@+!:":
        ignore |= line[0] == "-"
        expand &= line[0] != ":"
        line = line[1:]
    argv: list[str] = []
    for word in shlex.split(line):
        whole = _WORD_VAR.match(word) if expand else None
        if whole:
            argv += env.get(whole.group(1), "").split()
        elif expand:
            argv.append(_BRACED.sub(lambda m: env.get(m.group(1), ""), word))
        else:
            argv.append(word)
    return argv, ignore


def _log(unit: Unit):
    STATE.mkdir(parents=True, exist_ok=True)
    return open(STATE / f"{unit.name}.log", "ab")


def _run(unit: Unit, key: str, env: dict[str, str]) -> None:
    for line in unit.all("Service", key):
        argv, ignore = _argv(line, env)
        with _log(unit) as log:
            proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if proc.returncode != 0 and not ignore:
            raise UnitError(f"{unit.name}: {key} {shlex.join(argv)}: exit {proc.returncode}")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _pid(unit: Unit) -> int | None:
    pid_file = unit.get("Service", "PIDFile") if unit.type == "forking" else ""
    recorded = Path(pid_file) if pid_file else STATE / f"{unit.name}.pid"
    try:
        return int(recorded.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def is_active(unit: Unit) -> bool:
    if unit.type == "oneshot":
        return (STATE / f"{unit.name}.active").exists()
    pid = _pid(unit)
    return pid is not None and _alive(pid)


def _conditions(unit: Unit) -> bool:
    for path in unit.all("Unit", "ConditionPathExists"):
        negate = path.startswith("!")
        if Path(path.lstrip("!|")).exists() == negate:
            return False
    return True


def start(unit: Unit) -> str:
    if is_active(unit):
        return "active"
    if not _conditions(unit):
        return "condition"
    env = _environment(unit)
    _run(unit, "ExecStartPre", env)
    if unit.type == "oneshot":
        _run(unit, "ExecStart", env)
        if unit.get("Service", "RemainAfterExit", "no") in ("yes", "true", "1", "on"):
            (STATE / f"{unit.name}.active").touch()
    elif unit.type == "forking":
        _run(unit, "ExecStart", env)
    else:
        lines = unit.all("Service", "ExecStart")
        if len(lines) != 1:
            raise UnitError(f"{unit.name}: a Type={unit.type} unit needs one ExecStart")
        argv, _ = _argv(lines[0], env)
        with _log(unit) as log:
            proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        (STATE / f"{unit.name}.pid").write_text(f"{proc.pid}\n")
        time.sleep(0.2)
        if proc.poll() not in (None, 0):
            raise UnitError(f"{unit.name}: {shlex.join(argv)} exited with {proc.returncode}")
    _run(unit, "ExecStartPost", env)
    return "started"


def stop(unit: Unit) -> None:
    env = _environment(unit)
    pid = _pid(unit)
    if pid is not None and _alive(pid):
        env["MAINPID"] = str(pid)
        if unit.all("Service", "ExecStop"):
            _run(unit, "ExecStop", env)
        _terminate(pid, session=unit.type not in ("forking", "oneshot"))
    (STATE / f"{unit.name}.active").unlink(missing_ok=True)
    (STATE / f"{unit.name}.pid").unlink(missing_ok=True)


def _terminate(pid: int, session: bool) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig) if session else os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + _STOP_WAIT
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            return


def reload(unit: Unit) -> None:
    if not is_active(unit):
        raise UnitError(f"{unit.name} is not active, cannot reload.")
    if not unit.all("Service", "ExecReload"):
        raise UnitError(f"{unit.name} cannot be reloaded (no ExecReload).")
    env = _environment(unit)
    env["MAINPID"] = str(_pid(unit) or "")
    _run(unit, "ExecReload", env)


# --- enablement -----------------------------------------------------------------------------


def _wants_links(name: str) -> list[Path]:
    return sorted(p for p in ETC.glob(f"*.wants/{name}") if p.is_symlink() or p.exists())


def is_enabled(unit: Unit) -> str:
    if _wants_links(unit.name):
        return "enabled"
    if not unit.all("Install", "WantedBy") and not unit.all("Install", "RequiredBy"):
        return "static"
    return "disabled"


def enable(unit: Unit) -> list[str]:
    said = []
    for target in unit.all("Install", "WantedBy"):
        for name in target.split():
            link = ETC / f"{name}.wants" / unit.name
            if link.is_symlink() and os.readlink(link) == str(unit.path):
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            link.unlink(missing_ok=True)
            link.symlink_to(unit.path)
            said.append(f"Created symlink {link} → {unit.path}.")
    return said


def disable(unit: Unit) -> list[str]:
    said = []
    for link in _wants_links(unit.name):
        link.unlink()
        said.append(f'Removed "{link}".')
    return said


# --- the command ----------------------------------------------------------------------------

_VERBS = (
    "start", "stop", "restart", "try-restart", "reload", "reload-or-restart", "is-active",
    "is-enabled", "enable", "disable", "status", "daemon-reload",
)  # fmt: skip


def _verb(verb: str, unit: Unit, now: bool, quiet: bool) -> int:
    if verb == "start":
        start(unit)
    elif verb == "stop":
        stop(unit)
    elif verb == "restart":
        stop(unit)
        start(unit)
    elif verb == "try-restart":
        if is_active(unit):
            stop(unit)
            start(unit)
    elif verb == "reload":
        reload(unit)
    elif verb == "reload-or-restart":
        if is_active(unit) and unit.all("Service", "ExecReload"):
            reload(unit)
        else:
            stop(unit)
            start(unit)
    elif verb in ("is-active", "status"):
        active = is_active(unit)
        if not quiet:
            print("active" if active else "inactive")
        return 0 if active else 3
    elif verb == "is-enabled":
        state = is_enabled(unit)
        if not quiet:
            print(state)
        return 0 if state in ("enabled", "static") else 1
    elif verb in ("enable", "disable"):
        for line in (enable if verb == "enable" else disable)(unit):
            if not quiet:
                print(line, file=sys.stderr)
        if now:
            (start if verb == "enable" else stop)(unit)
    return 0


def main(argv: list[str]) -> int:
    """``systemctl [--quiet] [--now] VERB [UNIT...]``: the verbs lanes' scripts use."""
    quiet = bool({"-q", "--quiet"} & set(argv))
    now = "--now" in argv
    words = [a for a in argv if not a.startswith("-")]
    if not words or words[0] not in _VERBS:
        print(f"systemctl (lab stand-in): supported: {', '.join(_VERBS)}", file=sys.stderr)
        return 1
    verb, names = words[0], words[1:]
    if verb == "daemon-reload":
        return 0  # units are read afresh on every call
    status = 0
    for name in names:
        try:
            status = max(status, _verb(verb, load_unit(name), now, quiet))
        except UnitError as exc:
            if verb in ("is-active", "status", "is-enabled", "try-restart"):
                status = max(status, 4 if verb == "status" else 3 if verb == "is-active" else 1)
                if verb != "try-restart" and not quiet:
                    print("inactive" if verb == "is-active" else str(exc), file=sys.stderr)
                if verb == "try-restart":
                    status = 0
                continue
            print(f"Failed to {verb} {name}: {exc}", file=sys.stderr)
            status = 1
    return status


# --- reboot ---------------------------------------------------------------------------------


def power_off() -> int:
    """What a reboot takes away that only this host's processes hold: the units it started are
    stopped (their processes killed), and ``/run`` is emptied. The lab kills the host's other
    processes, flushes nft and turns forwarding off (``lanes.lab.reboot``)."""
    if STATE.is_dir():
        for record in sorted(STATE.glob("*.pid")):
            try:
                stop(load_unit(record.name.removesuffix(".pid")))
            except UnitError:
                record.unlink(missing_ok=True)
    for entry in Path("/run").iterdir():
        if entry.name not in ("sshd", "sshd.pid"):  # the lab's sshd: the host's way in
            subprocess.run(["rm", "-rf", "--one-file-system", str(entry)], check=False)
    return 0


def _enabled(target: str) -> list[str]:
    return sorted(
        p.name for p in (ETC / f"{target}.wants").glob("*") if p.name.endswith(".service")
    )


def boot() -> int:
    """Bring the host up as a boot does: network, sysctls, then every enabled unit."""
    status = 0
    for argv in (["netplan", "apply"], ["sysctl", "-e", "-q", "--system"]):
        proc = subprocess.run(argv, env={"PATH": _PATH}, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"boot: {shlex.join(argv)}: {proc.stderr.strip()}", file=sys.stderr)
            status = 1
    for target in BOOT_TARGETS:
        for name in _enabled(target):
            try:
                said = start(load_unit(name))
                print(f"boot: {name}: {said}")
            except UnitError as exc:
                print(f"boot: {exc}", file=sys.stderr)
                status = 1
    return status
