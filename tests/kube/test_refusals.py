"""What the API server refuses, lanes refuses first (issues 22 and 23).

For each object kind lanes renders, a config that would make the object break one of the API
server's validation rules (its built-in validation, a CRD's schema or a CEL rule): the lab's
real API server refuses the object (a server-side dry run, what ``pulumi preview`` asks), and
``lanes plan`` refuses the config before any engine runs, with a rule id of the catalogue, or,
where a value alone is out of its bounds, with the schema's error naming the config path (exit
2, as for a VLAN of 5000).

When lanes refuses with a rule, the object is the one lanes renders from the broken config (the
plan is still computed); when the schema refuses, lanes renders nothing, and the object is the
one it renders from the committed config with the refused value put where the config would put
it.
"""

from __future__ import annotations

import copy
import io
import shutil
import tempfile
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from lanes.cli.main import main
from lanes.config import parse_stack_config
from lanes.lab.apiserver_run import ApiError, KubeClient
from lanes.model.plan import Plan
from lanes.render.cluster import GATEWAY_NAMESPACE, plan_cluster
from lanes.rules import checked_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import ROOT, stack_values

Values = dict[str, Any]
Body = dict[str, Any]


def refused(client: KubeClient, body: Body) -> ApiError:
    """The API server's refusal of ``body`` (a dry run: nothing is kept), or a failed test."""
    try:
        client.create(client.collection(body), body, dry_run=True)
    except ApiError as exc:
        return exc
    pytest.fail(f"the API server admitted {body['kind']} {body['metadata']['name']}")


