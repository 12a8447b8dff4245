"""``lab up`` on the dev stack with real namespaces, sshd, SSH provisioning and TCP probes.

The tests share the dev lab of the lab tests (``tests/support/labs.py``: about 20 s, once); the
proof that a probe can fail gets its own lab, built through the CLI with policy routing left out.
Each host writes to its own view: this machine's /etc, /var/lib and kernel keys are checked
unchanged when the shared lab is taken down.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lanes.lab.matrix import PROBE_PORT
from lanes.lab.netns import VIEWS, LabError, NsHost, SshClient, list_resources
from lanes.lab.probe import seen, serve
from lanes.lab.site import bring_up, lab_status, run_check, site_model, take_down
from lanes.model.hostnet import build_host_net
from lanes.render.scripts import host_files
from tests.gateway.support import plan_of
from tests.host.test_netplan_generate import NETPLAN, parse_unit, routes, rules
from tests.support.labs import assert_gone, new_prefix, require_root
from tests.support.pulumi_run import ROOT

pytestmark = pytest.mark.netns

ASYMMETRIC = ("lb", "master-1", "storage", "100.64.64.2")


@pytest.fixture
def dev(dev_lab):
    return dev_lab.site, dev_lab.result, dev_lab.lines


def ports(n: int) -> list[str]:
    return sorted(f"p{i}" for i in range(n))


def ns(result, name: str) -> NsHost:
    return result.lab.hosts[name]


def test_up_shows_progress_and_builds_one_namespace_per_host(dev):
    site, result, lines = dev
    assert result.created and result.changes == 1 + 2 + 3 + 3 + 2 + 2  # table + files
    assert lines.index("host router over ssh: netplan: changed, sysctl: changed") < lines.index(
        "host jump over ssh: netplan: changed, sysctl: changed"
    )  # the router is reached directly and provisioned first: it maps the jump host in
    assert lines[0].startswith(f"lab {result.prefix}: 5 host(s) of dev")
    assert "host master-1 over ssh: netplan: changed, sysctl: changed, kubelet: changed" in lines
    assert lines[-1].startswith(f"lab {result.prefix} up in ")
    status = lab_status(result.prefix)
    names = ["deploy", "jump", "lb", "master-1", "router", "sw", "worker-1"]
    assert status["complete"] and status["namespaces"] == [result.prefix + n for n in names]
    assert status["links"][result.prefix + "master-1"] == ["eth0", "eth1", "eth2"]
    assert status["links"][result.prefix + "sw"] == ["br0", "br1", "br2", "br3", *ports(13)]
    assert len(status["pids"]) >= 5 + 6  # sshd per host, probe server per namespace


def test_every_cell_of_the_matrix_passes(dev):
    site, result, _ = dev
    probes = run_check(result.prefix, site.flows)
    assert [p.flow.cell() for p in probes if not p.ok] == []
    assert len(probes) == 39


def test_seed_001_asymmetric_case_goes_through_the_router_with_policy_routing(dev):
    _, result, _ = dev
    assert seen(ns(result, "lb"), "100.64.64.2", PROBE_PORT) == "master-1 100.64.0.53"
    route = ns(result, "master-1").run(
        ["ip", "-o", "route", "get", "100.64.0.53", "from", "100.64.64.2"]
    )
    assert "via 100.64.64.1 dev eth2 table 103" in route.stdout
    # The sysctl drop-in arrived over SSH and was loaded: strict reverse-path filtering.
    rp = ns(result, "master-1").run(["sysctl", "-n", "net.ipv4.conf.eth2.rp_filter"])
    assert rp.stdout == "1\n"


def test_the_jump_host_is_port_mapped_and_carries_ssh_to_the_hosts(dev):
    site, result, _ = dev
    deploy = ns(result, "deploy")
    assert deploy.tcp_connects("192.168.0.52", 22)
    assert not deploy.tcp_connects("100.64.0.52", 22, timeout=0.5)  # only through the mapping
    jump = ns(result, "jump").endpoint.at("192.168.0.52")
    master = ns(result, "master-1").endpoint.at("100.64.0.2")
    out = SshClient(master, deploy, proxy=jump).run("ip -o -4 address show dev eth0", check=True)
    assert "inet 100.64.0.2/21" in out.stdout
    # The files the hosts got over that path are the rendered ones, at their real paths in
    # the host's own view; this machine has none of them.
    plan = site.plan
    for file in host_files(build_host_net(plan.host("master-1"), plan)):
        assert ns(result, "master-1").read_file(file.path) == file.content
        assert not Path(file.path).exists()


def test_the_lb_is_port_mapped(dev):
    _, result, _ = dev
    serve(ns(result, "lb"), "lb-http", "100.64.0.53", 80, "http")
    assert seen(ns(result, "deploy"), "192.168.0.53", 80, "http") == "lb-http 192.168.0.254 -"
    assert seen(ns(result, "deploy"), "100.64.0.53", 80, "http", timeout=0.5) is None


def live_state(result) -> dict[str, str]:
    state = {}
    for name, host in sorted(result.lab.hosts.items()):
        for argv in (
            ["ip", "-o", "address"],
            ["ip", "-o", "route", "show", "table", "all"],
            ["ip", "rule"],
            ["nft", "list", "ruleset"],
            ["sysctl", "-a", "--pattern", "net.ipv4"],
        ):
            state[f"{name}: {' '.join(argv)}"] = host.run(argv).stdout
    views = result.lab.state_dir / VIEWS  # every file the hosts wrote: their views' upper layers
    for path in sorted(views.glob("*/*/upper/**/*")):
        if path.is_file():
            state[str(path)] = f"{path.read_bytes()!r} {path.stat().st_mtime_ns}"
    return state


def test_up_twice_changes_nothing(dev):
    site, result, _ = dev
    before = live_state(result)
    lines: list[str] = []
    again = bring_up(site, result.prefix, lines.append)
    assert (again.created, again.changes) == (False, 0)
    assert lines[0] == f"lab {result.prefix} exists: re-applying over ssh"
    assert "gateway lab-router on router: table ip lanes is up to date" in lines
    assert "host lb over ssh: unchanged" in lines
    after = live_state(result)
    assert [k for k in before if before[k] != after.get(k)] == []


def test_a_lab_from_another_config_is_not_reapplied(dev):
    _, result, _ = dev
    other = site_model(plan_of("dev", lambda v: v["hosts"][2].update(number=54)), "dev")
    with pytest.raises(LabError, match="another config or options: run lab down first"):
        bring_up(other, result.prefix)


class Boom(RuntimeError):
    pass


def test_down_after_a_failed_up_leaves_nothing_behind():
    require_root()
    site = site_model(plan_of("dev"), "dev")
    prefix = new_prefix()

    def fail_at_the_gateway(line: str) -> None:
        if line.startswith("gateway "):
            raise Boom(line)

    try:
        with pytest.raises(Boom):
            bring_up(site, prefix, fail_at_the_gateway)
        left = list_resources(prefix)
        # sshd and probe servers were running, namespaces and state made: a real partial lab.
        assert len(left.namespaces) == 7 and len(left.pids) >= 11 and left.state_dirs
        assert not lab_status(prefix)["complete"]
        with pytest.raises(LabError, match="incomplete .*run lab down first"):
            bring_up(site, prefix)
    finally:
        found = take_down(prefix)
    assert found.pids == left.pids
    assert_gone(prefix, left.pids)


def lanes(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lanes", "lab", *args, "--stack", "dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_cli_without_policy_routing_fails_exactly_the_routed_cells_to_multihomed_hosts():
    """Proof the probe can fail: the same lab, policy rules left out; up twice; status; down."""
    require_root()
    prefix = new_prefix()
    try:
        up = lanes("up", "--prefix", prefix, "--without", "policy-routing")
        assert up.returncode == 0, up.stderr
        assert "sshd in 5 host(s)" in up.stderr and f"lab {prefix} up in" in up.stderr
        status = lanes("status", "--prefix", prefix)
        assert status.stdout.startswith(f"lab {prefix}: complete (stack dev)\n")
        assert f"  namespace {prefix}master-1: eth0 eth1 eth2\n" in status.stdout
        again = lanes("up", "--prefix", prefix, "--without", "policy-routing")
        assert again.returncode == 0, again.stderr
        assert again.stderr.endswith(f"lab {prefix} is up to date: nothing changed\n")
        other = lanes("up", "--prefix", prefix)  # the same lab with policy routing: refused
        assert other.returncode == 2
        assert "another config or options: run lab down first" in other.stderr
        result = lanes("check", "--prefix", prefix)
        assert result.returncode == 1, result.stderr
        failed = [line.split()[:5] for line in result.stdout.splitlines() if line.endswith("FAIL")]
        assert failed == [
            ["routed", src, dst, net, f"{address}:{PROBE_PORT}"]
            for src in ("jump", "lb")
            for dst, host in (("master-1", 2), ("worker-1", 3))
            for net, address in (("storage", f"100.64.64.{host}"), ("traffic", f"100.64.32.{host}"))
        ]
        assert ["routed", *ASYMMETRIC[:3], f"{ASYMMETRIC[3]}:{PROBE_PORT}"] in failed
        assert result.stdout.endswith("31/39 flows pass, 8 fail\n")
    finally:
        down = lanes("down", "--prefix", prefix)
    assert down.returncode == 0, down.stderr
    assert_gone(prefix, [])
    assert lanes("status", "--prefix", prefix).stdout == f"lab {prefix}: absent\n"


def _prefix(rule: dict, key: str) -> str:
    """A rule's selector as netplan writes it: a bare address for /32, else address/length."""
    length = rule.get(f"{key}len", 32)
    return rule[key] if length == 32 else f"{rule[key]}/{length}"


