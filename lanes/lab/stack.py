"""A bare lab's Pulumi project: the stacks of the lab, pinned to its hosts, and the CLI run from
its deploy box.

``lanes lab up --bare`` leaves the lab's hosts as a new site's are (links, the address SSH
reaches each on, an sshd) and writes a project folder for it, ``build/lab/<prefix>/`` (ignored):

- ``Pulumi.yaml``: the project's, its program the project's own (``main:``) and virtualenv;
- ``Pulumi.<stack>.yaml``: the stack's config with every host key (and the jump host's) pinned
  to the lab's host's, and ``root`` as the SSH user; for a stack that names a region file, the
  region file's copy under ``regions/`` is pinned instead, and every AZ stack of the project
  naming the same region file gets its own file (``lanes:az`` and the copy);
- ``policies`` and ``.venv``: links to the project's, so ``--policy-pack policies`` finds the
  pack, and the pack its virtualenv, as in the project itself;
- ``state/`` (the stacks' file backend), ``home/`` (``PULUMI_HOME``, the command provider
  installed from the built engine) and the passphrase that encrypts the stacks' secrets.

Each stack is created there and holds the lab's client key as its ``lanes:sshPrivateKey``
secret. ``lanes lab pulumi --stack S -- ARGS`` runs the CLI of ``make engine`` in that folder,
from the lab's deploy box namespace, as an operator's deploy host would.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from lanes.config import NAMESPACE
from lanes.config.stackfile import inventory_path, read_stack_file_values, read_yaml, stack_file
from lanes.lab.engine import Engine
from lanes.lab.netns import STATE_ROOT, LabError
from lanes.model.plan import Plan
from lanes.remote.access import access

__all__ = [
    "LAB_PROJECTS",
    "lab_project",
    "write_lab_project",
    "lab_engine",
    "open_stacks",
    "run_pulumi",
    "remove_lab_project",
]

LAB_PROJECTS = Path("build") / "lab"
SECRET = f"{NAMESPACE}:sshPrivateKey"


def lab_project(project_dir: Path, prefix: str) -> Path:
    """The lab's project folder inside the project (``build/`` is ignored)."""
    return Path(project_dir).resolve() / LAB_PROJECTS / prefix.rstrip("-")


def _pin(values: dict[str, Any], plan: Plan, endpoints: dict[str, dict]) -> dict[str, Any]:
    """``values`` (a stack's or region file's keys) with the lab's host keys pinned."""
    pinned = copy.deepcopy(values)
    for host in pinned.get("hosts") or []:
        if host.get("name") in endpoints:
            host.setdefault("ssh", {})["host_key"] = endpoints[host["name"]]["host_key"]
    ssh = pinned.setdefault("ssh", {})
    ssh["user"] = "root"
    jump = ssh.get("jump")
    if jump is not None:
        hosts = [h for h in plan.hosts if h.name in endpoints]
        landing = next((h for h in hosts if access(plan, h).address == jump["address"]), None)
        if landing is not None:
            jump["host_key"] = endpoints[landing.name]["host_key"]
        jump["user"] = "root"
    return pinned


def _dump(path: Path, data: dict[str, Any], comment: str) -> None:
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, width=100))


def _stacks_of_region(project_dir: Path, inventory: str) -> list[str]:
    """Every stack of the project whose file names the region file ``inventory``."""
    found = []
    for path in sorted(Path(project_dir).glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        try:
            values = read_stack_file_values(Path(project_dir), stack)
        except Exception:  # noqa: BLE001 - another stack's problem is not this lab's
            continue
        if values.get("inventory") == inventory:
            found.append(stack)
    return found


def write_lab_project(
    project_dir: Path,
    stack: str,
    plan: Plan,
    prefix: str,
    endpoints: dict[str, dict],
    region: bool = False,
) -> tuple[Path, list[str]]:
    """Write the lab's project folder (see the module); returns it and the stacks it holds:
    ``stack``, or (``region``: a region lab) every AZ stack naming its region file."""
    project_dir = Path(project_dir).resolve()
    folder = lab_project(project_dir, prefix)
    folder.mkdir(parents=True, exist_ok=True)
    project = read_yaml(project_dir / "Pulumi.yaml")
    runtime = project.get("runtime")
    if isinstance(runtime, dict):
        options = runtime.setdefault("options", {})
        venv = options.get("virtualenv")
        if isinstance(venv, str):
            options["virtualenv"] = str((project_dir / venv).resolve())
    project["main"] = str(project_dir)
    note = f"lanes lab {prefix}: written by `lanes lab up --bare`; removed by `lanes lab down`."
    _dump(folder / "Pulumi.yaml", project, note)
    for name in ("policies", ".venv"):
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(project_dir / name)
    values = read_stack_file_values(project_dir, stack)
    where = str(stack_file(project_dir, stack))
    pin_note = f"{note}\nThe stack's config with the lab's host keys pinned."
    if values.get("inventory") is None:
        config = {f"{NAMESPACE}:{k}": v for k, v in _pin(values, plan, endpoints).items()}
        _dump(folder / f"Pulumi.{stack}.yaml", {"config": config}, pin_note)
        return folder, [stack]
    inventory = values["inventory"]
    keys = read_yaml(inventory_path(project_dir, inventory, where))
    copy_path = folder / inventory
    copy_path.parent.mkdir(parents=True, exist_ok=True)
    _dump(copy_path, _pin(keys, plan, endpoints), f"{note}\n{inventory} with the lab's host keys.")
    stacks = _stacks_of_region(project_dir, inventory) if region else [stack]
    for name in stacks:
        own = read_stack_file_values(project_dir, name)
        config = {f"{NAMESPACE}:{k}": v for k, v in own.items()}
        _dump(folder / f"Pulumi.{name}.yaml", {"config": config}, pin_note)
    return folder, stacks


def lab_engine(project_dir: Path, prefix: str) -> Engine:
    """The built engine for the lab's project, run from the lab's deploy box namespace."""
    folder = lab_project(project_dir, prefix)
    return Engine(
        project_dir,
        home=folder / "home",
        backend=folder / "state",
        wrap=["ip", "netns", "exec", f"{prefix}deploy"],
    )


def open_stacks(project_dir: Path, prefix: str, stacks: list[str]) -> None:
    """Create each stack in the lab's backend, the lab's client key its SSH secret."""
    engine = lab_engine(project_dir, prefix)
    key = (STATE_ROOT / prefix / "client_ed25519").read_text()
    for stack in stacks:
        engine.init_stack(lab_project(project_dir, prefix), stack, {SECRET: key})


def run_pulumi(project_dir: Path, prefix: str, stack: str, args: list[str]) -> int:
    """``pulumi ARGS`` on the lab's stack ``stack``, its output straight to this terminal."""
    folder = lab_project(project_dir, prefix)
    if not (folder / f"Pulumi.{stack}.yaml").is_file():
        raise LabError(
            f"lab {prefix} has no stack {stack} (a bare lab's stacks: "
            f"{', '.join(sorted(p.name[7:-5] for p in folder.glob('Pulumi.*.yaml'))) or 'none'})"
        )
    engine = lab_engine(project_dir, prefix)
    engine.check(folder, "stack", "select", stack)
    sys.stdout.flush()
    return subprocess.run(engine.argv(*args), cwd=folder, env=engine.env).returncode


def remove_lab_project(project_dir: Path, prefix: str) -> bool:
    """Remove the lab's project folder (its stacks' state with it); whether there was one."""
    folder = lab_project(project_dir, prefix)
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True
