"""Bare labs driven by the real engine: ``lanes lab up --bare``, then ``pulumi`` from the deploy box.

``open_bare_lab`` brings up a bare lab of a committed stack (or its region) with its Pulumi
project (``lanes.lab.stack``) and yields a ``BareLab``: ``pulumi(stack, ...)`` runs the built CLI
on one of its stacks from the lab's deploy box (an event log per run, for assertions on what the
engine did), ``host(name)`` is a host's namespace and view, ``state(name)`` what a host holds
(its files, addresses, routes, rules, nft ruleset, nginx and BIRD), ``touched(log)`` which hosts
a run's steps ran on. Engine-tier modules share one lab each (module fixtures); later tiers
(fewer resources per host, faults during ``pulumi up``) reuse them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lanes.lab.engine import Engine, Run
from lanes.lab.netns import STATE_ROOT, VIEWS, NsHost
from lanes.lab.site import AttachedLab, SiteModel, SiteOptions, stack_site
from lanes.lab.stack import lab_engine, lab_project
from lanes.model.plan import Plan
from tests.support.machine import MachineGuard

__all__ = ["BareLab", "HostState", "open_bare_lab", "lanes_lab", "step_hosts", "changed_urns"]

REPO = Path(__file__).resolve().parents[2]
COMMON = ("--non-interactive", "--color=never")


@dataclass(frozen=True)
class HostState:
    """What a host holds, as ``pulumi destroy`` must leave it: files (by the host's own view),
    addresses, routes, policy rules, the nft ruleset, the lanes nginx, BIRD."""

    files: dict[str, str]
    network: dict[str, Any]
    nft: str
    nginx: int
    bird: str

    def differences(self, other: HostState, lower: dict[str, str]) -> list[str]:
        """What differs from ``other`` (a later state); a path only one of them wrote is
        compared with this machine's own file (``lower``: what the view shows without it)."""
        found = []
        for path in sorted(set(self.files) | set(other.files)):
            mine = self.files.get(path, lower.get(path, "absent"))
            theirs = other.files.get(path, lower.get(path, "absent"))
            if mine != theirs:
                found.append(f"file {path}: {mine[:12]} -> {theirs[:12]}")
        for key in self.network:
            if self.network[key] != other.network[key]:
                found.append(f"{key}: {self.network[key]} -> {other.network[key]}")
        for name in ("nft", "nginx", "bird"):
            if getattr(self, name) != getattr(other, name):
                found.append(f"{name}: {getattr(self, name)!r} -> {getattr(other, name)!r}")
        return found


def _digest(path: Path) -> str:
    if path.is_symlink():
        return "-> " + str(path.readlink())
    if path.is_char_device():
        return "absent"  # an overlay whiteout: the view hides the lower file
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lower(real: str) -> str:
    path = Path(real)
    if not path.exists() and not path.is_symlink():
        return "absent"
    return _digest(path) if not path.is_dir() else "dir"


@dataclass
class BareLab:
    """A bare lab, its Pulumi project and the engine run from its deploy box."""

    site: SiteModel
    prefix: str
    engine: Engine
    runs: list[Run] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def project(self) -> Path:
        return lab_project(REPO, self.prefix)

    @property
    def plan(self) -> Plan:
        return self.site.plan

    def pulumi(self, stack: str, *args: str, events: bool = True) -> tuple[Run, list[dict]]:
        """``pulumi ARGS --stack STACK`` in the lab's project, from the deploy box; with its
        engine events (``--event-log``) when ``events``."""
        extra: list[str] = []
        log = self.project / f"events-{len(self.runs)}.jsonl"
        if events:
            extra = ["--event-log", str(log)]
            self.logs.append(log)
        run = self.engine.run(self.project, *args, "--stack", stack, *COMMON, *extra)
        self.runs.append(run)
        found = []
        if events and log.exists():
            found = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        return run, found

    def stack_file(self, stack: str) -> Path:
        return self.project / f"Pulumi.{stack}.yaml"

    def edit_stack(self, stack: str, change) -> str:
        """Apply ``change`` to the stack's config (a dict of ``lanes:`` keys); returns the old
        text, to put back."""
        path = self.stack_file(stack)
        old = path.read_text()
        doc = yaml.safe_load(old)
        change(doc["config"])
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return old

    def host(self, name: str) -> NsHost:
        return NsHost(AttachedLab(self.prefix), name)  # type: ignore[arg-type]

    def upper(self, name: str) -> dict[str, str]:
        """Every file the host's own view holds apart from this machine's (its upper layers)."""
        files = {}
        for layer, real in (("etc", "/etc"), ("var-lib", "/var/lib")):
            root = STATE_ROOT / self.prefix / VIEWS / name / layer / "upper"
            for path in sorted(root.rglob("*")):
                if not path.is_dir() or path.is_symlink():
                    files[f"{real}/{path.relative_to(root)}"] = _digest(path)
        return files

    def state(self, name: str) -> HostState:
        ns = self.host(name)

        def ip(*args: str) -> Any:
            return json.loads(ns.run(["ip", "-j", *args]).stdout or "[]")

        network = {
            "addresses": sorted(
                (a["ifname"], f"{i['local']}/{i['prefixlen']}")
                for a in ip("-4", "address")
                for i in a.get("addr_info", [])
            ),
            "routes": sorted(
                json.dumps(r, sort_keys=True) for r in ip("-4", "route", "show", "table", "all")
            ),
            "rules": sorted(json.dumps(r, sort_keys=True) for r in ip("-4", "rule")),
        }
        nft = ns.run(["nft", "list", "ruleset"]).stdout
        bird = ns.run(["sh", "-c", "birdc show status >/dev/null 2>&1 && echo running || echo stopped;"
                       " systemctl is-enabled bird || true"]).stdout  # fmt: skip
        nginx = list(ns.processes().values()).count("nginx")
        return HostState(self.upper(name), network, nft, nginx, bird.strip())

    def lower(self, paths: set[str]) -> dict[str, str]:
        return {path: _lower(path) for path in paths}


def step_hosts(events: list[dict]) -> dict[str, set[str]]:
    """From an engine event log: host name -> the URNs of the steps that ran on it (each step's
    component says its ``host``: hosts, gateways and BGP speakers all do)."""
    hosts: dict[str, str] = {}  # component URN -> host
    steps: dict[str, str] = {}  # step URN -> parent URN
    for event in events:
        pre = event.get("resourcePreEvent")
        if pre is None:
            continue
        meta = pre["metadata"]
        new = meta.get("new") or meta.get("old") or {}
        if meta["type"].startswith("lanes:") and "host" in (new.get("inputs") or {}):
            hosts[meta["urn"]] = new["inputs"]["host"]
        elif meta["type"].startswith("command:remote:") and meta["op"] != "same":
            steps[meta["urn"]] = new.get("parent", "")
    found: dict[str, set[str]] = {}
    for urn, parent in steps.items():
        found.setdefault(hosts.get(parent, "?"), set()).add(urn)
    return found


def changed_urns(preview: Run) -> set[str]:
    """The URNs a ``pulumi preview --json`` would create, update, replace or delete."""
    doc = json.loads(preview.stdout)
    return {s["urn"] for s in doc.get("steps", []) if s.get("op") not in ("same", "read")}


def lanes_lab(*args: str) -> subprocess.CompletedProcess:
    """``python -m lanes lab ARGS`` in the repo, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "lanes", "lab", *args], cwd=REPO, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip


@contextmanager
def open_bare_lab(
    plan: Plan, stack: str, region: bool = False
) -> Iterator[tuple[BareLab, MachineGuard]]:
    """A bare lab of ``stack`` (``region``: its whole region) with its stacks, made and removed
    by the CLI (``lanes lab up --bare``, ``lanes lab down``); this machine is checked
    untouched afterwards."""
    site = stack_site(plan, stack, region, SiteOptions(bare=True))
    guard = MachineGuard({k for net in site.nets.values() for k, _ in net.sysctls})
    prefix = f"le{secrets.token_hex(3)}-"
    where = ["--stack", stack, "--prefix", prefix, *(["--region"] if region else [])]
    try:
        up = lanes_lab("up", "--bare", *where)
        assert up.returncode == 0, up.stderr
        assert f"lab {prefix}: stack(s) " in up.stderr, up.stderr
        yield BareLab(site, prefix, lab_engine(REPO, prefix)), guard
    finally:
        guard.note_views(prefix)
        down = lanes_lab("down", *where)
    assert down.returncode == 0, down.stderr
    assert not lab_project(REPO, prefix).exists()