def live_routes(host: NsHost, device: str) -> set[tuple[str, ...]]:
    """The routes on device that a config put there (not the kernel's connected/local ones)."""
    found = json.loads(
        host.run(["ip", "-j", "route", "show", "table", "all", "dev", device]).stdout
    )
    return {
        (
            "0.0.0.0/0" if r["dst"] == "default" else r["dst"],
            r.get("gateway", "-"),
            r.get("prefsrc", "-"),
            str(r.get("table", "main")),
            r.get("scope", "global"),
        )
        for r in found
        if r.get("protocol") != "kernel" and r.get("table") != "local" and r.get("type") != "local"
    }


def test_the_lab_hosts_carry_what_the_netplan_compiler_makes_of_their_file(dev, tmp_path):
    """The netplan file each host got over SSH, through netplan generate, against live state."""
    _, result, _ = dev
    for name in ("router", "master-1", "worker-1", "jump", "lb"):
        host = ns(result, name)
        root = tmp_path / name
        # Every file of the host's /etc/netplan: its own (the base) and lanes', merged.
        netplan = root / "etc" / "netplan"
        netplan.mkdir(parents=True)
        listed = host.run(["sh", "-c", "ls /etc/netplan"]).stdout.split()
        assert listed == ["50-lab.yaml", "60-lanes.yaml"]
        for file in listed:
            (netplan / file).write_text(host.read_file(f"/etc/netplan/{file}"))
            (netplan / file).chmod(0o600)
        proc = subprocess.run(
            [NETPLAN, "generate", "--root-dir", str(root)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        networkd = root / "run/systemd/network"
        live_rules = {
            (
                _prefix(r, "src"),
                _prefix(r, "dst") if "dst" in r else "-",
                "254" if r["table"] == "main" else str(r["table"]),
                str(r["priority"]),
            )
            for r in json.loads(host.run(["ip", "-j", "rule"]).stdout)
            if r["priority"] not in (0, 32766, 32767)
        }
        compiled_rules = set()
        for unit in sorted(networkd.glob("10-netplan-*.network")):
            device = unit.name.removeprefix("10-netplan-").removesuffix(".network")
            sections = parse_unit(unit.read_text())
            addresses = json.loads(
                host.run(["ip", "-j", "-4", "address", "show", "dev", device]).stdout
            )
            live = sorted(f"{a['local']}/{a['prefixlen']}" for a in addresses[0]["addr_info"])
            network = [body for section, body in sections if section == "Network"][0]
            assert live == sorted(network.get("Address", [])), (name, device)
            assert live_routes(host, device) == routes(sections), (name, device)
            compiled_rules |= rules(sections)
        assert live_rules == compiled_rules, name
