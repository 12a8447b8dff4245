"""BIRD 2 on the AZ routers: the rendered config, checked by bird itself, and its component."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from lanes.model.cluster import BgpRouter, bgp_routers
from lanes.render.bird import (
    render_bird,
    render_bird_apply,
    render_bird_delete,
    render_bird_prepare,
)
from lanes.render.scripts import sh_command
from tests.cluster.conftest import region_plan
from tests.support.golden import assert_golden
from tests.support.pulumi_run import run_program

SPEAKER = "lanes:gateway:BgpSpeaker"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nlanes-bgp-test-key\n-----END OPENSSH PRIVATE KEY-----\n"


def stack_router(stack: str) -> BgpRouter:
    """The router of the AZ the stack applies (every AZ of a region with a router has one)."""
    plan = region_plan(stack)
    (router,) = [r for r in bgp_routers(plan) if r.az == plan.az]
    return router


def bird_check(tmp_path, text: str) -> subprocess.CompletedProcess:
    conf = tmp_path / "bird.conf"
    conf.write_text(text)
    bird = shutil.which("bird")
    assert bird, "bird2 is not installed (make deps)"
    return subprocess.run([bird, "-p", "-c", str(conf)], capture_output=True, text=True)


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-az-2", "prod-az-3"])
def test_the_router_config_is_what_bird_accepts_and_matches_its_golden_file(stack, tmp_path):
    router = stack_router(stack)
    text = render_bird(router)
    assert_golden(f"bgp/{stack}/bird.conf", text)
    checked = bird_check(tmp_path, text)
    assert checked.returncode == 0, checked.stderr


def test_a_broken_config_is_refused_by_the_check(tmp_path):
    broken = render_bird(stack_router("dev")).replace("passive on;", "passive maybe;")
    assert bird_check(tmp_path, broken).returncode != 0


def test_prod_router_takes_only_its_az_pool_from_its_az_nodes():
    routers = bgp_routers(region_plan("prod"))
    assert [(r.az, r.host) for r in routers] == [
        ("az-1", "edge-1"),
        ("az-2", "edge-2"),
        ("az-3", "edge-3"),
    ]
    text = render_bird(stack_router("prod"))
    assert "router id 100.65.0.1;" in text
    assert "\tif net ~ [ 100.96.0.0/14{14,32} ] then accept;\n\treject;" in text
    assert "local 100.65.0.1 as 64513;" in text and "\t\texport none;" in text
    neighbors = [line.split()[1] for line in text.splitlines() if "\tneighbor " in line]
    assert neighbors == [
        "100.65.0.11",
        "100.65.0.21",
        "100.65.0.22",
        "100.65.0.23",
        "100.65.0.24",
        "100.65.0.31",
        "100.65.0.32",
        "100.65.0.33",
    ]


@pytest.mark.parametrize(
    "script", [render_bird_prepare(), render_bird_apply(), render_bird_delete()]
)
def test_the_scripts_are_posix_sh(script):
    assert subprocess.run(["dash", "-n"], input=script, text=True).returncode == 0


def test_the_stack_declares_its_routers_speaker():
    run = run_program("prod", secrets={"sshPrivateKey": KEY})
    tree = {t for t in run.tree() if t[0] == SPEAKER or t[2].startswith(f"{SPEAKER}$")}
    parent = f"{SPEAKER}$edge-1-bgp"
    assert tree == {
        (SPEAKER, "edge-1-bgp", ""),
        ("command:remote:Command", "edge-1-bgp-prepare", parent),
        ("command:remote:CopyToRemote", "edge-1-bgp-config", parent),
        ("command:remote:Command", "edge-1-bgp-apply", parent),
    }
    assert run.by_name("edge-1-bgp-config").inputs["source"].text == render_bird(
        stack_router("prod")
    )
    apply = run.by_name("edge-1-bgp-apply").inputs
    assert apply["create"] == sh_command(render_bird_apply())
    assert apply["delete"] == sh_command(render_bird_delete())
