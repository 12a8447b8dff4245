"""The plan a stack gets is a value: nothing that holds it (the components, the renderers, the
pack, the lab) can change it under another's feet, and equal plans compare equal."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from lanes.render.kubelet import render_kubelet
from tests.support.verdicts import gateway_models, host_nets, plan_of


def plan_objects(root: Any) -> dict[type, Any]:
    """One instance of every dataclass reachable from ``root`` through fields and tuples."""
    found: dict[type, Any] = {}
    todo = [root]
    while todo:
        item = todo.pop()
        if isinstance(item, tuple):
            todo.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            found.setdefault(type(item), item)
            todo.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_object_of_the_plan_can_be_changed(stack):
    objects = plan_objects(plan_of(stack))
    # the plan, its networks, zones, blocks, outside networks, hosts, their addresses; prod's line
    assert len(objects) >= (8 if stack == "prod" else 7), sorted(t.__name__ for t in objects)
    assert_frozen(objects)


def assert_frozen(objects: dict[type, Any]) -> None:
    for kind, item in objects.items():
        name = dataclasses.fields(item)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(item, name, getattr(item, name))
        assert hash(item) == hash(dataclasses.replace(item)), kind.__name__


def test_no_host_network_or_gateway_model_can_be_changed():
    nets = plan_objects(tuple(host_nets("prod").values()))
    # the host model, its links, addresses, routes, policy rules and tables
    assert len(nets) >= 6, sorted(t.__name__ for t in nets)
    assert_frozen(nets)
    models = plan_objects(tuple(gateway_models("prod")))
    # the gateway model, its SNAT steps, egress, mappings, ingress, exposures, proxies
    assert len(models) >= 7, sorted(t.__name__ for t in models)
    assert_frozen(models)


def test_a_stack_planned_twice_gives_equal_plans():
    first, second = plan_of("prod"), plan_of("prod")
    assert first == second and first is not second
    assert {first: "plan"}[second] == "plan"


@pytest.mark.parametrize(
    "zones", [["cloud-management", "k8s-nodes"], ["k8s-nodes", "cloud-management"]]
)
def test_a_node_in_two_management_zones_runs_kubelet_on_its_k8s_nodes_address(zones):
    # worker-1 of prod, given an address in the cloud-management zone too, in either order
    change = ("hosts[5].zones", zones)
    worker = plan_of("prod", change).host("worker-1")
    assert {a.zone: str(a.address) for a in worker.addresses if a.network == "management"} == {
        "cloud-management": "100.64.0.21",
        "k8s-nodes": "100.64.64.21",
    }
    dropin = render_kubelet(host_nets("prod", change)["worker-1"])
    assert dropin is not None
    assert 'Environment="KUBELET_EXTRA_ARGS=--node-ip=100.64.64.21"' in dropin.splitlines()
