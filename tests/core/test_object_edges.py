"""The API server's limits at their edges, as the policy pack and `lanes plan` judge a rendered
object (``check_object``): the longest value the server admits passes, one character more is
refused naming the field. The server's own verdicts on these limits are in tests/kube."""

from __future__ import annotations

from typing import Any

from lanes.rules import RuleId, check_object


def verdicts(kind: str, body: dict[str, Any]) -> list[tuple[str, RuleId]]:
    return [(v.path, v.rule) for v in check_object(kind, body)]


def gateway(hostname: str) -> dict[str, Any]:
    listener = {"name": "shop-80", "hostname": hostname, "port": 80, "protocol": "HTTP"}
    return {
        "metadata": {"name": "lanes-az-1", "namespace": "tigera-gateway"},
        "spec": {"gatewayClassName": "lanes-az-1", "listeners": [listener]},
    }


def test_a_hostname_label_of_63_passes_and_of_64_is_refused():
    assert verdicts("Gateway", gateway(f"{'a' * 63}.example.com")) == []
    assert verdicts("Gateway", gateway(f"{'a' * 64}.example.com")) == [
        ("spec.listeners[0].hostname", RuleId.HOSTNAME_DNS)
    ]


def test_a_namespace_of_63_passes_and_of_64_is_refused():
    def policy(namespace: str) -> dict[str, Any]:
        return {"metadata": {"name": "allow-egress", "namespace": namespace}, "spec": {}}

    assert verdicts("NetworkPolicy", policy("a" * 63)) == []
    assert verdicts("NetworkPolicy", policy("a" * 64)) == [("metadata.namespace", RuleId.K8S_NAME)]


def test_a_name_of_253_passes_and_of_254_is_refused():
    def pool(name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "spec": {}}

    assert verdicts("IPPool", pool("a" * 253)) == []
    [violation] = check_object("IPPool", pool("a" * 254))
    assert (violation.path, violation.rule) == ("metadata.name", RuleId.K8S_NAME)
    assert "is not a DNS subdomain of at most 253 characters" in violation.message


def test_a_gateway_class_is_a_dns_subdomain_and_fits_a_label():
    def api(name: str) -> dict[str, Any]:
        return {"metadata": {"name": "tigera-secure"}, "spec": {"gatewayClasses": [{"name": name}]}}

    field = "spec.gatewayClasses[0].name"
    assert verdicts("GatewayAPI", api("lanes-az-1")) == []
    # a short name that is no DNS subdomain: only the subdomain's refusal
    [violation] = check_object("GatewayAPI", api("Lanes_AZ"))
    assert (violation.path, violation.rule) == (field, RuleId.K8S_NAME)
    assert "'Lanes_AZ' is not a DNS subdomain of at most 253 characters" == violation.message
    # 253: a DNS subdomain still, but no label value (Envoy Gateway's label); 254: neither
    assert [v.message.split(";")[0] for v in check_object("GatewayAPI", api("a" * 253))] == [
        f"the GatewayClass {'a' * 40}... is 253 characters"
    ]
    assert len(check_object("GatewayAPI", api("a" * 254))) == 2
