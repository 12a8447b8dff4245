"""``pulumi up`` of the dev stack on a bare lab, from the deploy box, through the real command
provider: a new site brought up, checked, changed, destroyed and brought up again.

The lab (``lanes lab up --bare``) starts as a new site does: each host has its links, the
address SSH reaches it on and an sshd, nothing of lanes. The steps, in order (module fixtures,
each after the one before):

1. greenfield ``up``: the router first, straight at its enterprise address (it maps the jump
   host in), then every host through the jump host; the matrix passes, ``lanes verify`` from
   the deploy box (real-host mode) finds no drift, ``preview --expect-no-changes`` passes;
2. an MTU change and a route change on worker-1 each preview only worker-1's URNs; ``up``;
3. ``destroy``: the hosts behind the router first, the jump mapping last; every host holds the
   files, addresses, routes, rules, nft ruleset, nginx and BIRD it held before the first ``up``;
4. ``up`` again succeeds and the matrix passes;
5. the key dropped from the config, ``up`` through an SSH agent (``SSH_AUTH_SOCK``) works and
   the state, decrypted, then holds no key at all.

No private key text is in the state, the stack's outputs, any run's output or any event log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from lanes.lab.site import run_check
from lanes.render.preview import read_events
from tests.engine.lab import (
    REPO,
    BareLab,
    changed_urns,
    lanes_lab,
    open_bare_lab,
    step_hosts,
)
from tests.gateway.support import plan_of
from tests.lab.test_site import require_root

pytestmark = pytest.mark.netns

STACK = "dev"
HOSTS = ("router", "jump", "lb", "master-1", "worker-1")
ACCEPT_ENV = "PULUMI_COMMAND_STDOUT"


@pytest.fixture(scope="module")
def lab():
    require_root()
    with open_bare_lab(plan_of("dev"), STACK) as (lab, guard):
        yield lab
    assert guard.changes() == []  # this machine's /etc, /var/lib and kernel keys


@pytest.fixture(scope="module")
def before(lab: BareLab):
    return {name: lab.state(name) for name in HOSTS}


@pytest.fixture(scope="module")
def greenfield(lab: BareLab, before):
    run, events = lab.pulumi(STACK, "up", "--yes", "--policy-pack", "policies")
    assert run.ok, run.log
    return run, events


def test_a_greenfield_up_creates_every_resource_router_first(lab: BareLab, greenfield):
    run, events = greenfield
    assert "+ 27 created" in run.output, run.log
    assert ACCEPT_ENV not in run.output and "AcceptEnv" not in run.output
    # Steps in the order they finished: the router's (host, gateway, BGP) before any other's.
    done = [
        e["resOutputsEvent"]["metadata"]["urn"]
        for e in events
        if "resOutputsEvent" in e
        and e["resOutputsEvent"]["metadata"]["type"].startswith("command:")
    ]
    hosts = {urn: host for host, urns in step_hosts(events).items() for urn in urns}
    order = [hosts[urn] for urn in done]
    last_router = max(i for i, host in enumerate(order) if host == "router")
    assert order[: last_router + 1] == ["router"] * (last_router + 1), order
    assert set(order) == set(HOSTS)


def test_the_matrix_passes_after_up(lab: BareLab, greenfield):
    probes = run_check(lab.prefix, lab.site.flows)
    assert [p.flow.cell() for p in probes if not p.ok] == []


def test_verify_from_the_deploy_box_finds_no_drift(lab: BareLab, greenfield):
    """Real-host mode, as an operator runs it: the lab's stack (its pinned host keys), the
    lab's client key, from the deploy box's namespace."""
    proc = subprocess.run(
        ["ip", "netns", "exec", f"{lab.prefix}deploy", sys.executable, "-m", "lanes", "verify",
         "--stack", STACK, "--project-dir", str(lab.project),
         "--identity", f"/run/lanes-lab/{lab.prefix}/client_ed25519"],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    assert proc.stderr == "verify dev: 5/5 host(s) verified, 0 drift(s)\n"


def test_lanes_lab_pulumi_runs_the_cli_on_the_labs_stack(lab: BareLab, greenfield):
    """As an operator would: the stack's outputs through ``lanes lab pulumi``."""
    proc = lanes_lab("pulumi", "--stack", STACK, "--prefix", lab.prefix, "--", "stack", "output",
                     "region")  # fmt: skip
    assert (proc.returncode, proc.stdout) == (0, "lab\n"), proc.stderr
    missing = lanes_lab("pulumi", "--stack", "prod", "--prefix", lab.prefix, "--", "stack", "ls")
    assert missing.returncode == 2 and "has no stack prod" in missing.stderr