def plan_line(values: Values) -> tuple[int, str]:
    """``lanes plan`` of a one-file stack holding ``values``: exit code and what it printed."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        text = yaml.safe_dump({"config": {f"lanes:{k}": v for k, v in values.items()}})
        (project / "Pulumi.refused.yaml").write_text(text)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["plan", "--stack", "refused", "--project-dir", str(project)])
        return code, out.getvalue() + err.getvalue()


def objects(plan: Plan, az: str | None = None) -> list[Body]:
    """What the stack of ``az`` (default the plan's) renders."""
    return [m.body for m in plan_cluster(replace(plan, az=az or plan.az)).manifests]


def one(found: list[Body], kind: str, name: str | None = None) -> Body:
    (body,) = [
        b for b in found if b["kind"] == kind and name in (None, b["metadata"]["name"])
    ]
    return copy.deepcopy(body)


# --- the configs --------------------------------------------------------------------------------


def add_hostname(tenant: int, hostname: str) -> Callable[[Values], Values]:
    def change(values: Values) -> Values:
        names = values["cluster"]["tenants"][tenant].get("hostnames", [])
        return changed(values, f"cluster.tenants[{tenant}].hostnames", [*names, hostname])

    return change


def setting(path: str, value: Any) -> Callable[[Values], Values]:
    return lambda values: changed(values, path, value)


def more_ingress_nodes(count: int) -> Callable[[Values], Values]:
    """``count`` more ingress nodes in az-1, shaped like ingress-1 (numbers 101...)."""

    def change(values: Values) -> Values:
        (first,) = [h for h in values["hosts"] if h["name"] == "ingress-1"]
        grown = [
            dict(copy.deepcopy(first), name=f"ingress-x{i}", number=100 + i)
            for i in range(1, count + 1)
        ]
        return changed(values, "hosts", [*values["hosts"], *grown])

    return change


def envoy_label(gateway: Body) -> Body:
    """What Envoy Gateway makes for a Gateway: objects labelled with the Gateway's name."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "envoy-lanes-proxy",
            "namespace": GATEWAY_NAMESPACE,
            "labels": {"gateway.envoyproxy.io/owning-gateway-name": gateway["metadata"]["name"]},
        },
    }


@dataclass(frozen=True)
class RuleCase:
    """A config lanes plans but refuses with ``rule``; ``body`` picks the rendered object."""

    id: str
    stack: str
    change: Callable[[Values], Values]
    rule: str
    path: str
    body: Callable[[Plan], Body]
    server: str

    def __str__(self) -> str:
        return self.id


RULE_CASES = [
    RuleCase(
        "gateway-listener-names-collide",
        "prod",
        add_hostname(0, "wildcard.shop.example.com"),
        "gateway-listener-name",
        "cluster.tenants[0].hostnames[2]",
        lambda plan: one(objects(plan), "Gateway"),
        "Listener name must be unique within the Gateway",
    ),
    RuleCase(
        "gateway-listener-names-of-two-tenants-collide",
        "prod",
        lambda values: changed(
            values,
            "cluster.tenants",
            [
                *values["cluster"]["tenants"],
                {"name": "a", "hostnames": ["80-x.com"]},
                {"name": "a-80", "hostnames": ["x.com"]},
            ],
        ),
        "gateway-listener-name",
        "cluster.tenants[3].hostnames[0]",
        lambda plan: one(objects(plan), "Gateway"),
        "Listener name must be unique within the Gateway",
    ),
    RuleCase(
        "gateway-listener-name-over-253",
        "prod",
        add_hostname(1, ".".join(["a" * 60] * 4)),
        "gateway-listener-name",
        "cluster.tenants[1].hostnames[0]",
        lambda plan: one(objects(plan), "Gateway"),
        "spec.listeners[0].name: Too long: may not be more than 253",
    ),
    RuleCase(
        "gateway-over-16-addresses",
        "prod",
        more_ingress_nodes(14),
        "gateway-addresses",
        "hosts",
        lambda plan: one(objects(plan), "Gateway"),
        "spec.addresses: Too many: 17: must have at most 16 items",
    ),
    RuleCase(
        "gateway-name-over-a-label",
        "prod",
        setting("cluster.gateway_class", "edge-" + "x" * 54),
        "k8s-name",
        "cluster.gateway_class",
        lambda plan: envoy_label(one(objects(plan), "Gateway")),
        "must be no more than 63 bytes",
    ),
    RuleCase(
        "gateway-class-over-a-label",
        "prod",
        setting("cluster.gateway_class", "edge-" + "x" * 54),
        "k8s-name",
        "cluster.gateway_class",
        lambda plan: {
            **envoy_label(one(objects(plan), "Gateway")),
            "metadata": {
                "name": "envoy-lanes-class",
                "namespace": GATEWAY_NAMESPACE,
                "labels": {
                    "gateway.envoyproxy.io/owning-gatewayclass": one(objects(plan), "GatewayAPI")[
                        "spec"
                    ]["gatewayClasses"][0]["name"]
                },
            },
        },
        "must be no more than 63 bytes",
    ),
    RuleCase(
        "bgp-configuration-as-over-int32",
        "prod",
        setting("cluster.calico.as_number", 4200000000),
        "calico-as-number",
        "cluster.calico.as_number",
        lambda plan: one(objects(plan), "BGPConfiguration"),
        "must be of type integer with format int32 in spec.asNumber",
    ),
    RuleCase(
        "bgp-peer-as-over-int32",
        "prod",
        setting("cluster.calico.router_as_number", 4200000001),
        "calico-as-number",
        "cluster.calico.router_as_number",
        lambda plan: one(objects(plan), "BGPPeer", "lanes-az-1-router"),
        "must be of type integer with format int32 in spec.asNumber",
    ),
]


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_lanes_refuses_with_a_rule_what_the_server_refuses(lab_apiserver, case):
    values = case.change(stack_values(case.stack))
    report = checked_plan(parse_stack_config(values))
    assert report.plan is not None  # planned, then judged: the object is lanes' own rendering
    refusal = refused(lab_apiserver.client, case.body(report.plan))
    assert refusal.status == 422 and case.server in refusal.message, refusal.message
    code, output = plan_line(values)
    assert code == 1, output
    lines = [line for line in output.splitlines() if f"[{case.rule}]" in line]
    assert lines and all(line.startswith(f"violation: {case.path}: ") for line in lines), output


@dataclass(frozen=True)
class SchemaCase:
    """A value the schema refuses (exit 2 naming ``path``), and that value in the object."""

    id: str
    stack: str
    path: str
    value: Any
    body: Callable[[Plan], Body]
    server: str

    def __str__(self) -> str:
        return self.id


def tenant_namespace(plan: Plan) -> Body:
    """The tenant's Namespace with a 64-character name (the tenant's name). Its other objects
    live in that namespace: the server refuses them for want of it (404), so the Namespace's is
    the tenant name's refusal."""
    found = one(objects(plan), "Namespace", "shop")
    found["metadata"]["name"] = found["metadata"]["labels"]["lanes.io/tenant"] = "t" * 64
    return found


