"""Which listeners of rendered Gateways an HTTPRoute attaches to (Gateway API v1 semantics).

What it models (gateway.networking.k8s.io/v1, GEP-1364 / the spec's "Attaching Routes"):
- a ``parentRef`` names a Gateway (group and kind default to the Gateway API's, namespace to
  the route's), optionally one listener (``sectionName``) and one ``port``;
- a listener admits the route when its ``allowedRoutes.kinds`` list HTTPRoute (no list: the
  kinds of its protocol, HTTPRoute for HTTP and HTTPS) and ``allowedRoutes.namespaces`` admit
  the route's namespace: ``Same`` (the default) the Gateway's own, ``All`` any, ``Selector``
  the namespaces whose labels match (a namespace always carries
  ``kubernetes.io/metadata.name``);
- and when hostnames intersect: a listener without hostname takes every route; a route without
  hostnames takes the listener's; ``*.a.com`` matches ``b.a.com`` and ``c.b.a.com``, never
  ``a.com``; two wildcards intersect when one's suffix ends with the other's.
"""

from __future__ import annotations

from typing import Any

from tests.cluster.netpol import _selects

__all__ = ["attachments", "hostnames_intersect"]

GROUP = "gateway.networking.k8s.io"


def _matches(pattern: str, name: str) -> bool:
    if pattern.startswith("*."):
        return name.endswith(pattern[1:]) and name != pattern[2:]
    return pattern == name


def hostnames_intersect(listener: str | None, route: list[str]) -> bool:
    if listener is None or not route:
        return True
    return any(
        _matches(listener, name)
        or _matches(name, listener)
        or (
            listener.startswith("*.")
            and name.startswith("*.")
            and (name.endswith(listener[1:]) or listener.endswith(name[1:]))
        )
        for name in route
    )


def _admits_namespace(
    allowed: dict[str, Any], gateway_ns: str, route_ns: str, labels: dict[str, str]
) -> bool:
    namespaces = allowed.get("namespaces") or {}
    source = namespaces.get("from", "Same")
    if source == "All":
        return True
    if source == "Selector":
        return _selects(namespaces.get("selector"), labels)
    return route_ns == gateway_ns


def _admits_kind(listener: dict[str, Any]) -> bool:
    kinds = (listener.get("allowedRoutes") or {}).get("kinds")
    if kinds is None:
        return listener["protocol"] in ("HTTP", "HTTPS")
    return any(k.get("group", GROUP) == GROUP and k["kind"] == "HTTPRoute" for k in kinds)


def attachments(
    gateways: list[dict[str, Any]],
    route: dict[str, Any],
    namespace_labels: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """``(gateway, listener)`` pairs the route attaches to, in listener order."""
    route_ns = route["metadata"]["namespace"]
    labels = {**(namespace_labels or {}), "kubernetes.io/metadata.name": route_ns}
    found = []
    for ref in route["spec"].get("parentRefs") or []:
        if (ref.get("group", GROUP), ref.get("kind", "Gateway")) != (GROUP, "Gateway"):
            continue
        for gateway in gateways:
            meta = gateway["metadata"]
            if (meta["name"], meta["namespace"]) != (ref["name"], ref.get("namespace", route_ns)):
                continue
            for listener in gateway["spec"]["listeners"]:
                if ref.get("sectionName") not in (None, listener["name"]):
                    continue
                if ref.get("port") not in (None, listener["port"]):
                    continue
                allowed = listener.get("allowedRoutes") or {}
                if (
                    _admits_kind(listener)
                    and _admits_namespace(allowed, meta["namespace"], route_ns, labels)
                    and hostnames_intersect(
                        listener.get("hostname"), route["spec"].get("hostnames") or []
                    )
                ):
                    found.append((meta["name"], listener["name"]))
    return found
