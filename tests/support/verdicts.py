"""A committed stack changed at config paths, judged the way every command judges it.

``checked_plan`` is the one entry point of the plan command, the program and the lab; these
helpers hand it a committed stack (its region file merged in) with some values changed by
config path, and return what a user sees: the plan, and each violation as the plan command
prints it (``path: message [rule]``).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from lanes.config import parse_stack_config
from lanes.intents.gateway import derive_gateways
from lanes.model.hostnet import build_host_net
from lanes.model.plan import plan_region
from lanes.render.netplan import netplan_document
from lanes.rules import check, check_pack_rules, checked_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import stack_values

__all__ = [
    "values_of",
    "report",
    "violations",
    "plan_of",
    "pack_violations",
    "checked_apart",
    "host_nets",
    "netplan_of",
    "gateway_models",
]


def values_of(stack: str, *changes: tuple[str, Any]) -> dict[str, Any]:
    """The stack's ``lanes:`` values with each ``(path, value)`` applied in turn."""
    values = copy.deepcopy(_committed(stack))
    for path, value in changes:
        values = changed(values, path, value)
    return values


@functools.cache
def _committed(stack: str) -> dict[str, Any]:
    return stack_values(stack)


def report(stack: str, *changes: tuple[str, Any]) -> Any:
    """``checked_plan`` of the changed stack: ``.plan`` and ``.violations``."""
    return checked_plan(parse_stack_config(values_of(stack, *changes)))


def violations(stack: str, *changes: tuple[str, Any]) -> list[str]:
    """Each violation of the changed stack as the plan command prints it."""
    return [str(v) for v in report(stack, *changes).violations]


def plan_of(stack: str, *changes: tuple[str, Any]) -> Any:
    """The plan of a changed stack that breaks no rule (the assertion shows what it breaks)."""
    result = report(stack, *changes)
    assert not result.violations, [str(v) for v in result.violations]
    return result.plan


def pack_violations(plan: Any) -> list[str]:
    """What the policy pack's rules say of ``plan`` as if rebuilt from resource props (the
    rules no config can break, since the planner never computes such a plan)."""
    return [str(v) for v in check_pack_rules(plan)]


def checked_apart(stack: str, *changes: tuple[str, Any], planned: bool = True) -> list[str]:
    """``check(cfg, plan)``: the rules over a config and the plan built from it separately (the
    config rules alone when not ``planned``), as the plan command prints them."""
    cfg = parse_stack_config(values_of(stack, *changes))
    return [str(v) for v in check(cfg, plan_region(cfg) if planned else None)]


def host_nets(stack: str, *changes: tuple[str, Any]) -> dict[str, Any]:
    """Host name -> its network model (what netplan and the lab are rendered from)."""
    plan = plan_of(stack, *changes)
    return {h.name: build_host_net(h, plan) for h in plan.hosts}


def netplan_of(stack: str, host: str, *changes: tuple[str, Any]) -> dict[str, Any]:
    """The netplan document lanes writes for ``host`` (``network:`` and below), as data."""
    return netplan_document(host_nets(stack, *changes)[host])["network"]


def gateway_models(stack: str, *changes: tuple[str, Any]) -> list[Any]:
    """The gateway models of the stack's AZ (what the rulesets and nginx are rendered from)."""
    return derive_gateways(plan_of(stack, *changes))
