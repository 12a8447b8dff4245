"""The cluster objects every AZ stack of the region renders, judged against the API server's
limits (``lanes.rules.objects``), each violation at the config path that made the value.

``checked_objects(report)`` completes ``rules.checked_plan`` for the commands and the program
that declare or print cluster objects (``lanes plan``, ``__main__.py``): the objects are
rendered, so they are judged here, above the rules, once every other rule passes (rendering
assumes a sound plan).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from lanes.config.cluster import Cluster
from lanes.model.plan import Plan
from lanes.render.cluster import ClusterPlan, plan_cluster
from lanes.rules import Report, Violation, check_object, sort_violations
from lanes.rules.objects import LABEL_VALUE_MAX

__all__ = ["check_cluster_objects", "checked_objects"]


def _tenant_index(cluster: Cluster, name: str) -> int | None:
    return next((i for i, t in enumerate(cluster.tenants) if t.name == name), None)


def _listener_origin(cluster: Cluster, listener: Mapping[str, Any]) -> str:
    """``cluster.tenants[i].hostnames[j]`` of the tenant and hostname a listener serves."""
    selector = ((listener.get("allowedRoutes") or {}).get("namespaces") or {}).get("selector")
    tenant = next(iter(((selector or {}).get("matchLabels") or {}).values()), None)
    i = _tenant_index(cluster, str(tenant))
    if i is None:
        return "cluster.tenants"
    hostnames = cluster.tenants[i].hostnames
    j = hostnames.index(listener["hostname"]) if listener.get("hostname") in hostnames else None
    return f"cluster.tenants[{i}]" + (f".hostnames[{j}]" if j is not None else "")


def _origin(plan: Plan, body: Mapping[str, Any], field: str) -> str:
    """The config path whose value ``field`` of ``body`` is made from."""
    kind = body.get("kind")
    meta = body.get("metadata") or {}
    if kind in ("Gateway", "GatewayAPI") and field.startswith("spec.listeners["):
        index = int(field.split("[", 1)[1].split("]", 1)[0])
        return _listener_origin(plan.cluster, body["spec"]["listeners"][index])
    if kind in ("Gateway", "GatewayAPI") and field != "spec.addresses":
        return "cluster.gateway_class"
    if kind == "Gateway":
        return "hosts"  # its addresses: the AZ's ingress nodes' traffic addresses
    if kind in ("BGPConfiguration", "BGPPeer") and field == "spec.asNumber":
        return "cluster.calico." + ("as_number" if kind == "BGPConfiguration" else "router_as_number")
    if kind == "Node":
        host = next((h for h in plan.hosts if h.name == meta.get("name")), None)
        return "hosts" if host is None else f"{host.path}." + ("labels" if "labels" in field else "name")
    tenant = meta.get("namespace") if kind != "Namespace" else meta.get("name")
    i = _tenant_index(plan.cluster, str(tenant)) if tenant else None
    return f"cluster.tenants[{i}]" if i is not None else "cluster"


def _stack_objects(plan: Plan) -> Iterable[ClusterPlan]:
    """The cluster objects of every AZ stack of the region (the region-wide ones once)."""
    for az in plan.azs:
        yield plan_cluster(dataclasses.replace(plan, az=az))


def _class_room(plan: Plan) -> str:
    suffix = max(len(f"-{az}") for az in plan.azs)
    return (
        f"gateway_class holds at most {LABEL_VALUE_MAX - suffix} characters in this region "
        f"(each AZ's class and Gateway is <gateway_class>-<az>)"
    )


def check_cluster_objects(plan: Plan) -> list[Violation]:
    """Every object any AZ stack of the region renders, judged by ``check_object``; each
    violation names the config path that made the value and the first object it lands in
    (one value breaks the same rule in every AZ's Gateway: it is said once)."""
    first: dict[tuple[str, str], tuple[Violation, int]] = {}
    for cluster in _stack_objects(plan):
        for manifest in cluster.manifests:
            body = manifest.body
            meta = body.get("metadata") or {}
            where = "/".join(filter(None, [meta.get("namespace"), str(meta.get("name"))]))
            for v in check_object(manifest.kind, body):
                path = _origin(plan, body, v.path)
                seen = first.get((path, v.rule))
                if seen is not None:
                    first[(path, v.rule)] = (seen[0], seen[1] + 1)
                    continue
                message = f"{manifest.kind} {where[:70]} {v.path}: {v.message}"
                if path == "cluster.gateway_class":
                    message += f"; {_class_room(plan)}"
                first[(path, v.rule)] = (dataclasses.replace(v, path=path, message=message), 0)
    return [
        dataclasses.replace(v, message=v.message + (f" (and {more} more)" if more else ""))
        for v, more in first.values()
    ]


def checked_objects(report: Report) -> Report:
    """``report`` with the rendered objects' violations, when nothing else is broken."""
    if not report.ok or report.plan is None:
        return report
    return Report(report.plan, tuple(sort_violations(check_cluster_objects(report.plan))))
