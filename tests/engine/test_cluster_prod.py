"""The prod region's three AZ stacks apply their parts of one cluster (the lab's API server),
each its own engine project reading the one region file (issue 22): prod (az-1) owns the
region-wide objects, prod-az-2 and prod-az-3 their Nodes' labels and their AZ's Gateway. A
tenant change in the region file changes that tenant's objects in prod's stack only; the other
AZ stacks preview no change. Destroyed in reverse, nothing of lanes' stays.
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
    use_lab_cluster,
)

STACKS = ("prod", "prod-az-2", "prod-az-3")
# Set by the destroy test per stack: the fixture's cleanup destroys only what is left.
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
def projects(engine: Engine, lab_apiserver):
    folders = {}
    for stack in STACKS:
        config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
        folders[stack] = cluster_project(engine, lab_apiserver, stack, stack, config)
    yield folders
    for stack in reversed(STACKS):  # whatever the tests did: the region's owner last
        if stack in DESTROYED:
            continue
        engine.run(folders[stack], "state", "unprotect", "--all", "--yes", "--stack", stack)
        engine.run(folders[stack], "destroy", "--yes", "--stack", stack, "--non-interactive")


@pytest.fixture(scope="module")
def deployed(engine: Engine, projects):
    """The owner first: the other AZs' Gateways are of classes its GatewayAPI declares."""
    return {
        stack: engine.run(projects[stack], "up", "--yes", "--stack", stack, "--non-interactive")
        for stack in STACKS
    }


def test_each_az_stack_applies_its_part(projects, deployed, lab_apiserver):
    for stack in STACKS:
        assert deployed[stack].ok, deployed[stack].log
        objects = stack_objects(projects[stack], stack)
        # the stack, the component, its provider and one resource per object
        assert f"{len(objects) + 3} created" in deployed[stack].output, deployed[stack].log
        assert check_applied(lab_apiserver.client, objects) == [], stack
    client = lab_apiserver.client
    gateways = client.get("/apis/gateway.networking.k8s.io/v1/namespaces/tigera-gateway/gateways")
    assert sorted(g["metadata"]["name"] for g in gateways["items"]) == [
        "lanes-az-1",
        "lanes-az-2",
        "lanes-az-3",
    ]
    labels = client.get("/api/v1/nodes/ingress-4")["metadata"]["labels"]
    assert labels["topology.kubernetes.io/zone"] == "az-2" and labels["lanes.io/role"] == "ingress"


def test_a_second_preview_has_no_changes(engine, projects, deployed):
    """prod's here; prod-az-2's and prod-az-3's after the tenant change (next test), which
    must change nothing of theirs either."""
    assert deployed["prod"].ok, deployed["prod"].log
    again = engine.run(
        projects["prod"], "preview", "--expect-no-changes", "--stack", "prod", "--non-interactive"
    )
    assert again.ok, again.log


def test_a_tenant_change_in_the_region_file_touches_that_tenant_only(
    engine, projects, deployed, lab_apiserver
):
    for stack in STACKS:
        region = projects[stack] / "regions" / "east.yaml"
        doc = yaml.safe_load(region.read_text())
        (analytics,) = [t for t in doc["cluster"]["tenants"] if t["name"] == "analytics"]
        analytics["egress"] = [{"network": "storage", "az": "az-2"}]
        region.write_text(yaml.safe_dump(doc, sort_keys=False))
    up, steps = changed_steps(engine, projects["prod"], "prod", "up")
    assert steps == {
        "urn:pulumi:prod::lanes::lanes:cluster:ClusterNetwork$kubernetes:networking.k8s.io/v1:"
        "NetworkPolicy::east-cluster-netpol-analytics-allow-egress-grants": "update"
    }, up.log
    for stack in ("prod-az-2", "prod-az-3"):  # the same region file: nothing of theirs changes
        unchanged = engine.run(
            projects[stack], "preview", "--expect-no-changes", "--stack", stack, "--non-interactive"
        )
        assert unchanged.ok, unchanged.log
    policy = lab_apiserver.client.get(
        "/apis/networking.k8s.io/v1/namespaces/analytics/networkpolicies/lanes-allow-egress-grants"
    )
    assert policy["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "100.66.16.0/20"}}]


def test_destroy_of_each_az_stack_leaves_nothing(engine, projects, deployed, lab_apiserver):
    objects = {stack: stack_objects(projects[stack], stack) for stack in STACKS}
    for stack in reversed(STACKS):
        assert deployed[stack].ok, deployed[stack].log
        engine.check(projects[stack], "state", "unprotect", "--all", "--yes", "--stack", stack)
        destroyed = engine.run(
            projects[stack], "destroy", "--yes", "--stack", stack, "--non-interactive"
        )
        assert destroyed.ok, destroyed.log
        DESTROYED.add(stack)
        assert check_removed(lab_apiserver.client, objects[stack]) == [], stack
    assert "client-key-data" not in "".join(r.output for r in engine.results)