def test_an_unchanged_stack_previews_no_change(lab: BareLab, greenfield):
    run, events = lab.pulumi(STACK, "preview", "--expect-no-changes", "--policy-pack", "policies")
    assert run.ok, run.log
    assert "27 unchanged" in run.output


def _worker_nic(config: dict, name: str) -> dict:
    (host,) = [h for h in config["lanes:hosts"] if h["name"] == "worker-1"]
    (nic,) = [n for n in host["nics"] if n["name"] == name]
    return host, nic


def mtu(config: dict) -> None:
    _, nic = _worker_nic(config, "eth1")
    nic["mtu"] = 9000


def route(config: dict) -> None:
    """worker-1 without its storage NIC: its storage routes, table and rules go."""
    host, _ = _worker_nic(config, "eth1")
    host["nics"] = [n for n in host["nics"] if n["name"] != "eth2"]


WORKER = f"urn:pulumi:{STACK}::lanes::lanes:host:BareMetalHost"
WORKER_URNS = {
    f"{WORKER}::worker-1",
    f"{WORKER}$command:remote:Command::worker-1-apply",
    f"{WORKER}$command:remote:Command::worker-1-confirm",
}


@pytest.mark.parametrize(
    ("change", "files"), [(mtu, ["netplan"]), (route, ["netplan", "sysctl"])], ids=["mtu", "route"]
)
def test_a_change_on_one_host_previews_only_that_hosts_urns_and_names_its_files(
    lab: BareLab, greenfield, change, files
):
    old = lab.edit_stack(STACK, change)
    try:
        run, _ = lab.pulumi(STACK, "preview", "--json", events=False)
    finally:
        lab.stack_file(STACK).write_text(old)
    assert run.ok, run.log
    assert changed_urns(run) == WORKER_URNS
    # The preview names the files that change: the confirm step's ``<kind>=<sha256>`` triggers.
    (confirm, *_) = [
        s
        for s in json.loads(run.stdout)["steps"]
        if s["urn"].endswith("::worker-1-confirm") and "oldState" in s and "newState" in s
    ]
    olds, news = (
        confirm["oldState"]["inputs"]["triggers"],
        confirm["newState"]["inputs"]["triggers"],
    )
    differing = [o.split("=")[0] for o, n in zip(olds, news, strict=True) if o != n]
    assert differing == [*files, "step"]


@pytest.fixture(scope="module")
def changed(lab: BareLab, greenfield):
    """Both changes applied with ``up``: only worker-1's steps run; the original config's text
    is returned."""
    old = lab.edit_stack(STACK, lambda c: (mtu(c), route(c)))
    run, events = lab.pulumi(STACK, "up", "--yes")
    assert run.ok, run.log
    assert set(step_hosts(events)) == {"worker-1"}
    # The engine's events name the files that changed, as a pull request's comment shows them.
    assert read_events(events).files == {f"{WORKER}::worker-1": ("netplan", "sysctl")}
    worker = lab.host("worker-1")
    assert "mtu 9000" in worker.run(["ip", "-o", "link", "show", "eth1"]).stdout
    assert "table 103" not in worker.run(["ip", "rule"]).stdout  # no storage table any more
    return old


@pytest.fixture(scope="module")
def destroyed(lab: BareLab, before, changed):
    run, events = lab.pulumi(STACK, "destroy", "--yes")
    assert run.ok, run.log
    return run, events


def test_destroy_removes_the_jump_mapping_last(lab: BareLab, destroyed):
    run, events = destroyed
    assert "- 27 deleted" in run.output, run.log
    deleted = [
        e["resOutputsEvent"]["metadata"]
        for e in events
        if "resOutputsEvent" in e and e["resOutputsEvent"]["metadata"]["op"] == "delete"
    ]
    hosts = {urn: host for host, urns in step_hosts(events).items() for urn in urns}
    order = [hosts[m["urn"]] for m in deleted if m["urn"] in hosts]
    first_router = order.index("router")
    assert set(order[first_router:]) == {"router"}, order
    names = [m["urn"].rsplit("::", 1)[1] for m in deleted]
    behind = [i for i, m in enumerate(deleted) if hosts.get(m["urn"], "router") != "router"]
    # The table that maps the jump host in goes after every host behind it was restored.
    assert names.index("lab-router-apply") > max(behind), names
    assert ACCEPT_ENV not in run.output


def test_destroy_leaves_every_host_as_it_was_before_up(lab: BareLab, before, destroyed):
    after = {name: lab.state(name) for name in HOSTS}
    paths = {p for state in (*before.values(), *after.values()) for p in state.files}
    lower = lab.lower(paths)
    assert {name: before[name].differences(after[name], lower) for name in HOSTS} == {
        name: [] for name in HOSTS
    }
    # Before up, and so after destroy: no lanes table, nginx or BIRD; BIRD disabled.
    assert before["router"].bird == "stopped\ndisabled"
    assert "table ip lanes" not in after["router"].nft


