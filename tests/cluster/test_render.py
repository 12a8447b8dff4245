"""Rendered manifests: golden files, Kubernetes 1.34 schemas, Calico 3.31 field names."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest
import yaml

from lanes.cluster import CALICO_VERSION, KUBERNETES_VERSION, plan_cluster
from lanes.config import parse_stack_config
from lanes.render.kubernetes import render_manifests, render_releases
from lanes.rules import checked_plan
from tests.cluster.calico_schema import SCHEMAS, validate_calico
from tests.cluster.conftest import region_plan
from tests.support.golden import assert_golden
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
    built_in = [m.body for m in cluster.manifests if (m.body["apiVersion"], m.kind) not in SCHEMAS]
    assert {b["kind"] for b in built_in} >= {"Node"}
    for body in built_in:
        # strict: unknown fields are errors, not ignored
        assert kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True) == "1.34"


def test_every_calico_object_uses_only_calico_3_31_fields(cluster):
    calico = [m.body for m in cluster.manifests if (m.body["apiVersion"], m.kind) in SCHEMAS]
    assert {b["kind"] for b in calico} == {"Installation", "APIServer", "IPPool"}
    for body in calico:
        validate_calico(body)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda b: b["spec"].__setitem__("vxlanMod", "Always"), "vxlanMod"),
        (lambda b: b["spec"].__setitem__("ipipMode", "Sometimes"), "Sometimes"),
        (lambda b: b["spec"].__setitem__("blockSize", 19), "19"),
    ],
)
def test_the_calico_check_fails_on_a_wrong_field(mutate, where):
    pool = copy.deepcopy(plan_cluster(region_plan("prod")).manifest("ippool-az-1").body)
    mutate(pool)
    with pytest.raises(jsonschema.ValidationError, match=where):
        validate_calico(pool)


def test_the_kubernetes_check_fails_on_a_wrong_field():
    service = copy.deepcopy(plan_cluster(region_plan("prod")).manifest("ingress-service-az-1").body)
    service["spec"]["externalIP"] = service["spec"].pop("externalIPs")
    with pytest.raises(kubernetes_validate.ValidationError, match="externalIP"):
        kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True)


def test_the_same_config_in_another_order_renders_byte_identical(stack):
    values = stack_values(stack)
    shuffled = copy.deepcopy(values)
    shuffled["hosts"] = list(reversed(shuffled["hosts"]))
    shuffled["cluster"]["tenants"] = list(reversed(shuffled["cluster"]["tenants"]))
    one = plan_cluster(checked_plan(parse_stack_config(values)).plan)
    two = plan_cluster(checked_plan(parse_stack_config(shuffled)).plan)
    assert render_manifests(one) == render_manifests(two)
    assert render_releases(one) == render_releases(two)
