"""The prod region brought up by its three AZ stacks in turn, each from the deploy box on a bare
region lab (``lanes lab up --bare --region``), through the real command provider.

``pulumi up`` of ``prod`` (az-1: its edge maps the jump host in), then ``prod-az-2``, then
``prod-az-3``: each stack's steps run on its own AZ's hosts only (the engine's events say which
host each step ran on) and the other AZs' hosts hold what they held before it; then the whole
region's matrix passes (every AZ's cells and those between AZs) and each stack's preview finds
nothing to change.
"""

from __future__ import annotations

import pytest

from lanes.lab.site import run_check
from tests.engine.lab import BareLab, open_bare_lab, step_hosts
from tests.gateway.support import plan_of
from tests.lab.test_site import require_root

pytestmark = pytest.mark.netns

STACKS = {"prod": "az-1", "prod-az-2": "az-2", "prod-az-3": "az-3"}


@pytest.fixture(scope="module")
def lab():
    require_root()
    with open_bare_lab(plan_of("prod"), "prod", region=True) as (lab, guard):
        yield lab
    assert guard.changes() == []


@pytest.fixture(scope="module")
def ups(lab: BareLab):
    """Each stack's up, in turn: (its run, the hosts its steps ran on, the other AZs' hosts
    whose files changed meanwhile)."""
    done = {}
    for stack, az in STACKS.items():
        others = [h.name for h in lab.plan.hosts if h.name in lab.site.nets and h.az != az]
        before = {name: lab.upper(name) for name in others}
        run, events = lab.pulumi(stack, "up", "--yes", "--policy-pack", "policies")
        assert run.ok, run.log
        changed = sorted(name for name in others if lab.upper(name) != before[name])
        done[stack] = (run, set(step_hosts(events)), changed)
    return done


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_touches_only_its_own_azs_hosts(lab: BareLab, ups, stack):
    run, touched, others_changed = ups[stack]
    own = {h.name for h in lab.plan.hosts if h.az == STACKS[stack]}
    assert touched == own, run.log
    assert others_changed == []
    assert "PULUMI_COMMAND_STDOUT" not in run.output


def test_the_region_matrix_passes(lab: BareLab, ups):
    probes = run_check(lab.prefix, lab.site.flows)
    assert {p.flow.cell(): p.answer for p in probes if not p.ok} == {}
    assert len(probes) == 683


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_previews_no_change(lab: BareLab, ups, stack):
    run, _ = lab.pulumi(stack, "preview", "--expect-no-changes", events=False)
    assert run.ok, run.log
