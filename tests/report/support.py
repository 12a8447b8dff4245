"""Plans and reports of the committed stacks and of generated regions, for the report tests."""

from __future__ import annotations

from functools import cache
from typing import Any

from benchmarks.region import az_routers, generated_hosts
from lanes.config import parse_stack_config
from lanes.config.stackfile import load_stack
from lanes.model.plan import Plan
from lanes.report import Report, build_report
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT
from tests.support.stacks import read_stack_values

__all__ = ["ROOT", "stack_plan", "stack_report", "region_values", "region_plan"]


@cache
def stack_plan(stack: str) -> Plan:
    report = checked_plan(load_stack(ROOT, stack))
    assert report.ok and report.plan is not None, report.violations
    return report.plan


def stack_report(stack: str) -> Report:
    return build_report(stack_plan(stack), stack)


def region_values(hosts: int) -> dict[str, Any]:
    """The prod stack's networks with ``hosts`` generated hosts over its three AZs, no gateway;
    each AZ's router (``router-<az>``) carries the line between them."""
    values = read_stack_values(ROOT, "prod")
    values = {k: v for k, v in values.items() if k not in {"hosts", "gateways"}}
    routers = az_routers(values["azs"], values["line"]["name"])
    values["hosts"] = routers + generated_hosts(hosts, values["azs"], 10)
    return values


def region_plan(hosts: int) -> Plan:
    report = checked_plan(parse_stack_config(region_values(hosts)))
    assert report.ok and report.plan is not None, report.violations[:3]
    return report.plan
