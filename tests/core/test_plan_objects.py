"""The plan a stack gets is a value: nothing that holds it (the components, the renderers, the
pack, the lab) can change it under another's feet, and equal plans compare equal."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

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
