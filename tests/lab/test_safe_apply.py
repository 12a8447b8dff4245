"""Safe apply in a dev lab: a change that cuts a host off reverts by itself, a good one stays.

Each bad change is rendered from a host model with one mistake, applied over real SSH exactly as
the host component's Commands run it (arm, apply each file, confirm over a fresh connection), with
the host's ``netplan apply`` (the lab's stand-in, which really converges the namespace); the host
must answer SSH again within the timeout and ``lanes verify`` must find no drift against the
config it had before.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from lanes.lab.netns import NsHost, SshClient
from lanes.lab.reboot import boot, power_off
from lanes.lab.remote import LabHosts
from lanes.lab.site import AttachedLab, run_check
from lanes.model.hostnet import Address, HostNet, Link, Route, Rule
from lanes.render.netplan import render_netplan
from lanes.render.scripts import HostFile, arm_host_script, host_files, sh_command
from tests.gateway.support import models_of, plan_of
from tests.lab.test_verify import verify
from tests.support.safe_apply import (
    CONFIRM_WINDOW,
    Outcome,
    safe_apply_gateway,
    safe_apply_host,
    wait_for_ssh,
    wait_out,
)

pytestmark = pytest.mark.netns

# Seconds from arming to rollback of a change that must roll back: short, as the test waits it
# out. A change that must be confirmed gets CONFIRM_WINDOW: its steps' SSH sessions take seconds
# on a loaded machine, and whether it stays is seen past that window, counted from its arming.
TIMEOUT = 10
NAMESPACES: dict = {}  # prefix -> the live NetLab of the shared lab
BASE = "/etc/netplan/50-lab.yaml"  # the file a bare lab host is reached by (its installer's)
LANES_ONLY = "lanes-only"  # the shared lab's note: host -> its BASE, while it is removed


@pytest.fixture
def lab(dev_lab):
    """The shared dev lab, its hosts' only network config lanes' (their installer's file
    removed, as the README asks where it would say otherwise): a wrong file really cuts them
    off. The files come back when the module ends (``put_back_the_base_files``)."""
    site, up = dev_lab.site, dev_lab.result
    if LANES_ONLY not in dev_lab.notes:
        saved = {}
        for name in site.nets:
            host = up.lab.hosts[name]
            saved[name] = host.read_file(BASE)
            assert saved[name] is not None, f"{name}: no {BASE}"
            host.run(["rm", BASE])
            host.run(["/usr/local/sbin/netplan", "apply"])
        dev_lab.notes[LANES_ONLY] = saved
    NAMESPACES[up.prefix] = up.lab
    return site, up.prefix, LabHosts(site, up.prefix)


@pytest.fixture(scope="module", autouse=True)
def put_back_the_base_files(shared_labs):
    yield
    dev_lab = shared_labs.live("dev")
    if dev_lab is not None and LANES_ONLY in dev_lab.notes:
        for name, content in dev_lab.notes.pop(LANES_ONLY).items():
            host = dev_lab.result.lab.hosts[name]
            host.write_file(BASE, content, "600")
            host.run(["/usr/local/sbin/netplan", "apply"])


def on(prefix: str, name: str) -> NsHost:
    """A host of the lab, its own view: its files at their real paths."""
    return NsHost(AttachedLab(prefix), name)  # type: ignore[arg-type]


def with_netplan(net: HostNet) -> tuple[HostFile, ...]:
    """The host's files of the config, with the netplan file rendered from ``net``."""
    good = host_files(net)
    bad = dataclasses.replace(good[0], content=render_netplan(net))
    return (bad, *good[1:])


def renumbered(net: HostNet, old: str, new: str) -> HostNet:
    """A typo in one address: the address, its routes' sources and its rule."""
    return dataclasses.replace(
        net,
        addresses=tuple(
            dataclasses.replace(a, address=new, cidr=a.cidr.replace(old, new))
            if a.address == old
            else a
            for a in net.addresses
        ),
        routes=tuple(
            dataclasses.replace(r, source=new) if r.source == old else r for r in net.routes
        ),
        rules=tuple(
            dataclasses.replace(r, source=new) if r.source == old else r for r in net.rules
        ),
    )


def moved_to_vlan(net: HostNet, device: str, vlan: int) -> HostNet:
    """The network of ``device`` tagged with a VLAN id the switch does not carry."""
    tagged = f"{device}.{vlan}"

    def move(item: Address | Route | Rule):
        return dataclasses.replace(item, device=tagged) if item.device == device else item

    old = net.link(device)
    assert old is not None
    links = [dataclasses.replace(link, networks=()) if link is old else link for link in net.links]
    links.append(Link(tagged, "vlan", old.mtu, parent=device, vlan=vlan, networks=old.networks))
    return dataclasses.replace(
        net,
        links=tuple(links),
        addresses=tuple(move(a) for a in net.addresses),
        routes=tuple(move(r) for r in net.routes),
        rules=tuple(move(r) for r in net.rules),
    )


