"""The four network components: props carry the plan, outputs give blocks and gateways per AZ."""

from __future__ import annotations

import pytest

from components.network import NETWORK_COMPONENTS
from lanes.config import NETWORK_KINDS
from lanes.config.stackfile import load_stack
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT, run_program

SECRETS = {
    "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n"
}


@pytest.fixture(scope="module")
def prod():
    return run_program("prod", secrets=SECRETS)


def test_management_props_carry_the_plan(prod):
    props = prod.by_name("east-management").inputs
    assert props["region"] == "east" and props["azs"] == ["az-1", "az-2", "az-3"]
    assert (props["cidr"], props["vlan"], props["mtu"]) == ("100.64.0.0/16", 100, 1500)
    k8s = next(z for z in props["zones"] if z["name"] == "k8s-nodes")
    assert k8s["cidr"] == "100.64.64.0/18"
    assert [(b["az"], b["cidr"], b["gateway"]) for b in k8s["blocks"]] == [
        ("az-1", "100.64.64.0/20", "100.64.64.1"),
        ("az-2", "100.64.80.0/20", "100.64.80.1"),
        ("az-3", "100.64.96.0/20", "100.64.96.1"),
    ]
    assert k8s["reserved_blocks"] == ["100.64.112.0/20"]
    plan = checked_plan(load_stack(ROOT, "prod")).plan
    assert props == {
        "region": "east",
        "azs": ["az-1", "az-2", "az-3"],
        **plan.network("management").to_dict(),
    }


def test_outputs_expose_blocks_and_gateways_per_az(prod):
    management = prod.by_name("east-management").outputs
    assert management["blocks"]["az-2"] == {
        "cloud-management": "100.64.16.0/20",
        "k8s-nodes": "100.64.80.0/20",
        "enterprise-mapping": "100.64.144.0/20",
    }
    assert management["gateways"]["az-1"]["k8s-nodes"] == "100.64.64.1"
    storage = prod.by_name("east-storage").outputs
    assert storage["blocks"] == {
        "az-1": {"-": "100.66.0.0/20"},
        "az-2": {"-": "100.66.16.0/20"},
        "az-3": {"-": "100.66.32.0/20"},
    }
    assert storage["gateways"]["az-3"] == {"-": "100.66.32.1"}
    assert (storage["cidr"], storage["vlan"]) == ("100.66.0.0/16", 300)
    assert prod.outputs["networks"]["traffic"]["az-1"] == {"-": "100.65.0.0/20"}


def test_network_types_and_names(prod):
    assert {(r.type, r.name) for r in prod.resources if r.type.startswith("lanes:network:")} == {
        ("lanes:network:ManagementNetwork", "east-management"),
        ("lanes:network:TrafficNetwork", "east-traffic"),
        ("lanes:network:StorageNetwork", "east-storage"),
        ("lanes:network:AdjacencyNetwork", "east-adjacency"),
    }


def test_the_written_out_components_are_one_per_kind_with_its_type_token():
    assert [c.TYPE for c in NETWORK_COMPONENTS] == [k.type_token for k in NETWORK_KINDS]
    assert [c.__name__ for c in NETWORK_COMPONENTS] == [k.component for k in NETWORK_KINDS]
