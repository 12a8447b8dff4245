"""A gateway's arm and rollback over real SSH: the previous ruleset and proxies come back.

Each test arms, copies and applies as EdgeGateway does and then withholds the confirmation: the
gateway must put its previous table and nginx config back and reload them by itself. (The
management-path cut through the jump mapping, confirm included, is in tests/lab/test_safe_apply.)
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from lanes.remote.confirm import confirm_address
from lanes.render.gateway_scripts import render_gateway
from lanes.render.scripts import sh_command
from tests.gateway.support import Gateway, models_of, node, plan_of, seen, serve, wire_gateway
from tests.support.safe_apply import CONFIRM_WINDOW

pytestmark = pytest.mark.netns

# Seconds from arming to rollback of a change left unconfirmed: room for the copies and the
# apply (three SSH sessions, seconds each on a loaded machine) before the watchdog fires; a change
# confirmed gets CONFIRM_WINDOW, room for the confirm's session too.
TIMEOUT = 20


def until(check, seconds: float) -> bool:
    """nginx -s reload returns before the new workers take over: wait for them."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def arm_and_apply(gateway: Gateway, model, confirm: bool = False):
    """prepare, arm, copy, apply (then confirm, if asked), as EdgeGateway does. The apply must
    land inside the window counted from the arm step's start: when it did not, the rollback came
    first and the test would prove nothing, which is said here rather than by a later assert."""
    window = CONFIRM_WINDOW if confirm else TIMEOUT
    files = render_gateway(model, gateway.paths, timeout=window, watchdog="sh")
    assert gateway.ssh.run(sh_command(files.prepare)).exit_code == 0
    start = time.monotonic()
    armed = gateway.ssh.run(sh_command(files.arm))
    assert armed.exit_code == 0 and "armed rollback" in armed.stdout, armed.stderr
    gateway.ssh.copy(files.ruleset, gateway.paths.ruleset)
    if files.nginx is not None:
        gateway.ssh.copy(files.nginx, gateway.paths.nginx_conf)
    applied = gateway.ssh.run(sh_command(files.apply))
    took = time.monotonic() - start
    assert applied.exit_code == 0, applied.stderr
    assert took < window, f"applied {took:.1f}s after arming: past its {window}s window"
    if confirm:
        return gateway.ssh.run(sh_command(files.confirm))
    return files


@pytest.fixture
def sso(netlab):
    plan = plan_of("prod")
    model = models_of(plan)["sso"]
    segs = {n: netlab.segment(n) for n in ("management", "enterprise")}
    ns = wire_gateway(netlab, plan, model, segs)
    console = node(netlab, "console", segs["management"], "100.64.128.10/20")
    upstream = node(netlab, "sso", segs["enterprise"], "10.0.0.2/16")
    upstream.add_route("100.64.0.0/10", via="10.0.0.3")
    serve(upstream, "sso", "10.0.0.2", 443)
    return Gateway(netlab, ns, model, console, "100.64.128.2"), console


def test_an_unconfirmed_proxy_change_puts_the_previous_nginx_back(sso):
    gateway, console = sso
    confirmed = arm_and_apply(gateway, gateway.model, confirm=True)
    assert confirmed.exit_code == 0 and "confirmed" in confirmed.stdout, confirmed.stderr
    assert seen(console, "100.64.128.2", 443) == "sso 10.0.0.3"
    proxy = dataclasses.replace(gateway.model.proxies[0], upstream_port=444)  # nothing there
    wrong = dataclasses.replace(gateway.model, proxies=(proxy,))
    arm_and_apply(gateway, wrong)
    # nginx accepts, fails to reach the upstream, and closes: no answer from SSO.
    assert until(lambda: not seen(console, "100.64.128.2", 443, timeout=0.3), 2.5)
    time.sleep(TIMEOUT + 1.5)
    assert seen(console, "100.64.128.2", 443) == "sso 10.0.0.3"
    assert gateway.ns.read_file(gateway.paths.nginx_conf) == gateway.files().nginx
    late = gateway.ssh.run(sh_command(render_gateway(wrong, gateway.paths).confirm))
    assert late.exit_code == 1 and "rolled back" in late.stderr
    assert "nginx back on the previous config" in late.stderr


def test_a_first_install_that_is_never_confirmed_leaves_nothing_running(sso):
    gateway, console = sso
    arm_and_apply(gateway, gateway.model)
    assert "table ip lanes" in gateway.ruleset()
    assert seen(console, "100.64.128.2", 443) == "sso 10.0.0.3"
    time.sleep(TIMEOUT + 1.5)
    assert "table ip lanes" not in gateway.ruleset()
    assert not seen(console, "100.64.128.2", 443, timeout=0.5)


def test_a_gateway_that_maps_the_jump_host_in_is_confirmed_through_that_mapping():
    dev, prod = plan_of("dev"), plan_of("prod")
    assert confirm_address(dev, models_of(dev)["lab-router"]) == "100.64.0.1"
    edge = models_of(prod)["edge"]
    mapped = {str(m.outside) for m in edge.mappings}
    assert prod.ssh.jump.address in mapped
    assert confirm_address(prod, edge) == str(prod.host(edge.host).address("management").address)
    assert confirm_address(prod, models_of(prod)["sso"]) is None  # confirmed as it was applied
