"""The dev stack's cluster objects under the real engine and pulumi-kubernetes, against the lab's
API server (issue 22): up, every object on the server with lanes' field manager, no change on a
second preview, a one-tenant change touching that tenant's objects only, and a destroy (once the
protected objects are unprotected) that leaves no lanes object behind.

The prod region's AZ stacks are ``test_cluster_prod.py``: one module per region, because both
declare the cluster's singletons (Installation ``default``, ...) and the session has one server.
"""

from __future__ import annotations

import secrets

import pytest
import yaml

from tests.engine.harness import REPO, Engine, missing_binaries, open_engine
from tests.engine.kube import (
    changed_steps,
    check_applied,
    check_removed,
    cluster_project,
    stack_objects,
    urn_type,
    use_lab_cluster,
)

STACK = "dev"
# Set by the destroy test once nothing of dev's is left: the fixture's cleanup is then a no-op.
DESTROYED: set[str] = set()


@pytest.fixture(scope="module")
def engine():
    missing = missing_binaries()
    if missing:
        pytest.fail(f"{', '.join(missing)} not built: run `make engine`")
    marker = f"lanes-cluster-test-{secrets.token_hex(16)}"
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{marker}\n-----END OPENSSH PRIVATE KEY-----\n"
    with open_engine(key, marker) as eng:
        use_lab_cluster(eng)
        yield eng


@pytest.fixture(scope="module")
def project(engine: Engine, lab_apiserver):
    config = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]
    folder = cluster_project(engine, lab_apiserver, "dev-cluster", STACK, config)
    yield folder
    if STACK not in DESTROYED:  # whatever the tests did, nothing of dev's stays for prod's
        engine.run(folder, "state", "unprotect", "--all", "--yes", "--stack", STACK)
        engine.run(folder, "destroy", "--yes", "--stack", STACK, "--non-interactive")


@pytest.fixture(scope="module")
def deployed(engine: Engine, project):
    return engine.run(project, "up", "--yes", "--stack", STACK, "--non-interactive")


def test_up_creates_every_object_on_the_server(engine, project, deployed, lab_apiserver):
    assert deployed.ok, deployed.log
    objects = stack_objects(project, STACK)
    # the stack, the component, its provider and one resource per object
    assert f"{len(objects) + 3} created" in deployed.output, deployed.log
    assert check_applied(lab_apiserver.client, objects) == []
    node = lab_apiserver.client.get("/api/v1/nodes/worker-1")["metadata"]["labels"]
    assert node["lanes.io/role"] == "worker" and node["topology.kubernetes.io/zone"] == "az-1"
    assert node["kubernetes.io/hostname"] == "worker-1"  # the kubelet's label stays


def test_a_second_preview_has_no_changes(engine, project, deployed):
    assert deployed.ok, deployed.log
    again = engine.run(
        project, "preview", "--expect-no-changes", "--stack", STACK, "--non-interactive"
    )
    assert again.ok, again.log


def test_a_tenant_change_touches_that_tenants_objects_only(engine, project, deployed, lab_apiserver):
    assert deployed.ok, deployed.log
    stack_file = project / f"Pulumi.{STACK}.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    (sandbox,) = [t for t in doc["config"]["lanes:cluster"]["tenants"] if t["name"] == "sandbox"]
    sandbox["egress"] = [{"network": "storage"}]
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    up, steps = changed_steps(engine, project, STACK, "up")
    kube = {urn: op for urn, op in steps.items() if urn_type(urn).startswith("kubernetes:")}
    assert kube == {
        "urn:pulumi:dev::lanes::lanes:cluster:ClusterNetwork$kubernetes:networking.k8s.io/v1:"
        "NetworkPolicy::lab-cluster-netpol-sandbox-allow-egress-grants": "create"
    }, up.log
    # the component's recorded object list grows by that policy; nothing else changes
    assert set(steps) - set(kube) <= {
        "urn:pulumi:dev::lanes::lanes:cluster:ClusterNetwork::lab-cluster"
    }, up.log
    assert check_applied(lab_apiserver.client, stack_objects(project, STACK)) == []


def test_destroy_needs_the_protected_objects_unprotected_then_leaves_nothing(
    engine, project, deployed, lab_apiserver
):
    assert deployed.ok, deployed.log
    objects = stack_objects(project, STACK)
    refused = engine.run(project, "destroy", "--yes", "--stack", STACK, "--non-interactive")
    assert not refused.ok and "protected" in refused.output, refused.log
    assert check_applied(lab_apiserver.client, objects) == []  # a refused destroy removed nothing
    engine.check(project, "state", "unprotect", "--all", "--yes", "--stack", STACK)
    destroyed = engine.run(project, "destroy", "--yes", "--stack", STACK, "--non-interactive")
    assert destroyed.ok, destroyed.log
    DESTROYED.add(STACK)
    assert check_removed(lab_apiserver.client, objects) == []
    assert "client-key-data" not in "".join(r.output for r in engine.results)
    # The plugin's copies of the kubeconfig are in the engine's tmp dir, removed with it.
    assert list((engine.root / "tmp").glob("kubeconfig*"))
