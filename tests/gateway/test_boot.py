"""Gateways after a reboot, and no collateral from a change.

The boot units (golden, ``systemd-analyze verify``), installed by the apply and removed by the
delete over real SSH; an emulated reboot (tables flushed, nginx killed, forwarding off, then the
units' start commands) brings NAT and proxies back; replacing the ruleset keeps an established
stream through an unchanged mapping, and the nginx reload keeps one through a proxy.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from netaddr import IPAddress

from lanes.intents.gateway import GatewayPaths
from lanes.lab.reboot import boot, power_off
from lanes.render.gateway_scripts import render_gateway
from lanes.render.nginx import NginxSettings
from lanes.render.scripts import sh_command
from lanes.render.systemd import NGINX_UNIT, TABLE_UNIT, render_units, start_commands, unit_dir
from tests.gateway.streams import Stream, start_echo
from tests.gateway.support import Gateway, models_of, node, plan_of, seen, serve, wire_gateway
from tests.support.golden import assert_golden

CASES = [(stack, name) for stack in ("dev", "prod") for name in models_of(plan_of(stack))]


@pytest.mark.parametrize(("stack", "name"), CASES)
def test_units_arm_and_confirm_match_their_golden_files(stack, name):
    files = render_gateway(models_of(plan_of(stack))[name])
    assert_golden(f"gateway/{stack}/{name}.arm.sh", files.arm)
    assert_golden(f"gateway/{stack}/{name}.confirm.sh", files.confirm)
    for unit in files.units:
        assert_golden(f"gateway/{stack}/{name}.{unit.name}", unit.content)
    names = [u.name for u in files.units]
    assert names == ([TABLE_UNIT, NGINX_UNIT] if files.nginx else [TABLE_UNIT])


@pytest.mark.parametrize(("stack", "name"), CASES)
def test_systemd_analyze_verify_accepts_the_units(stack, name, tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run `make deps`"
    files = render_gateway(models_of(plan_of(stack))[name])
    paths = []
    for unit in files.units:
        path = tmp_path / unit.name
        path.write_text(unit.content)
        paths.append(str(path))
    proc = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *paths], capture_output=True, text=True
    )
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr


def test_systemd_analyze_verify_can_fail(tmp_path):
    bad = tmp_path / "lanes-gateway.service"
    unit = render_units("lab-router", GatewayPaths(), False)[0].content
    bad.write_text(unit.replace("/usr/sbin/nft", "/usr/sbin/nft-missing"))
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", str(bad)], capture_output=True)
    assert proc.returncode != 0


def test_start_commands_are_the_exec_lines_in_order():
    units = render_units("sso", GatewayPaths("/srv/gw"), True)
    table, nginx = (start_commands(u.content) for u in units)
    assert table == [
        ["/usr/sbin/nft", "-f", "/srv/gw/var/lib/lanes/gateway/lanes.nft.loaded"],
        ["/usr/sbin/sysctl", "-q", "-p", "/srv/gw/etc/sysctl.d/61-lanes-gateway.conf"],
    ]
    # Checked first, then started exactly as the apply script starts it.
    assert nginx[0][-2:] == ["-t", "-q"] and nginx[1] == nginx[0][:-2]
    assert nginx[1][:5] == [
        "/usr/sbin/nginx",
        "-p",
        "/srv/gw/var/lib/lanes/gateway/nginx/",
        "-c",
        "/srv/gw/etc/lanes/gateway/nginx.conf",
    ]


def test_a_bad_name_never_reaches_a_unit():
    with pytest.raises(ValueError, match="name"):
        render_units("sso\nExecStart=/bin/sh", GatewayPaths(), False)


# --- over SSH, in namespaces --------------------------------------------------------------------


def units_of(paths: GatewayPaths) -> dict[str, bool]:
    """Unit name -> enabled, for the lanes units under the gateway's root."""
    root = Path(unit_dir(paths))
    found = {}
    for name, wanted_by in ((TABLE_UNIT, "sysinit.target"), (NGINX_UNIT, "multi-user.target")):
        if (root / name).exists():
            found[name] = (root / f"{wanted_by}.wants" / name).resolve() == (root / name)
    return found


@pytest.fixture
def sso(netlab):
    plan = plan_of("prod")
    model = models_of(plan)["sso"]
    segs = {n: netlab.segment(n) for n in ("management", "enterprise")}
    ns = wire_gateway(netlab, plan, model, segs)
    console = node(netlab, "console", segs["management"], "100.64.128.10/20")
    upstream = node(netlab, "sso", segs["enterprise"], "10.0.0.2/16")
    upstream.add_route("100.64.0.0/10", via="10.0.0.3")
    gateway = Gateway(netlab, ns, model, console, "100.64.128.2")
    gateway.apply()
    return gateway, console, upstream


