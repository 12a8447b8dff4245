"""The real Pulumi engine (``make engine``) on throwaway projects: a file backend in a tmp dir.

The CLI runs as ``lanes.lab.engine.Engine`` runs it (its own PULUMI_HOME with the command
provider installed from the built binary, nothing downloaded); this harness adds the secret's
masking and the count of runs that showed it."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lanes.lab import engine as built

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
ENGINE_BIN = built.engine_bin(REPO)
# The pack as an operator gives it: its folder (it shares the program's .venv).
POLICY_PACK = REPO / "policies"
# A run that hangs (a plugin waiting on a download, a prompt) fails instead of blocking CI.
_TIMEOUT = 300


def missing_binaries() -> list[str]:
    """What ``make engine`` puts in build/engine/bin and is not there."""
    return built.missing_binaries(REPO)


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
        self.cli = built.Engine(REPO, home=root / "home", backend=root / "state")

    def run(self, cwd: Path, *args: str, stdin: str | None = None) -> Result:
        """``pulumi <args>`` in ``cwd``; the result's output has the secret masked."""
        run = self.cli.run(cwd, *args, stdin=stdin, timeout=_TIMEOUT)
        text = run.stdout + run.stderr
        leaks = text.count(self.marker)
        result = Result(
            args, run.returncode, text.replace(self.marker, "[MASKED]"), leaks, run.seconds
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
        yield Engine(root, secret, marker)
    finally:
        shutil.rmtree(root, ignore_errors=True)
