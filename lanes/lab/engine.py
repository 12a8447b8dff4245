"""The Pulumi engine ``make engine`` builds, run the way this repo runs it: nothing downloaded.

``build/engine/bin`` holds the CLI, the Python language host (found beside ``pulumi``) and the
command provider. An ``Engine`` gives the CLI its own ``PULUMI_HOME`` with the provider installed
from that file as the plugin version the program asks for (``pulumi plugin install resource
command 1.2.1 --file ...``, what an operator without network access does), ambient plugins and
automatic plugin acquisition off, a file backend, and the stack secrets' passphrase in a file.
The lab (``lanes lab pulumi``), the engine tier and the benchmarks all run the CLI through it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ENGINE_BIN",
    "COMMAND_PLUGIN",
    "EngineError",
    "Run",
    "Engine",
    "engine_bin",
    "missing_binaries",
]

ENGINE_BIN = Path("build") / "engine" / "bin"  # relative to the project (the repo)
BINARIES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-pulumi-python",
    "pulumi-resource-command",
)
# The plugin the pulumi_command SDK asks for, and the binary make engine stamps with it.
COMMAND_PLUGIN = ("resource", "command", "1.2.1", "pulumi-resource-command")
TIMEOUT = 900


class EngineError(RuntimeError):
    """The engine is not built, or a setup step of it failed; the message says which."""


def engine_bin(project_dir: Path) -> Path:
    return (Path(project_dir) / ENGINE_BIN).resolve()


def missing_binaries(project_dir: Path) -> list[str]:
    """What ``make engine`` puts in build/engine/bin and is not there."""
    folder = engine_bin(project_dir)
    return [name for name in BINARIES if not os.access(folder / name, os.X_OK)]


@dataclass(frozen=True)
class Run:
    """One CLI run: its arguments, exit code, output (stdout then stderr) and wall time."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def log(self) -> str:
        return f"$ pulumi {' '.join(self.args)}  (exit {self.returncode})\n{self.output}"


class Engine:
    """The built CLI with its own home, a file backend and a passphrase file, under ``home``.

    ``backend`` None: the operator's backend and secrets, from the environment
    (``PULUMI_BACKEND_URL``, ``PULUMI_ACCESS_TOKEN``, ``PULUMI_CONFIG_PASSPHRASE[_FILE]``).
    ``wrap`` prefixes every run (``ip netns exec <deploy box>``: the lab runs the CLI from its
    deploy box's network namespace, as an operator's deploy host would).
    """

    def __init__(
        self,
        project_dir: Path,
        home: Path,
        backend: Path | None,
        wrap: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ):
        missing = missing_binaries(project_dir)
        if missing:
            raise EngineError(
                f"the engine is not built ({', '.join(missing)} missing in "
                f"{engine_bin(project_dir)}): run `make engine`"
            )
        self.bin = engine_bin(project_dir)
        self.home = Path(home)
        self.backend = Path(backend) if backend is not None else None
        self.wrap = list(wrap)
        self.passphrase = self.home / "passphrase"
        operator = ("PULUMI_BACKEND_URL", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE",
                    "PULUMI_CONFIG_PASSPHRASE_FILE")  # fmt: skip
        keep = operator if self.backend is None else ()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_") or k in keep}
        if self.backend is not None:
            self.env.update(
                PULUMI_BACKEND_URL=f"file://{self.backend}",
                PULUMI_CONFIG_PASSPHRASE_FILE=str(self.passphrase),
            )
        self.env.update(
            PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            PULUMI_HOME=str(self.home),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_IGNORE_AMBIENT_PLUGINS="true",
            # The engine's own events as JSON lines (`--event-log FILE`): what a run did.
            PULUMI_DEBUG_COMMANDS="true",
            PYTHONDONTWRITEBYTECODE="1",
            **(extra_env or {}),
        )
        self._install()

    def _install(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.backend is not None:
            self.backend.mkdir(parents=True, exist_ok=True)
        if self.backend is not None and not self.passphrase.exists():
            fd = os.open(self.passphrase, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(24) + "\n")
        kind, name, version, binary = COMMAND_PLUGIN
        self.install_plugin(kind, name, version, self.bin / binary)

    def install_plugin(self, kind: str, name: str, version: str, binary: Path) -> None:
        """Install a built plugin binary into this engine's home as ``name`` at ``version``
        (the version the program's SDK asks for), once; nothing is downloaded."""
        if not (self.home / "plugins" / f"{kind}-{name}-v{version}").is_dir():
            self.check(self.home, "plugin", "install", kind, name, version, "--file",
                       str(binary))  # fmt: skip

    def argv(self, *args: str) -> list[str]:
        return [*self.wrap, str(self.bin / "pulumi"), *args]

    def run(self, cwd: Path, *args: str, stdin: str | None = None, timeout: float = TIMEOUT) -> Run:
        """``pulumi <args>`` in ``cwd``."""
        started = time.perf_counter()
        proc = subprocess.run(
            self.argv(*args),
            cwd=cwd,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(args, proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started)

    def check(self, cwd: Path, *args: str, stdin: str | None = None) -> Run:
        result = self.run(cwd, *args, stdin=stdin)
        if not result.ok:
            raise EngineError(f"engine step failed:\n{result.log}")
        return result

    def init_stack(self, project: Path, stack: str, secrets_: Mapping[str, str]) -> None:
        """Create ``stack`` (its config file is the project's ``Pulumi.<stack>.yaml``) and set
        each of ``secrets_`` as a secret, read from stdin (never an argument)."""
        listed = self.check(project, "stack", "ls", "--json").stdout
        names = {entry["name"].rsplit("/", 1)[-1] for entry in json.loads(listed or "[]")}
        if stack not in names:
            self.check(project, "stack", "init", stack, "--non-interactive")
        for key, value in secrets_.items():
            self.check(project, "config", "set", "--secret", key, "--stack", stack, stdin=value)
