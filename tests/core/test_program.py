"""The Pulumi program under the SDK's mocks: same config, same models, the plan as outputs."""

from __future__ import annotations

import copy
import json

import pytest

from lanes.config.stackfile import load_stack
from lanes.rules import checked_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import ROOT, run_program, stack_values

SECRETS = {
    "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----\n"
}


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-az-2"])
def test_the_program_exports_its_azs_part_of_the_plan_the_cli_computes(stack):
    run = run_program(stack, secrets=SECRETS)
    plan = checked_plan(load_stack(ROOT, stack)).plan
    region = plan.to_dict()
    own = [h for h in region["hosts"] if h["az"] == plan.az]
    assert own and len(own) < len(region["hosts"]) or stack == "dev"
    assert run.outputs["plan"] == region | {"hosts": own}
    assert run.outputs["region"] == plan.region and run.outputs["az"] == plan.az


def test_a_host_added_to_another_az_changes_nothing_of_this_azs_stack():
    """A pull request adding a host in az-2 previews no change of the az-1 stack."""
    values = stack_values("prod")
    (worker,) = [h for h in values["hosts"] if h["name"] == "worker-5"]
    assert worker["az"] == "az-2"
    added = copy.deepcopy(worker) | {"name": "worker-9", "number": 99}
    before = run_program("prod", values=values, secrets=SECRETS)
    after = run_program("prod", values={**values, "hosts": [*values["hosts"], added]},
                        secrets=SECRETS)  # fmt: skip
    assert after.outputs == before.outputs

    def inputs(run):  # an asset by its text
        return {r.name: json.dumps(r.inputs, sort_keys=True, default=vars) for r in run.resources}

    assert inputs(after) == inputs(before)
    grown = {**values, "az": "az-2", "hosts": [*values["hosts"], added]}
    az2 = run_program("prod-az-2", values=grown, secrets=SECRETS)
    assert "worker-9" in [h["name"] for h in az2.outputs["plan"]["hosts"]]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_component_per_platform_network(stack):
    run = run_program(stack, secrets=SECRETS)
    region = checked_plan(load_stack(ROOT, stack)).plan.region
    names = {(r.type, r.name) for r in run.resources if r.type.startswith("lanes:network:")}
    assert names == {
        ("lanes:network:ManagementNetwork", f"{region}-management"),
        ("lanes:network:TrafficNetwork", f"{region}-traffic"),
        ("lanes:network:StorageNetwork", f"{region}-storage"),
        ("lanes:network:AdjacencyNetwork", f"{region}-adjacency"),
    }


def test_a_plan_that_breaks_a_rule_stops_the_program_with_every_violation():
    values = changed(stack_values("prod"), "networks.storage.vlan", 100)
    values = changed(values, "networks.management.zones[1].reserved_blocks[0]", "100.64.111.0/20")
    with pytest.raises(Exception, match=r"breaks 2 rule\(s\)") as caught:
        run_program("prod", values=values, secrets=SECRETS)
    assert "networks.storage.vlan: 100 is already the VLAN of management [vlan-distinct]" in str(
        caught.value
    )
    assert "100.64.111.0/20 is not on a /20 boundary" in str(caught.value)


def test_an_unknown_key_stops_the_program():
    values = changed(stack_values("dev"), "colour", "blue")
    with pytest.raises(Exception, match=r"invalid lanes config"):
        run_program("dev", values=values, secrets=SECRETS)
