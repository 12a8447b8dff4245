"""Every ``to_dict`` of the core has its ``from_dict`` inverse, and both are exercised: the
policy pack rebuilds models from what components register, so an inverse that drifts makes
the pack judge something else than the plan command did."""

from __future__ import annotations

import json

import pytest

from lanes.config.stackfile import load_stack
from lanes.model.hostnet import HostNet, build_host_net
from lanes.model.plan import NetworkPlan, Plan
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT


def plan_of(stack: str) -> Plan:
    return checked_plan(load_stack(ROOT, stack)).plan


def engine_view(data: dict) -> dict:
    """What the engine hands over: JSON, with numbers as floats."""

    def floats(value):
        if isinstance(value, bool) or not isinstance(value, int | dict | list):
            return value
        if isinstance(value, int):
            return float(value)
        if isinstance(value, dict):
            return {k: floats(v) for k, v in value.items()}
        return [floats(v) for v in value]

    return floats(json.loads(json.dumps(data)))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_network_comes_back_from_its_dict(stack):
    for net in plan_of(stack).networks:
        again = NetworkPlan.from_dict(engine_view(net.to_dict()))
        assert again == net
        assert again.to_dict() == net.to_dict()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_host_network_comes_back_from_its_dict(stack):
    plan = plan_of(stack)
    for host in plan.hosts:
        net = build_host_net(host, plan)
        assert HostNet.from_dict(engine_view(net.to_dict()), net.path) == net
