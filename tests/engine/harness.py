"""The real Pulumi engine (``make engine``) on throwaway projects: a file backend in a tmp dir."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "REPO",
    "ENGINE_BIN",
    "POLICY_PACK",
    "Engine",
    "Result",
    "missing_binaries",
    "az_without_hosts",
    "open_engine",
]

REPO = Path(__file__).resolve().parents[2]
ENGINE_BIN = REPO / "build" / "engine" / "bin"
# The pack's executable entry point (a folder pack cannot start under the old language host).
POLICY_PACK = REPO / "engine" / "policy-pack"
_BINARIES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python.bin",
    "pulumi-language-python-exec",
    "pulumi-resource-pulumi-python",
    "pulumi-analyzer-policy-python",
)
# A run that hangs (a plugin waiting on a download, a prompt) fails instead of blocking CI.
_TIMEOUT = 300


def missing_binaries() -> list[str]:
    """What ``make engine`` puts in build/engine/bin and is not there."""
    return [name for name in _BINARIES if not os.access(ENGINE_BIN / name, os.X_OK)]


def az_without_hosts() -> dict[str, Any]:
    """The dev stack's config grown to two AZs and applied as az-2, where no host is.

    Every host stays in az-1, so the program declares the network components and the exports,
    no Command (the command provider is not served here) and, without ``lanes:kubeconfig``, no
    cluster object. Each network is split into two /22 blocks, az-1's first.
    """
    doc = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    config = copy.deepcopy(doc["config"])
    config["lanes:az"] = "az-2"
    config["lanes:azs"] = ["az-1", "az-2"]
    for net in config["lanes:networks"].values():
        net["block_prefix"] = 22
        if "blocks" in net:
            first = net["cidr"].split("/")[0]
            a, b, c, d = first.split(".")
            net["blocks"] = {"az-1": f"{first}/22", "az-2": f"{a}.{b}.{int(c) + 4}.{d}/22"}
    return config


@dataclass(frozen=True)
class Result:
    """One CLI run: its exit code, its stdout+stderr with the secret masked, and the leak count."""

    args: tuple[str, ...]
    returncode: int
    output: str
    leaks: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def log(self) -> str:
        """The command and its whole output, for an assertion message: never the secret."""
        return f"$ pulumi {' '.join(self.args)}  (exit {self.returncode})\n{self.output}"


class Engine:
    """The CLI with its own PULUMI_HOME and file backend under ``root``, holding one secret."""

    def __init__(self, root: Path, secret: str, marker: str):
        self.root = root
        self.secret = secret
        # The secret's distinctive line: found whatever quoting or escaping a format applies.
        self.marker = marker
        self.results: list[Result] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        self.env.update(
            PATH=f"{ENGINE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            PULUMI_HOME=str(root / "home"),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_CONFIG_PASSPHRASE="lanes-engine-tier",
            PYTHONDONTWRITEBYTECODE="1",
        )

    def run(self, cwd: Path, *args: str, stdin: str | None = None) -> Result:
        """``pulumi <args>`` in ``cwd``; the result's output has the secret masked."""
        started = time.perf_counter()
        proc = subprocess.run(
            [str(ENGINE_BIN / "pulumi"), *args],
            cwd=cwd,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
        )
        seconds = time.perf_counter() - started
        text = proc.stdout + proc.stderr
        leaks = text.count(self.marker)
        result = Result(
            args, proc.returncode, text.replace(self.marker, "[MASKED]"), leaks, seconds
        )
        self.results.append(result)
        return result

    def project(self, name: str, main: Path | None = REPO) -> Path:
        """A project folder whose Pulumi.yaml is lanes' (name, runtime, the repo's .venv), with
        ``main`` naming the program's folder: the repo's, so the program is its ``__main__.py``
        (``None``: the program is the folder's own ``__main__.py``)."""
        folder = self.root / name
        folder.mkdir()
        project: dict[str, Any] = {
            "name": "lanes",
            "runtime": {"name": "python", "options": {"virtualenv": str(REPO / ".venv")}},
        }
        if main is not None:
            project["main"] = str(main)
        (folder / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
        return folder

    def stack(self, project: Path, stack: str, config: dict[str, Any]) -> None:
        """Write ``Pulumi.<stack>.yaml``, create the stack and set the SSH key as a secret."""
        path = project / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        self.check(project, "stack", "init", stack)
        self.check(
            project, "config", "set", "--secret", "lanes:sshPrivateKey", "--stack", stack,
            stdin=self.secret,
        )  # fmt: skip

    def check(self, cwd: Path, *args: str, stdin: str | None = None) -> Result:
        result = self.run(cwd, *args, stdin=stdin)
        if not result.ok:
            raise RuntimeError(f"engine setup failed:\n{result.log}")
        return result

    def files_holding_secret(self) -> list[Path]:
        """Every file under the tmp root (state, PULUMI_HOME, stack files) holding it in clear."""
        found = []
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                if self.marker.encode() in path.read_bytes():
                    found.append(path.relative_to(self.root))
        return found


@contextmanager
def open_engine(secret: str, marker: str) -> Iterator[Engine]:
    """An Engine logged in to a file backend in a fresh tmp dir, removed afterwards."""
    missing = missing_binaries()
    if missing:
        raise FileNotFoundError(
            f"the engine is not built ({', '.join(missing)} missing in {ENGINE_BIN}): "
            "run `make engine`"
        )
    root = Path(tempfile.mkdtemp(prefix="lanes-engine-"))
    try:
        (root / "state").mkdir()
        engine = Engine(root, secret, marker)
        engine.check(root, "login", f"file://{root / 'state'}")
        yield engine
    finally:
        shutil.rmtree(root, ignore_errors=True)