@pytest.mark.netns
def test_apply_installs_and_enables_the_units_and_delete_removes_them(sso):
    gateway, _, _ = sso
    assert units_of(gateway.paths) == {TABLE_UNIT: True, NGINX_UNIT: True}
    again = gateway.apply()
    assert "installed" not in again.stdout  # unchanged units are not rewritten
    # Without proxies the nginx unit goes; the table unit stays.
    plain = dataclasses.replace(gateway.model, proxies=())
    gone = gateway.apply(plain)
    assert "nginx stopped" in gone.stdout
    assert units_of(gateway.paths) == {TABLE_UNIT: True}
    assert gateway.delete().exit_code == 0
    assert units_of(gateway.paths) == {}
    wants = Path(unit_dir(gateway.paths))
    assert not [p for p in wants.rglob("*") if p.is_file() or p.is_symlink()]


@pytest.mark.netns
def test_after_a_reboot_the_units_bring_back_the_proxy_and_forwarding(sso):
    gateway, console, upstream = sso
    serve(upstream, "sso", "10.0.0.2", 443)
    assert seen(console, "100.64.128.2", 443) == "sso 10.0.0.3"

    power_off(gateway.ns, gateway.paths)
    assert seen(console, "100.64.128.2", 443, timeout=0.5) is None
    assert "table ip lanes" not in gateway.ruleset()
    ran = boot(gateway.ns, gateway.paths)

    assert [argv[0] for argv in ran] == [
        "/usr/sbin/nft",
        "/usr/sbin/sysctl",
        "/usr/sbin/nginx",
        "/usr/sbin/nginx",
    ]
    assert seen(console, "100.64.128.2", 443) == "sso 10.0.0.3"
    assert "table ip lanes" in gateway.ruleset()
    assert gateway.ns.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "1"
    # The booted nginx is the one the next apply reloads: it finds it by its pid file.
    assert "nginx reloaded" in apply_with(gateway, NginxSettings(worker_connections=2048)).stdout


def apply_with(gateway: Gateway, settings: NginxSettings):
    files = render_gateway(gateway.model, gateway.paths, settings)
    gateway.copy(files)
    result = gateway.ssh.run(sh_command(files.apply))
    assert result.exit_code == 0, result.stderr
    return result


@pytest.mark.netns
def test_the_nginx_reload_drops_no_in_flight_connection(sso):
    gateway, console, upstream = sso
    start_echo(upstream, "10.0.0.2", 443)
    stream = Stream(console, "100.64.128.2", 443, seconds=3)
    reloaded = apply_with(gateway, NginxSettings(worker_connections=2048))
    assert "nginx reloaded" in reloaded.stdout
    result = stream.result()
    assert result.ok and result.sent == result.echoed > 50, result.line
    assert result.worst < 1.0, result.line
    # And the reloaded nginx proxies new connections.
    assert Stream(console, "100.64.128.2", 443, seconds=0.2).result().ok


@pytest.fixture
def router(netlab):
    plan = plan_of("dev")
    model = models_of(plan)["lab-router"]
    segs = {n: netlab.segment(n) for n in ("enterprise", "management", "traffic", "storage")}
    ns = wire_gateway(netlab, plan, model, segs)
    devbox = node(netlab, "devbox", segs["enterprise"], "192.168.0.105/24")
    lb = node(netlab, "lb", segs["management"], "100.64.0.53/21", "100.64.0.1")
    ops = node(netlab, "ops", segs["management"], "100.64.0.10/21")
    gateway = Gateway(netlab, ns, model, ops, "100.64.0.1")
    gateway.apply()
    return gateway, devbox, lb


@pytest.mark.netns
def test_replacing_the_ruleset_keeps_a_stream_through_an_unchanged_mapping(router):
    gateway, devbox, lb = router
    start_echo(lb, "100.64.0.53", 7000)
    stream = Stream(devbox, "192.168.0.53", 7000, seconds=3)
    extra = dataclasses.replace(
        gateway.model.mappings[0],
        outside=IPAddress("192.168.0.60"),
        inside=IPAddress("100.64.0.60"),
    )
    changed = dataclasses.replace(gateway.model, mappings=(*gateway.model.mappings, extra))
    replaced = gateway.apply(changed)
    assert "loaded table ip lanes" in replaced.stdout and "192.168.0.60" in gateway.ruleset()
    result = stream.result()
    assert result.ok and result.sent == result.echoed > 50, result.line
    assert result.worst < 1.0, result.line


@pytest.mark.netns
def test_after_a_reboot_the_mappings_come_back(router):
    gateway, devbox, lb = router
    serve(lb, "lb", "100.64.0.53", 80)
    assert seen(devbox, "192.168.0.53", 80) == "lb 192.168.0.105"
    power_off(gateway.ns, gateway.paths)
    assert seen(devbox, "192.168.0.53", 80, timeout=0.5) is None
    boot(gateway.ns, gateway.paths)
    assert seen(devbox, "192.168.0.53", 80) == "lb 192.168.0.105"