@pytest.fixture(scope="module")
def again(lab: BareLab, changed, destroyed):
    """``up`` of the config before the changes, after the destroy."""
    lab.stack_file(STACK).write_text(changed)
    run, _ = lab.pulumi(STACK, "up", "--yes")
    return run


def test_up_again_after_destroy_succeeds(lab: BareLab, again):
    run = again
    assert run.ok, run.log
    assert "+ 27 created" in run.output, run.log
    probes = run_check(lab.prefix, lab.site.flows)
    assert [p.flow.cell() for p in probes if not p.ok] == []


def test_no_private_key_text_anywhere(lab: BareLab, changed, destroyed):
    """After every run: the state, the stack's outputs, each run's output, each event log."""
    secret = open(f"/run/lanes-lab/{lab.prefix}/client_ed25519").read()
    body = [line for line in secret.splitlines() if line and not line.startswith("-----")]
    assert body, "no key body"
    outputs = lab.engine.check(lab.project, "stack", "output", "--json", "--stack", STACK)
    texts = {"outputs": outputs.stdout}
    texts |= {f"run {i}: {' '.join(r.args[:2])}": r.output for i, r in enumerate(lab.runs)}
    texts |= {str(p): p.read_text() for p in lab.logs if p.exists()}
    for path in sorted((lab.project / "state").rglob("*")):
        if path.is_file():
            texts[str(path)] = path.read_text(errors="replace")
    leaking = sorted(name for name, text in texts.items() if any(b in text for b in body))
    assert leaking == []
    stack_file = json.dumps(lab.stack_file(STACK).read_text())
    assert "secure: v1:" in lab.stack_file(STACK).read_text() and body[0] not in stack_file


@pytest.fixture(scope="module")
def agent(lab: BareLab, again):
    """An ssh-agent holding the lab's client key, its socket in the lab's project folder."""
    socket = lab.project / "agent.sock"
    socket.unlink(missing_ok=True)
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if socket.exists():
                break
            time.sleep(0.05)
        key = f"/run/lanes-lab/{lab.prefix}/client_ed25519"
        env = {**os.environ, "SSH_AUTH_SOCK": str(socket)}
        subprocess.run(["ssh-add", "-q", key], env=env, check=True, capture_output=True)
        yield str(socket)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        socket.unlink(missing_ok=True)


def _exported(lab: BareLab) -> str:
    """The stack's current state, its secrets decrypted: what it holds, even encrypted."""
    return lab.engine.check(
        lab.project, "stack", "export", "--show-secrets", "--stack", STACK
    ).stdout


def test_up_with_an_agent_works_and_the_state_then_holds_no_key(lab: BareLab, agent):
    """The operator drops ``lanes:sshPrivateKey`` and runs pulumi with ``SSH_AUTH_SOCK``: every
    step reconnects through the agent (every connection changed: each step runs again and
    changes nothing), the matrix passes, a preview finds no change, and the state, decrypted,
    holds no key material at all."""
    secret = open(f"/run/lanes-lab/{lab.prefix}/client_ed25519").read()
    body = [line for line in secret.splitlines() if line and not line.startswith("-----")]
    held = _exported(lab)
    # The check can fail: the key way holds it (in a secret's plaintext, itself JSON text).
    assert "privateKey" in held and body[0] in held
    lab.engine.check(lab.project, "config", "rm", "lanes:sshPrivateKey", "--stack", STACK)
    without = lab.pulumi(STACK, "preview")[0]  # a preview connects nowhere: no agent needed
    assert without.ok, without.log
    lab.engine.env["SSH_AUTH_SOCK"] = agent
    try:
        run, events = lab.pulumi(STACK, "up", "--yes")
        assert run.ok, run.log
        assert "27 unchanged" not in run.output  # every connection changed: every step ran
        again, _ = lab.pulumi(STACK, "preview", "--expect-no-changes")
        assert again.ok, again.log
    finally:
        del lab.engine.env["SSH_AUTH_SOCK"]
    probes = run_check(lab.prefix, lab.site.flows)
    assert [p.flow.cell() for p in probes if not p.ok] == []
    state = _exported(lab)
    assert "privateKey" not in state and "PRIVATE KEY" not in state
    assert [b for b in body if b in state] == []
    assert agent not in state  # nor the agent's path: the provider reads SSH_AUTH_SOCK itself
    assert "lanes:sshPrivateKey" not in lab.stack_file(STACK).read_text()