def without_default_routes(net: HostNet) -> HostNet:
    return dataclasses.replace(net, routes=tuple(r for r in net.routes if r.to != "default"))


def assert_reverted(lab, outcome: Outcome) -> float:
    """The change failed naming the host and a step; the host answers again; no drift."""
    site, prefix, hosts = lab
    name = outcome.host
    assert not outcome.confirmed
    assert outcome.message.startswith(f"{name}-"), outcome
    assert outcome.step in ("apply", "confirm"), outcome
    if outcome.step == "confirm":
        assert "rolled back" in outcome.message and "previous configuration is live" in (
            outcome.message
        )
    back = wait_for_ssh(hosts.session(name), TIMEOUT + 30)
    proc = verify(prefix)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr
    files = {f.kind: f for f in host_files(site.nets[name])}
    assert on(prefix, name).read_file(files["netplan"].path) == files["netplan"].content
    return back


def timed_apply(hosts, name, files) -> tuple[Outcome, float]:
    start = time.monotonic()
    outcome = safe_apply_host(hosts, name, files, TIMEOUT)
    return outcome, time.monotonic() - start


@pytest.mark.parametrize(
    ("host", "mistake"),
    [
        ("master-1", lambda net: renumbered(net, "100.64.0.2", "100.64.0.202")),
        ("master-1", lambda net: moved_to_vlan(net, "eth0", 99)),
        ("jump", without_default_routes),
    ],
    ids=["wrong-management-address", "wrong-vlan", "removed-route"],
)
def test_a_change_that_cuts_the_host_off_reverts_by_itself(lab, host, mistake):
    site, _, hosts = lab
    bad = with_netplan(mistake(site.nets[host]))
    assert bad[0].content != host_files(site.nets[host])[0].content
    outcome, took = timed_apply(hosts, host, bad)
    back = assert_reverted(lab, outcome)
    print(f"{host}: {outcome.message!r} after {took:.1f}s; answering SSH {back:.1f}s later")
    # Cut off: nothing got through until the host had put its old configuration back.
    assert TIMEOUT <= took < TIMEOUT + 60


def test_a_good_change_is_confirmed_and_stays(lab):
    site, prefix, hosts = lab
    net = site.nets["worker-1"]
    extra = dataclasses.replace(net.addresses[0], address="100.64.0.203", cidr="100.64.0.203/21")
    good = with_netplan(dataclasses.replace(net, addresses=(*net.addresses, extra)))
    outcome = safe_apply_host(hosts, "worker-1", good, CONFIRM_WINDOW)
    assert outcome == Outcome("worker-1", None, "worker-1: confirmed")
    wait_out(outcome, CONFIRM_WINDOW)  # past the window it was armed with: nothing rolls back
    assert "100.64.0.203/21" in site_ip(hosts, "worker-1")
    assert drift(prefix) == changed_worker("100.64.0.203")
    # Back to the config, the same way.
    assert safe_apply_host(hosts, "worker-1", host_files(net), CONFIRM_WINDOW).confirmed
    assert verify(prefix).returncode == 0


def drift(prefix: str) -> list[str]:
    return verify(prefix).stdout.splitlines()


def changed_worker(address: str) -> list[str]:
    """What verify says of worker-1 carrying the good change the config does not hold."""
    return [
        f"worker-1: address {address}/21 on eth0: not in the config",
        "worker-1: file /etc/netplan/60-lanes.yaml: differs from the rendered file",
    ]


def site_ip(hosts: LabHosts, name: str) -> str:
    return hosts.session(name).run("ip -4 -o address").stdout


