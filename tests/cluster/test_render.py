"""Rendered manifests: golden files, Kubernetes 1.34 schemas, the pinned modules' CRDs."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest
import yaml

from lanes.config import parse_stack_config
from lanes.lab import crds
from lanes.render.cluster import CALICO_VERSION, KUBERNETES_VERSION, plan_cluster
from lanes.rules import checked_plan
from tests.cluster.conftest import region_plan
from tests.cluster.crd_schema import (
    GATEWAY_API,
    OPERATOR,
    SOURCES,
    module_dirs,
    required_modules,
    validate_object,
)
from tests.support.golden import assert_golden
from tests.support.kubernetes import render_manifests, render_releases
from tests.support.pulumi_run import stack_values


def documents(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_the_manifests_match_their_golden_files(stack, cluster):
    assert_golden(f"cluster/{stack}/manifests.yaml", render_manifests(cluster))
    assert_golden(f"cluster/{stack}/helm-releases.yaml", render_releases(cluster))


def test_the_rendered_yaml_is_the_objects_the_plan_holds(cluster):
    assert documents(render_manifests(cluster)) == [m.body for m in cluster.manifests]


def test_the_targeted_versions_are_the_ones_the_checks_use():
    assert KUBERNETES_VERSION == "1.34" and CALICO_VERSION == "3.31"


def test_every_built_in_object_validates_against_kubernetes_1_34_strict(cluster):
    built_in = [m.body for m in cluster.manifests if (m.body["apiVersion"], m.kind) not in SOURCES]
    assert {b["kind"] for b in built_in} >= {"Node"}
    for body in built_in:
        # strict: unknown fields are errors, not ignored
        assert kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True) == "1.34"


def test_every_custom_object_validates_against_its_crd(cluster):
    custom = [m.body for m in cluster.manifests if (m.body["apiVersion"], m.kind) in SOURCES]
    kinds = {b["kind"] for b in custom}
    assert kinds >= {"IPPool", "Installation", "APIServer", "BGPConfiguration", "BGPPeer"}
    for body in custom:
        assert validate_object(body)


def test_the_calico_crds_are_the_operators_of_calico_3_31():
    versions = module_dirs()[OPERATOR] / "config/calico_versions.yml"
    assert yaml.safe_load(versions.read_text())["title"] == "v3.31.0"
    assert dict(required_modules()) == {OPERATOR: "v1.40.0", GATEWAY_API: "v1.6.3"}


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda b: b["spec"].__setitem__("vxlanMod", "Always"), "'vxlanMod' was unexpected"),
        (lambda b: b["spec"].__setitem__("assignmentMode", "Sometimes"), "Sometimes"),
        (lambda b: b["spec"].__setitem__("blockSize", "26"), "'26' is not of type 'integer'"),
        (lambda b: b["metadata"].__setitem__("label", {}), "'label' was unexpected"),
    ],
)
def test_the_crd_check_fails_on_a_wrong_field(mutate, where):
    pool = copy.deepcopy(plan_cluster(region_plan("prod")).manifest("ippool-az-1").body)
    mutate(pool)
    with pytest.raises(jsonschema.ValidationError, match=where):
        validate_object(pool)


@pytest.mark.parametrize(
    ("role", "mutate", "where"),
    [
        ("bgp-peer-az-1", lambda b: b["spec"].__setitem__("peerIp", "1.2.3.4"), "'peerIp'"),
        ("bgp-peer-az-1", lambda b: b["spec"].__setitem__("asNumber", "64513"), "'64513'"),
        ("bgp-configuration", lambda b: b["spec"].__setitem__("nodeToNodeMesh", False), "Mesh'"),
    ],
)
def test_the_crd_check_fails_on_a_wrong_bgp_field(role, mutate, where):
    body = copy.deepcopy(plan_cluster(region_plan("prod")).manifest(role).body)
    mutate(body)
    with pytest.raises(jsonschema.ValidationError, match=where):
        validate_object(body)


def test_the_crd_check_fails_on_a_kind_without_a_source():
    with pytest.raises(jsonschema.ValidationError, match="no CRD source"):
        validate_object({"apiVersion": "projectcalico.org/v3", "kind": "IPPol", "metadata": {}})


def test_a_download_whose_hash_differs_from_go_sum_is_refused(monkeypatch):
    monkeypatch.setattr(crds, "_pinned_sums", lambda: {})
    with pytest.raises(RuntimeError, match="schemas/go.sum pins None"):
        crds.download_module(GATEWAY_API, "v1.6.3")


def test_the_kubernetes_check_fails_on_a_wrong_field():
    cluster = plan_cluster(region_plan("prod"))
    policy = copy.deepcopy(cluster.manifest("netpol-shop-allow-from-gateway").body)
    policy["spec"]["policyType"] = policy["spec"].pop("policyTypes")
    with pytest.raises(kubernetes_validate.ValidationError, match="policyType"):
        kubernetes_validate.validate(policy, KUBERNETES_VERSION, strict=True)


def gateway_body() -> dict:
    return copy.deepcopy(plan_cluster(region_plan("prod")).manifest("gateway-az-1").body)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        # each breaks the Gateway for both CRDs it is checked against
        (
            lambda b: b["spec"]["addresses"][0].__setitem__("kind", "IPAddress"),
            "'kind' was unexpected",
        ),
        (lambda b: b["spec"]["listeners"][0].__setitem__("protocol", 80), "80 is not of type"),
        (
            lambda b: b["spec"]["listeners"][0]["allowedRoutes"]["namespaces"].__setitem__(
                "from", "Everywhere"
            ),
            "'Everywhere' is not one of",
        ),
        (
            lambda b: b["spec"]["listeners"][0].__setitem__("hostname", "Shop.example.com"),
            "does not match",
        ),
        (lambda b: b["spec"]["listeners"].append(b["spec"]["listeners"][0]), "duplicate key"),
        (lambda b: b["spec"].__setitem__("listeners", []), "should be non-empty|is too short"),
    ],
)
def test_the_gateway_check_fails_on_a_wrong_field(mutate, where):
    body = gateway_body()
    mutate(body)
    with pytest.raises(jsonschema.ValidationError, match=where):
        validate_object(body)


def test_the_gateway_objects_fit_the_pinned_release_and_the_operators_own_crds():
    cluster = plan_cluster(region_plan("prod"))
    for role in ("gateway-az-1", "referencegrant-shop"):
        sources = validate_object(cluster.manifest(role).body)
        assert [s.module for s in sources] == [GATEWAY_API, OPERATOR]


def test_the_same_config_in_another_order_renders_byte_identical(stack):
    values = stack_values(stack)
    shuffled = copy.deepcopy(values)
    shuffled["hosts"] = list(reversed(shuffled["hosts"]))
    shuffled["cluster"]["tenants"] = list(reversed(shuffled["cluster"]["tenants"]))
    one = plan_cluster(checked_plan(parse_stack_config(values)).plan)
    two = plan_cluster(checked_plan(parse_stack_config(shuffled)).plan)
    assert render_manifests(one) == render_manifests(two)
    assert render_releases(one) == render_releases(two)


def test_the_listener_limit_of_the_rules_is_the_crds():
    values = stack_values("prod")
    names = [f"h{i}.shop.example.org" for i in range(32)]
    values["cluster"]["tenants"][0]["hostnames"] = names
    gateway = plan_cluster(checked_plan(parse_stack_config(values)).plan).manifest("gateway-az-1")
    assert len(gateway.body["spec"]["listeners"]) == 64
    assert validate_object(gateway.body)
    one_more = copy.deepcopy(gateway.body)
    one_more["spec"]["listeners"].append(dict(one_more["spec"]["listeners"][0], name="extra"))
    with pytest.raises(jsonschema.ValidationError, match="too long|64"):
        validate_object(one_more)
