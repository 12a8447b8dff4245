"""Rules of the Kubernetes objects lanes renders, judged on the objects themselves: names,
namespaces and labels within the API server's limits, names another controller turns into
labels within a label's, Gateway listeners unique and within Gateway API's limits, a Gateway's
addresses within its bound, an AS number within Calico's field.

One place: ``check_object`` judges one object. ``lanes.render.limits`` renders every AZ stack's
objects of the region and judges each with it, naming the config path that made the value; the
policy pack judges each declared Kubernetes resource with it. The limits are the API server's
own (apimachinery's validation, the CRDs' schemas and CEL rules), so an object lanes passes is
one the server admits; ``tests/kube`` feeds each refusal to a real API server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lanes.rules.core import RuleId, Violation

__all__ = [
    "LABEL_VALUE_MAX",
    "NAME_MAX",
    "LISTENER_NAME_MAX",
    "GATEWAY_ADDRESSES_MAX",
    "CALICO_AS_MAX",
    "dns_label_problem",
    "check_object",
]

# apimachinery: a DNS-1123 label (63), a DNS-1123 subdomain (253), a label value (63) and a
# qualified name (an optional DNS subdomain prefix, "/", a name of 63).
LABEL_VALUE_MAX = 63
NAME_MAX = 253
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
# Gateway API v1 (the pinned release and the operator's copy agree): a listener's name is a
# SectionName (a DNS subdomain of 253), its hostname a Hostname (253, an optional "*." label);
# names unique per Gateway (CEL); at most 16 addresses.
LISTENER_NAME_MAX = 253
GATEWAY_ADDRESSES_MAX = 16
# Calico 3.31's CRDs (crd.projectcalico.org BGPConfiguration and BGPPeer, what the Calico API
# server stores projectcalico.org/v3 objects as) declare asNumber "integer, format int32": the
# API server refuses a larger AS, so 4-byte private AS numbers (RFC 6996) cannot be used.
CALICO_AS_MAX = 2**31 - 1
# Kinds whose name is a DNS label (apimachinery's ValidateNamespaceName); the rest: subdomains.
_LABEL_NAMED = frozenset({"Namespace"})
# Calico Ingress Gateway is Envoy Gateway: it labels the objects it makes for a Gateway with the
# Gateway's and its class's names (gateway.envoyproxy.io/owning-gateway-name, -gatewayclass),
# so those names must fit a label value, or the proxies of the AZ are never created.
_LABELLED_NAMES = "Envoy Gateway labels the proxies' objects with it"
_LISTENER_NAMES = "lanes names a listener <tenant>-<port>-<hostname>, '*' spelt wildcard"


def dns_label_problem(hostname: str) -> str | None:
    """What makes ``hostname`` no DNS name: a label over 63 characters (RFC 1035 2.3.4), or a
    whole name over 253; None when it is one."""
    too_long = [label for label in hostname.split(".") if len(label) > LABEL_VALUE_MAX]
    if too_long:
        return (
            f"its label {too_long[0][:20]}... is {len(too_long[0])} characters; a DNS label holds "
            f"at most {LABEL_VALUE_MAX} (RFC 1035)"
        )
    if len(hostname) > NAME_MAX:
        return f"is {len(hostname)} characters; a DNS name holds at most {NAME_MAX}"
    return None


def _name_problems(kind: str, meta: Mapping[str, Any]) -> list[Violation]:
    found = []
    name = str(meta.get("name") or "")
    pattern, limit, what = (
        (_DNS_LABEL, LABEL_VALUE_MAX, "a DNS label")
        if kind in _LABEL_NAMED
        else (_DNS_SUBDOMAIN, NAME_MAX, "a DNS subdomain")
    )
    if len(name) > limit or not pattern.match(name):
        found.append(
            Violation(
                "metadata.name",
                RuleId.K8S_NAME,
                f"{name[:40]!r} is not {what} of at most {limit} characters",
            )
        )
    namespace = meta.get("namespace")
    if namespace is not None and (
        len(str(namespace)) > LABEL_VALUE_MAX or not _DNS_LABEL.match(str(namespace))
    ):
        found.append(
            Violation(
                "metadata.namespace",
                RuleId.K8S_NAME,
                f"{str(namespace)[:40]!r} is not a DNS label of at most {LABEL_VALUE_MAX} characters",
            )
        )
    return found


def _label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > NAME_MAX or not _DNS_SUBDOMAIN.match(prefix)):
        return f"its prefix is not a DNS subdomain of at most {NAME_MAX} characters"
    if len(name) > LABEL_VALUE_MAX or not _QUALIFIED_NAME.match(name):
        return f"its name is not alphanumerics, '-', '_' or '.' of at most {LABEL_VALUE_MAX}"
    return None


def _label_problems(field: str, labels: Mapping[str, Any]) -> list[Violation]:
    found = []
    for key, value in sorted(labels.items()):
        problem = _label_key_problem(str(key))
        if problem:
            found.append(Violation(field, RuleId.K8S_NAME, f"label key {key[:40]!r}: {problem}"))
        text = str(value)
        if len(text) > LABEL_VALUE_MAX or not _LABEL_VALUE.match(text):
            found.append(
                Violation(
                    f"{field}.{key}",
                    RuleId.K8S_NAME,
                    f"label value {text[:40]!r} is {len(text)} characters; a label value is at "
                    f"most {LABEL_VALUE_MAX} alphanumerics, '-', '_' or '.'",
                )
            )
    return found


def _labelled_name(field: str, value: str, what: str) -> list[Violation]:
    if len(value) <= LABEL_VALUE_MAX:
        return []
    return [
        Violation(
            field,
            RuleId.K8S_NAME,
            f"{what} {value[:40]}... is {len(value)} characters; {_LABELLED_NAMES}, and a label "
            f"value holds at most {LABEL_VALUE_MAX}",
        )
    ]


def _listener_problems(listeners: list[Mapping[str, Any]]) -> list[Violation]:
    found = []
    seen: dict[str, int] = {}
    for i, listener in enumerate(listeners):
        field = f"spec.listeners[{i}]"
        name = str(listener.get("name") or "")
        if len(name) > LISTENER_NAME_MAX or not _DNS_SUBDOMAIN.match(name):
            found.append(
                Violation(
                    f"{field}.name",
                    RuleId.GATEWAY_LISTENER_NAME,
                    f"listener name {name[:40]}... is {len(name)} characters; Gateway API allows "
                    f"a DNS subdomain of at most {LISTENER_NAME_MAX} ({_LISTENER_NAMES})",
                )
            )
        if name in seen:
            other = listeners[seen[name]]
            found.append(
                Violation(
                    f"{field}.name",
                    RuleId.GATEWAY_LISTENER_NAME,
                    f"listener name {name} (hostname {listener.get('hostname')}) is also "
                    f"spec.listeners[{seen[name]}]'s (hostname {other.get('hostname')}): listener "
                    f"names are unique per Gateway ({_LISTENER_NAMES})",
                )
            )
        seen.setdefault(name, i)
        hostname = listener.get("hostname")
        problem = dns_label_problem(str(hostname)) if hostname else None
        if problem:
            found.append(
                Violation(f"{field}.hostname", RuleId.HOSTNAME_DNS, f"hostname {hostname}: {problem}")
            )
    return found


def _gateway_problems(body: Mapping[str, Any]) -> list[Violation]:
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    found = _labelled_name("metadata.name", str(meta.get("name") or ""), "the Gateway's name")
    found += _labelled_name(
        "spec.gatewayClassName", str(spec.get("gatewayClassName") or ""), "its GatewayClass"
    )
    addresses = spec.get("addresses") or []
    if len(addresses) > GATEWAY_ADDRESSES_MAX:
        found.append(
            Violation(
                "spec.addresses",
                RuleId.GATEWAY_ADDRESSES,
                f"the Gateway lists {len(addresses)} addresses (one per ingress node of its AZ); "
                f"Gateway API allows {GATEWAY_ADDRESSES_MAX}",
            )
        )
    return found + _listener_problems(list(spec.get("listeners") or []))


def _gateway_api_problems(body: Mapping[str, Any]) -> list[Violation]:
    classes = (body.get("spec") or {}).get("gatewayClasses") or []
    found = []
    for i, entry in enumerate(classes):
        name = str(entry.get("name") or "")
        found += _labelled_name(f"spec.gatewayClasses[{i}].name", name, "the GatewayClass")
        if len(name) > NAME_MAX or not _DNS_SUBDOMAIN.match(name):
            found.append(
                Violation(
                    f"spec.gatewayClasses[{i}].name",
                    RuleId.K8S_NAME,
                    f"{name[:40]!r} is not a DNS subdomain of at most {NAME_MAX} characters",
                )
            )
    return found


def _as_number_problems(body: Mapping[str, Any]) -> list[Violation]:
    number = (body.get("spec") or {}).get("asNumber")
    if not isinstance(number, int | float) or number <= CALICO_AS_MAX:
        return []
    return [
        Violation(
            "spec.asNumber",
            RuleId.CALICO_AS_NUMBER,
            f"AS {int(number)} does not fit Calico's asNumber (the crd.projectcalico.org CRDs "
            f"store it as a 32-bit signed integer): at most {CALICO_AS_MAX}, so a 2-byte or a "
            "4-byte AS below 2147483648 (private: 64512-65534, RFC 6996)",
        )
    ]


def check_object(kind: str, body: Mapping[str, Any]) -> list[Violation]:
    """Every limit ``body`` (an object of ``kind``) breaks; each violation's path is the field,
    relative to the object (``metadata.name``, ``spec.listeners[3].name``)."""
    meta = body.get("metadata") or {}
    found = _name_problems(kind, meta) + _label_problems("metadata.labels", meta.get("labels") or {})
    if kind == "Gateway":
        found += _gateway_problems(body)
    elif kind == "GatewayAPI":
        found += _gateway_api_problems(body)
    elif kind in ("BGPConfiguration", "BGPPeer"):
        found += _as_number_problems(body)
    return found