def test_two_hosts_changed_at_once_only_the_bad_one_reverts(lab):
    site, prefix, hosts = lab
    worker = site.nets["worker-1"]
    extra = dataclasses.replace(worker.addresses[0], address="100.64.0.204", cidr="100.64.0.204/21")
    changes = {
        "worker-1": with_netplan(dataclasses.replace(worker, addresses=(*worker.addresses, extra))),
        "master-1": with_netplan(renumbered(site.nets["master-1"], "100.64.0.2", "100.64.0.202")),
    }
    windows = {"worker-1": CONFIRM_WINDOW, "master-1": TIMEOUT}
    outcomes: dict[str, Outcome] = {}

    def run(name: str) -> None:
        outcomes[name] = safe_apply_host(hosts, name, changes[name], windows[name])

    threads = [threading.Thread(target=run, args=(name,)) for name in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes["worker-1"].confirmed, outcomes["worker-1"]
    assert not outcomes["master-1"].confirmed
    wait_for_ssh(hosts.session("master-1"), TIMEOUT + 30)
    wait_out(outcomes["worker-1"], CONFIRM_WINDOW)
    assert "100.64.0.204/21" in site_ip(hosts, "worker-1")
    assert drift(prefix) == changed_worker("100.64.0.204")
    assert safe_apply_host(hosts, "worker-1", host_files(worker), CONFIRM_WINDOW).confirmed
    assert verify(prefix).returncode == 0


def test_the_rollback_survives_the_arming_session_being_killed(lab):
    site, prefix, hosts = lab
    lb = on(prefix, "lb")
    files = host_files(site.nets["lb"])
    changed = (files[0], dataclasses.replace(files[1], content=files[1].content + "# v2\n"))
    ssh: SshClient = hosts.session("lb")
    for file in changed:
        ssh.copy(file.content, file.staged_path)
    shell_pid = "/run/arming-shell.pid"  # the host's own /run
    arm = arm_host_script("lb", changed, TIMEOUT)
    # Arm, install the new sysctl file by hand, then hang: the session is killed below.
    target = files[1].path
    script = f"echo $$ > {shell_pid}\n{arm}cp {changed[1].staged_path} {target}\nsleep 600\n"
    holder = threading.Thread(target=lambda: ssh.run(sh_command(script), timeout=TIMEOUT + 60))
    holder.start()
    deadline = time.monotonic() + 20
    while lb.read_file(shell_pid) is None or lb.read_file(target) != changed[1].content:
        assert time.monotonic() < deadline, "the arming session never got going"
        time.sleep(0.1)
    killed = kill_session(int(lb.read_file(shell_pid) or "0"))
    assert killed  # the session's shell and its sleep, at least
    time.sleep(TIMEOUT + 2)
    assert lb.read_file(target) == files[1].content  # put back by the orphaned watchdog
    holder.join(timeout=TIMEOUT + 60)
    # the shared lab as it was: no pid file, nothing left staged by the killed session
    lb.run(["rm", "-f", shell_pid, *(file.staged_path for file in changed)])


def kill_session(pid: int) -> list[int]:
    """SIGKILL every process of pid's session (what a dropped SSH session amounts to)."""
    sid = os.getsid(pid)
    assert sid == pid, "the arming shell leads a session of its own (sshd's setsid)"
    killed = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                same = os.getsid(int(entry.name)) == sid
            except ProcessLookupError:
                continue
            if same:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    return killed


# --- gateways -----------------------------------------------------------------------------------


def swap_jump_and_lb(values: dict) -> None:
    """A wrong mapping: the jump host's outside address now leads to the LB, and back."""
    mappings = values["gateways"][0]["mappings"]
    assert [m["host"] for m in mappings] == ["jump", "lb"]
    mappings[0]["host"], mappings[1]["host"] = "lb", "jump"


def test_a_gateway_change_that_cuts_the_management_path_reverts_by_itself(lab):
    site, prefix, hosts = lab
    bad = models_of(plan_of("dev", swap_jump_and_lb))["lab-router"]
    start = time.monotonic()
    outcome = safe_apply_gateway(hosts, bad, TIMEOUT)
    # The apply went straight to the router; the confirm, through the jump mapping, met the
    # LB's host key instead of the jump host's.
    assert outcome.step == "confirm", outcome
    assert outcome.message.startswith("lab-router-confirm: ")
    back = wait_for_ssh(hosts.session("master-1"), TIMEOUT + 30)
    print(
        f"lab-router: {outcome.message!r}; hosts behind the jump host back after "
        f"{time.monotonic() - start:.1f}s"
    )
    proc = verify(prefix)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr
    assert back < TIMEOUT + 30
    # The same model again is a good change: confirmed through the mapping, and it stays.
    good = safe_apply_gateway(hosts, site.models[0], CONFIRM_WINDOW)
    assert good == Outcome("lab-router", None, "lab-router: confirmed")


def test_after_a_gateway_reboot_the_whole_matrix_passes(lab):
    site, prefix, hosts = lab
    router = NAMESPACES[prefix].hosts["router"]
    power_off(router)
    down = run_check(prefix, site.flows)
    assert not all(p.ok for p in down)  # the reboot took NAT and mappings away
    assert router.run(["birdc", "show", "status"], check=False).returncode != 0
    said = boot(router)
    # What the scripts enabled, and only that: the table (sysinit), then BIRD.
    assert said.splitlines() == [
        "boot: lanes-gateway.service: started",
        "boot: bird.service: started",
    ]
    probes = run_check(prefix, site.flows)
    failed = [(p.flow, p.answer) for p in probes if not p.ok]
    assert not failed
    assert verify(prefix).returncode == 0
