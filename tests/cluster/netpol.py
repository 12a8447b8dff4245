"""A small evaluator of Kubernetes NetworkPolicy semantics over rendered objects.

What it models (networking.k8s.io/v1, as Calico enforces it):
- A pod is isolated for a direction when some policy of its namespace selects it and lists
  that direction in ``policyTypes`` (default: Ingress, plus Egress when ``egress`` is set).
- A connection is allowed when the source's egress allows it (or the source is not isolated
  for egress, or is not a pod) AND the destination's ingress allows it (same rule).
- A rule matches when one of its peers matches (no ``from``/``to``: everyone) and one of its
  ports matches (no ``ports``: every port).
- Peers: ``podSelector`` alone selects pods of the policy's namespace; ``namespaceSelector``
  alone all pods of the selected namespaces; both: the selected pods of the selected
  namespaces; ``ipBlock`` an address range minus ``except`` (Calico applies it to pod
  addresses too).
- Selectors: ``matchLabels`` and ``matchExpressions`` (In, NotIn, Exists, DoesNotExist); an
  empty selector selects everything. Namespaces carry ``kubernetes.io/metadata.name``.
Services are resolved before policy (kube-proxy DNATs first), so endpoints here are pods or
plain addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netaddr import IPAddress, IPNetwork

__all__ = ["Endpoint", "Cluster", "pod", "host"]


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace set) or an address outside the pod network (namespace None)."""

    name: str
    ip: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def pod(name: str, ip: str, namespace: str, **labels: str) -> Endpoint:
    return Endpoint(name, ip, namespace, dict(labels))


def host(name: str, ip: str) -> Endpoint:
    return Endpoint(name, ip)


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        ok = {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[op]
        if not ok:
            return False
    return True


class Cluster:
    """Namespaces and NetworkPolicies of a rendered manifest set."""

    def __init__(self, objects: list[dict[str, Any]], extra_namespaces: dict[str, dict[str, str]]):
        self.namespaces: dict[str, dict[str, str]] = {}
        for name, labels in extra_namespaces.items():
            self.namespaces[name] = {**labels, "kubernetes.io/metadata.name": name}
        for obj in objects:
            if obj["kind"] == "Namespace":
                name = obj["metadata"]["name"]
                labels = obj["metadata"].get("labels") or {}
                self.namespaces[name] = {**labels, "kubernetes.io/metadata.name": name}
        self.policies = [o for o in objects if o["kind"] == "NetworkPolicy"]

    def _types(self, policy: dict[str, Any]) -> list[str]:
        spec = policy["spec"]
        if "policyTypes" in spec:
            return spec["policyTypes"]
        return ["Ingress"] + (["Egress"] if "egress" in spec else [])

    def _applying(self, endpoint: Endpoint, direction: str) -> list[dict[str, Any]]:
        if endpoint.namespace is None:
            return []
        return [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == endpoint.namespace
            and _selects(p["spec"].get("podSelector"), endpoint.labels)
            and direction in self._types(p)
        ]

    def _peer_matches(self, peer: dict[str, Any], policy_ns: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            ip = IPAddress(other.ip)
            return ip in IPNetwork(block["cidr"]) and not any(
                ip in IPNetwork(c) for c in block.get("except") or []
            )
        if other.namespace is None:
            return False
        pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
        if namespaces is None:
            in_ns = other.namespace == policy_ns
        else:
            in_ns = _selects(namespaces, self.namespaces.get(other.namespace, {}))
        return in_ns and (pods is None or _selects(pods, other.labels))

    def _rule_matches(
        self,
        rule: dict[str, Any],
        key: str,
        policy_ns: str,
        other: Endpoint,
        port: int,
        protocol: str,
    ) -> bool:
        peers = rule.get(key)
        if peers and not any(self._peer_matches(p, policy_ns, other) for p in peers):
            return False
        ports = rule.get("ports")
        return not ports or any(
            p.get("protocol", "TCP") == protocol and ("port" not in p or p["port"] == port)
            for p in ports
        )

    def _allowed(
        self, endpoint: Endpoint, other: Endpoint, direction: str, port: int, protocol: str
    ) -> bool:
        policies = self._applying(endpoint, direction)
        if not policies:
            return True
        section, key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        return any(
            self._rule_matches(rule, key, p["metadata"]["namespace"], other, port, protocol)
            for p in policies
            for rule in p["spec"].get(section) or []
        )

    def allows(self, src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """Whether a new connection src -> dst:port/protocol is let through both ends."""
        return self._allowed(src, dst, "Egress", port, protocol) and self._allowed(
            dst, src, "Ingress", port, protocol
        )
