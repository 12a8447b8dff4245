"""The engine tier's cluster stacks: projects running ``cluster_program.py`` under the real engine
and the pulumi-kubernetes plugin ``make cluster-tools`` builds, against the lab's API server."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import shutil
from pathlib import Path
from typing import Any

from lanes.config.stackfile import load_stack
from lanes.lab.apiserver_run import ApiError, KubeClient, LabCluster
from lanes.lab.clustertools import tool_path
from lanes.render.cluster import ClusterPlan, plan_cluster
from lanes.rules import checked_plan
from tests.engine.harness import REPO, Engine, Result

__all__ = [
    "PROGRAM",
    "FIELD_MANAGER",
    "without_releases",
    "use_lab_cluster",
    "cluster_project",
    "stack_objects",
    "changed_steps",
    "urn_type",
    "live",
    "check_applied",
    "check_removed",
]

PROGRAM = Path(__file__).with_name("cluster_program.py")
FIELD_MANAGER = "lanes"
# The plugin's version: the pulumi_kubernetes SDK's, which pyproject.toml pins to the release the
# built plugin is (README: "Which pulumi-kubernetes release the plugin is").
KUBERNETES_PLUGIN = importlib.metadata.version("pulumi_kubernetes")


def without_releases(cluster: ClusterPlan) -> ClusterPlan:
    """The plan without its Helm releases; what waited for them waits for nothing."""
    charts = {r.role for r in cluster.releases}
    manifests = tuple(
        dataclasses.replace(m, after=tuple(a for a in m.after if a not in charts))
        for m in cluster.manifests
    )
    return dataclasses.replace(cluster, releases=(), manifests=manifests)


def use_lab_cluster(engine: Engine) -> None:
    """The plugin ``make cluster-tools`` built, installed into the engine's home as the version
    the pinned SDK asks for (never downloaded, never found on PATH: the engine turns both off),
    the repo importable by the program (it shares ``without_releases`` with the checks), and a
    tmp dir of the engine's own."""
    engine.cli.install_plugin(
        "resource", "kubernetes", KUBERNETES_PLUGIN, tool_path("pulumi-resource-kubernetes")
    )
    engine.cli.env["PYTHONPATH"] = str(REPO)
    # The plugin writes the kubeconfig it is given to a file of its own in $TMPDIR (for Helm)
    # and never removes it: keep those copies in the engine's tmp dir, removed with it.
    tmp = engine.root / "tmp"
    tmp.mkdir(exist_ok=True)
    engine.cli.env["TMPDIR"] = str(tmp)


def cluster_project(
    engine: Engine, lab: LabCluster, name: str, stack: str, config: dict[str, Any]
) -> Path:
    """A project whose program is the cluster program, one stack with ``config`` (a region
    file it names is copied beside it), the SSH key and the lab's kubeconfig as secrets."""
    folder = engine.project(name, main=None)
    shutil.copy(PROGRAM, folder / "__main__.py")
    inventory = config.get("lanes:inventory")
    if inventory:
        (folder / inventory).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / inventory, folder / inventory)
    engine.stack(folder, stack, config)
    engine.check(
        folder, "config", "set", "--secret", "lanes:kubeconfig", "--stack", stack,
        stdin=lab.kubeconfig,
    )  # fmt: skip
    return folder


def stack_objects(project: Path, stack: str) -> list[dict[str, Any]]:
    """The objects the stack's program declares, as lanes renders them."""
    report = checked_plan(load_stack(project, stack))
    assert report.plan is not None, [str(v) for v in report.violations]
    return [m.body for m in without_releases(plan_cluster(report.plan)).manifests]


def urn_type(urn: str) -> str:
    """A URN's resource type (its parents' types stripped)."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def changed_steps(
    engine: Engine, project: Path, stack: str, command: str = "preview"
) -> tuple[Result, dict[str, str]]:
    """``pulumi preview --json`` (or ``up --yes --json``): urn -> op of every step not ``same``."""
    extra = ("--yes",) if command == "up" else ()
    result = engine.run(
        project, command, *extra, "--json", "--stack", stack, "--non-interactive"
    )
    assert result.ok, result.log
    # up --json: the plan's document (its steps), then the update's events, one per line
    plan, _ = json.JSONDecoder().raw_decode(result.output, result.output.index("{"))
    steps = plan.get("steps") or []
    return result, {s["urn"]: s["op"] for s in steps if s["op"] != "same"}


def live(client: KubeClient, body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return client.get(client.object_path(body))
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _within(want: Any, have: Any) -> bool:
    """Every field of ``want`` is in ``have`` with its value (the server may add defaults)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _within(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(
            _within(w, h) for w, h in zip(want, have, strict=True)
        )
    return want == have


def check_applied(client: KubeClient, bodies: list[dict[str, Any]]) -> list[str]:
    """What is wrong on the server: an object missing, not applied by lanes' field manager, or
    without a field lanes set (a Node: without a label)."""
    problems = []
    for body in bodies:
        found = live(client, body)
        where = f"{body['kind']} {body['metadata'].get('namespace', '')}/{body['metadata']['name']}"
        if found is None:
            problems.append(f"{where}: missing")
            continue
        managers = {(m["manager"], m["operation"]) for m in found["metadata"]["managedFields"]}
        if (FIELD_MANAGER, "Apply") not in managers:
            problems.append(f"{where}: not applied by {FIELD_MANAGER}: {sorted(managers)}")
        labels = body["metadata"].get("labels") or {}
        if not _within(labels, found["metadata"].get("labels") or {}):
            problems.append(f"{where}: labels {found['metadata'].get('labels')} lack {labels}")
        if "spec" in body and not _within(body["spec"], found.get("spec")):
            problems.append(f"{where}: spec differs: {json.dumps(found.get('spec'))[:300]}")
    return problems


def check_removed(client: KubeClient, bodies: list[dict[str, Any]]) -> list[str]:
    """What lanes left: an object still there, a Node still carrying lanes' labels or fields."""
    problems = []
    for body in bodies:
        found = live(client, body)
        if body["kind"] != "Node":
            if found is not None:
                problems.append(f"{body['kind']} {body['metadata']['name']}: still there")
            continue
        assert found is not None  # the lab's Node itself stays
        managers = {m["manager"] for m in found["metadata"].get("managedFields") or []}
        kept = set(body["metadata"]["labels"]) & set(found["metadata"].get("labels") or {})
        if FIELD_MANAGER in managers or kept:
            problems.append(f"Node {body['metadata']['name']}: keeps {sorted(kept)} {managers}")
    return problems