WORKER_1 = next(i for i, h in enumerate(stack_values("prod")["hosts"]) if h["name"] == "worker-1")


def node_with_label(plan: Plan) -> Body:
    node = one(objects(plan), "Node", "worker-1")
    node["metadata"]["labels"]["rack"] = "r" * 64
    return node


def pool_of_a_long_az(plan: Plan) -> Body:
    pool = one(objects(plan), "IPPool", "lanes-az-1")
    pool["metadata"]["labels"]["topology.kubernetes.io/zone"] = "z" * 64
    return pool


def in_default(body: Body) -> Body:
    """A tenant's object moved to ``default``: a dry run in a namespace that does not exist is
    refused for that (404) before the object is validated; validation is the same anywhere."""
    return dict(body, metadata=dict(body["metadata"], namespace="default"))


def policy_port(plan: Plan) -> Body:
    policy = one(
        [b for b in objects(plan) if b["metadata"].get("namespace") == "shop"],
        "NetworkPolicy",
        "lanes-allow-egress-grants",
    )
    policy["spec"]["egress"][0]["ports"] = [{"protocol": "TCP", "port": 70000}]
    return in_default(policy)


SCHEMA_CASES = [
    SchemaCase(
        "namespace-name-over-63",
        "prod",
        "cluster.tenants[0].name",
        "t" * 64,
        tenant_namespace,
        "must be no more than 63 characters",
    ),
    SchemaCase(
        "network-policy-port-over-65535",
        "prod",
        "cluster.tenants[0].egress[0].ports[0]",
        70000,
        policy_port,
        "must be between 1 and 65535",
    ),
    SchemaCase(
        "node-label-value-over-63",
        "prod",
        f"hosts[{WORKER_1}].labels",
        {"rack": "r" * 64},
        node_with_label,
        "must be no more than 63 bytes",
    ),
    SchemaCase(
        "ippool-zone-label-over-63",
        "prod",
        "azs[0]",
        "z" * 64,
        pool_of_a_long_az,
        "must be no more than 63 bytes",
    ),
]


@pytest.mark.parametrize("case", SCHEMA_CASES, ids=str)
def test_the_schema_refuses_what_the_server_refuses(lab_apiserver, case):
    values = stack_values(case.stack)
    report = checked_plan(parse_stack_config(values))
    assert report.plan is not None
    refusal = refused(lab_apiserver.client, case.body(report.plan))
    assert refusal.status == 422 and case.server in refusal.message, refusal.message
    code, output = plan_line(changed(values, case.path, case.value))
    assert code == 2, output
    assert f"error: {case.path}" in output, output


def test_a_hostname_label_over_63_is_lanes_refusal_alone(lab_apiserver):
    """Gateway API's Hostname pattern bounds the name (253), not its labels: the API server
    admits a 64-character label, which no DNS name and no certificate can hold (RFC 1035).
    lanes refuses it (``hostname-dns``)."""
    values = add_hostname(1, f"{'a' * 64}.example.com")(stack_values("prod"))
    report = checked_plan(parse_stack_config(values))
    assert report.plan is not None
    gateway = one(objects(report.plan), "Gateway")
    client = lab_apiserver.client
    client.create(client.collection(gateway), gateway, dry_run=True)  # admitted
    code, output = plan_line(values)
    assert code == 1 and "violation: cluster.tenants[1].hostnames[0]: " in output, output
    assert "[hostname-dns]" in output


def test_the_committed_stacks_objects_are_all_admitted(lab_apiserver):
    """The control of every case above: what lanes renders from the committed stacks, every
    AZ stack's, passes the same dry run (nothing is kept)."""
    client = lab_apiserver.client
    for stack in ("dev", "prod"):
        plan = checked_plan(parse_stack_config(stack_values(stack))).plan
        assert plan is not None
        for az in plan.azs:
            for body in objects(plan, az):
                if body["kind"] == "Node":
                    continue  # the lab's Nodes exist: lanes patches their labels (the engine tier)
                namespace = body["metadata"].get("namespace")
                if namespace and namespace != GATEWAY_NAMESPACE:
                    body = in_default(body)
                client.create(client.collection(body), body, dry_run=True)
