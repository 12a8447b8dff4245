"""Fixtures of the cluster tests: the committed stacks' plans and cluster plans."""

from __future__ import annotations

import pytest

from lanes.config.stackfile import load_stack
from lanes.model.plan import Plan
from lanes.render.cluster import ClusterPlan, plan_cluster
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT


def region_plan(stack: str) -> Plan:
    report = checked_plan(load_stack(ROOT, stack))
    assert report.ok, [str(v) for v in report.violations]
    assert report.plan is not None
    return report.plan


@pytest.fixture(params=["dev", "prod"])
def stack(request) -> str:
    return request.param


@pytest.fixture
def cluster(stack) -> ClusterPlan:
    return plan_cluster(region_plan(stack))
