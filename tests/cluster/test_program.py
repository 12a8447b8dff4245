"""The whole program under the SDK's mocks: ClusterNetwork, its provider and its children."""

from __future__ import annotations

from typing import Any

import pytest

from lanes.render.cluster import plan_cluster
from tests.cluster.conftest import region_plan
from tests.support.pulumi_run import run_program

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"
SECRETS = {
    "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----\n",
    "kubeconfig": KUBECONFIG,
}
SECRET_SIG = "4dabf18193072939515e22adb298388d"

KIND_TYPES = {
    ("v1", "Namespace"): "kubernetes:core/v1:Namespace",
    ("v1", "Service"): "kubernetes:core/v1:Service",
    ("networking.k8s.io/v1", "NetworkPolicy"): "kubernetes:networking.k8s.io/v1:NetworkPolicy",
}


def numbers_as_ints(value: Any) -> Any:
    """The engine passes numbers as floats; the plan holds ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: numbers_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_ints(v) for v in value]
    return value


def expected_type(manifest) -> str:
    body = manifest.body
    if manifest.patch:
        return "kubernetes:core/v1:NodePatch"
    return KIND_TYPES.get(
        (body["apiVersion"], body["kind"]), f"kubernetes:{body['apiVersion']}:{body['kind']}"
    )


@pytest.fixture(scope="module", params=["dev", "prod"])
def program(request):
    stack = request.param
    return stack, run_program(stack, secrets=SECRETS), plan_cluster(region_plan(stack))


def test_one_cluster_component_with_one_explicit_provider(program):
    stack, run, cluster = program
    (component,) = run.of_type("lanes:cluster:ClusterNetwork")
    assert component.name == f"{cluster.region}-cluster"
    (provider,) = run.of_type("pulumi:providers:kubernetes")
    assert provider.parent == component.urn
    assert provider.inputs["kubeconfig"] == {
        SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270",
        "value": KUBECONFIG,
    }
    kube = [r for r in run.resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.parent == component.urn for r in kube)
    assert all(r.provider.startswith(provider.urn + "::") for r in kube)


def test_the_children_are_the_plans_objects_with_their_fields(program):
    stack, run, cluster = program
    region = cluster.region
    expected = {(expected_type(m), f"{region}-cluster-{m.role}") for m in cluster.manifests}
    expected |= {
        ("kubernetes:helm.sh/v3:Release", f"{region}-cluster-{r.role}") for r in cluster.releases
    }
    declared = {(r.type, r.name) for r in run.resources if r.type.startswith("kubernetes:")}
    assert declared == expected
    for manifest in cluster.manifests:
        inputs = numbers_as_ints(run.by_name(f"{region}-cluster-{manifest.role}").inputs)
        # Every object is applied under lanes' field manager, named by the provider's annotation.
        annotations = inputs["metadata"].pop("annotations")
        assert annotations == {"pulumi.com/patchFieldManager": "lanes"}
        if manifest.patch:
            assert inputs["metadata"] == manifest.body["metadata"]
        else:
            assert inputs == manifest.body


def test_the_releases_carry_chart_version_and_values(program):
    stack, run, cluster = program
    for release in cluster.releases:
        inputs = run.by_name(f"{cluster.region}-cluster-{release.role}").inputs
        assert (inputs["chart"], inputs["version"]) == (release.chart.name, release.chart.version)
        assert inputs["repositoryOpts"] == {"repo": release.chart.repository}
        assert (inputs["name"], inputs["namespace"]) == (release.name, release.namespace)
        assert inputs["values"] == release.values


def test_the_order_of_creation_is_declared(program):
    stack, run, cluster = program
    prefix = f"{cluster.region}-cluster-"
    urn = {r.name.removeprefix(prefix): r.urn for r in run.resources if r.name.startswith(prefix)}
    for manifest in cluster.manifests:
        deps = run.by_name(prefix + manifest.role).dependencies
        assert deps == sorted(urn[role] for role in manifest.after), manifest.role
    assert cluster.manifest("ippool-az-1").after == ("apiserver",)
    assert cluster.manifest("installation").after == ("calico-operator",)


def test_the_stack_exports_the_cluster_plan(program):
    stack, run, cluster = program
    assert run.outputs["cluster"] == cluster.to_dict()


def test_prod_gateway_binds_the_dnat_targets():
    run = run_program("prod", secrets=SECRETS)
    gateway = run.by_name("east-cluster-gateway-az-1")
    assert gateway.type == "kubernetes:gateway.networking.k8s.io/v1:Gateway"
    assert [a["value"] for a in gateway.inputs["spec"]["addresses"]] == [
        "100.65.0.31",
        "100.65.0.32",
        "100.65.0.33",
    ]
    assert gateway.dependencies == [run.by_name("east-cluster-gateway-api").urn]


def test_without_a_kubeconfig_nothing_is_declared_in_the_cluster():
    run = run_program("dev", secrets={"sshPrivateKey": SECRETS["sshPrivateKey"]})
    assert not [r for r in run.resources if r.type.startswith(("kubernetes:", "lanes:cluster:"))]
    assert not run.of_type("pulumi:providers:kubernetes")
    assert run.outputs["cluster"] == plan_cluster(region_plan("dev")).to_dict()
