"""Kubernetes manifests and Helm values of a ClusterPlan as YAML, in the plan's stable order: the
cluster tests' golden files (the program declares the objects themselves, lanes.render.cluster)."""

from __future__ import annotations

from typing import Any

import yaml

from lanes.render.cluster import ClusterPlan, HelmRelease, Manifest

__all__ = ["render_manifest", "render_manifests", "render_release", "render_releases"]


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, no aliases for repeated values."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=100)


def render_manifest(manifest: Manifest) -> str:
    """One YAML document, headed by the Pulumi role and how it is applied."""
    how = "NodePatch (labels only, server-side apply)" if manifest.patch else "create"
    head = f"# {manifest.role}: {how}" + (", protected" if manifest.protect else "")
    return f"---\n{head}\n{_dump(manifest.body)}"


def render_manifests(plan: ClusterPlan) -> str:
    """Every object the stack declares, in declaration order."""
    head = (
        f"# lanes cluster objects of {plan.region}/{plan.az}"
        f"{' (region owner)' if plan.owner else ''}: Kubernetes 1.34, Calico 3.31, "
        "Gateway API v1\n"
    )
    return head + "".join(render_manifest(m) for m in plan.manifests)


def render_release(release: HelmRelease) -> str:
    """A release as a YAML document: chart coordinates and the values lanes sets."""
    doc = {
        "release": release.name,
        "namespace": release.namespace,
        "chart": release.chart.name,
        "version": release.chart.version,
        "repository": release.chart.repository,
        "values": release.values,
    }
    return f"---\n# {release.role}: helm.v3.Release\n{_dump(doc)}"


def render_releases(plan: ClusterPlan) -> str:
    """Every Helm release the stack declares."""
    head = f"# lanes Helm releases of {plan.region}/{plan.az}\n"
    return head + "".join(render_release(r) for r in plan.releases)
