"""Golden netplan, sysctl and kubelet files for every host of the dev and prod stacks."""

from __future__ import annotations

import functools

import pytest

from lanes.config.stackfile import load_stack
from lanes.model.hostnet import HostNet, build_host_net
from lanes.render.kubelet import render_kubelet
from lanes.render.netplan import render_netplan
from lanes.render.sysctl import render_sysctl
from lanes.rules import checked_plan
from tests.support.golden import GOLDEN, assert_golden
from tests.support.pulumi_run import ROOT


@functools.cache
def models(stack: str) -> dict[str, HostNet]:
    plan = checked_plan(load_stack(ROOT, stack)).plan
    return {h.name: build_host_net(h, plan) for h in plan.stack_hosts()}


# Every committed stack: prod's AZ stacks each apply their AZ's hosts of regions/east.yaml.
STACKS = ("dev", "prod", "prod-az-2", "prod-az-3")
HOSTS = [(stack, host) for stack in STACKS for host in models(stack)]


@pytest.mark.parametrize(("stack", "host"), HOSTS)
def test_rendered_files_match_their_golden_files(stack, host):
    net = models(stack)[host]
    assert_golden(f"host/{stack}/{host}/netplan.yaml", render_netplan(net))
    assert_golden(f"host/{stack}/{host}/sysctl.conf", render_sysctl(net))
    kubelet = render_kubelet(net)
    if net.role in ("master", "worker", "ingress"):
        assert_golden(f"host/{stack}/{host}/kubelet.conf", kubelet)
    else:
        assert kubelet is None
        assert not (GOLDEN / f"host/{stack}/{host}/kubelet.conf").exists()


@pytest.mark.parametrize("stack", STACKS)
def test_no_golden_file_is_left_for_a_host_that_is_gone(stack):
    on_disk = {p.name for p in (GOLDEN / "host" / stack).iterdir()}
    assert on_disk == set(models(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_rendering_twice_is_byte_identical(stack):
    fresh = checked_plan(load_stack(ROOT, stack)).plan
    for host in fresh.stack_hosts():
        again = build_host_net(host, fresh)
        assert render_netplan(again) == render_netplan(models(stack)[host.name])
        assert render_sysctl(again) == render_sysctl(models(stack)[host.name])
