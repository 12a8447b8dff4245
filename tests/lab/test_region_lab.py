"""``lab up --region`` on the prod region: its three AZs, each with its own segments, and the line.

One lab for the module (about 35 s): every cell passes, the per-AZ ones and those between AZs
(management, k8s-nodes, traffic, routed storage; ARP and broadcast kept inside an AZ) and
``verify`` finds no drift on its 21 hosts; then edge-1 loses its line routes to az-2 and exactly
the cross-AZ cells whose traces use them fail (and the deploy box no longer reaches az-2's hosts
through the jump host, the way they were provisioned); then az-1's and az-2's management
segments are bridged and exactly the ARP and broadcast cells between them fail.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lanes.lab.netns import LabError, _run
from lanes.lab.remote import LabHosts, lab_targets
from lanes.lab.site import Probe, bring_up, lab_status, region_site_model, run_check, take_down
from lanes.model.flows import L2_KINDS, PROBE_PORT
from lanes.remote.verify_run import verify_targets
from tests.gateway.support import plan_of
from tests.support.labs import assert_gone, new_prefix, require_root
from tests.support.pulumi_run import ROOT

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def region():
    require_root()
    site = region_site_model(plan_of("prod"), "prod")
    prefix = new_prefix()
    lines: list[str] = []
    try:
        yield site, bring_up(site, prefix, lines.append), lines
    finally:
        found = take_down(prefix)
        assert_gone(prefix, found.pids)


def failed(probes: list[Probe]) -> dict[str, str | None]:
    return {p.flow.cell(): p.answer for p in probes if not p.ok}


def answers(probes: list[Probe]) -> dict[tuple, str | None]:
    return {(p.flow.kind, p.flow.source, p.flow.target, p.flow.network): p.answer for p in probes}


def test_every_cell_of_the_region_matrix_passes(region):
    site, result, lines = region
    status = lab_status(result.prefix)
    assert status["region"] == "east"
    assert {result.prefix + name for name in site.nets} <= set(status["namespaces"])
    assert (
        "segments: adjacency-az-1=br0, az-line=br1, enterprise=br2, management-az-1=br3"
        in (lines[1])
    )
    probes = run_check(result.prefix, site.flows)
    assert failed(probes) == {}
    assert len(probes) == 683
    got = answers(probes)
    # Across the line with the sender's own address of the network, storage too (routed).
    assert got["cross-az", "worker-1", "worker-5", "management"] == "worker-5 100.64.64.21"
    assert got["cross-az", "worker-6", "master-1", "traffic"] == "master-1 100.65.32.21"
    assert got["cross-az", "ingress-4", "worker-6", "storage"] == "worker-6 100.66.16.31"
    assert got["cross-az", "jump-1", "master-3", "management"] == "master-3 100.64.0.52"
    # Layer 2 inside the AZ: answered and heard by the control, by no host of another AZ.
    assert got["arp", "master-1", "worker-1", "management"].startswith("100.64.64.21 is-at ")
    assert got["arp", "master-1", "master-2", "management"] is None
    assert got["broadcast", "master-2", "worker-5", "storage"] == "worker-5 100.66.16.12"
    assert got["broadcast", "master-2", "master-3", "storage"] is None
    # Each AZ's balancer reaches its own AZ's ingress node through its own edge.
    assert got["ingress", "edge-az-2-lb", "ingress-4", "enterprise"] == "ingress-4 10.0.2.100"
    assert got["egress", "worker-6", "deploy", "enterprise"] == "deploy 10.0.3.1"


def test_verify_finds_no_drift_in_any_az_of_the_region_lab(region):
    site, result, _ = region
    hosts = LabHosts(site, result.prefix)
    outcomes = verify_targets(lab_targets(site), hosts.session)
    assert len(outcomes) == 21
    assert [o.error for o in outcomes if o.error] == []
    assert [str(d) for o in outcomes for d in o.drifts] == []


def test_lanes_lab_check_region_from_az_3s_stack_passes_the_whole_matrix(region):
    """The CLI's check of the same region lab, asked by another AZ's stack: every cell."""
    _, result, _ = region
    argv = [sys.executable, "-m", "lanes", "lab", "check", "--stack", "prod-az-3", "--region"]
    done = subprocess.run(
        [*argv, "--prefix", result.prefix, "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    matrix = json.loads(done.stdout)
    assert (matrix["passed"], matrix["failed"]) == (683, 0)
    kinds = {f["kind"] for f in matrix["flows"]}
    assert {"cross-az", "arp", "broadcast"} <= kinds
    # Without --region the same prefix is refused: it is a region lab.
    plain = subprocess.run(
        [*argv[:-1], "--prefix", result.prefix], cwd=ROOT, capture_output=True, text=True
    )
    assert plain.returncode == 2
    assert plain.stderr.strip() == f"error: lab {result.prefix} is a region lab: add --region"


def test_lanes_verify_region_from_another_az_stack_checks_every_az(region):
    """The CLI, from az-2's stack: the region lab is the region's, whichever AZ stack asks."""
    _, result, _ = region
    argv = [sys.executable, "-m", "lanes", "verify", "--stack", "prod-az-2", "--lab", "--region"]
    done = subprocess.run(
        [*argv, "--prefix", result.prefix], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip().endswith("verify prod-az-2: 21/21 host(s) verified, 0 drift(s)")


def test_edge1_without_its_line_routes_to_az2_fails_exactly_the_cells_using_them(region):
    site, result, _ = region
    edge = result.lab.hosts["edge-1"]
    via = str(site.plan.line.address("az-2"))  # type: ignore[union-attr]
    line = [r for r in site.nets["edge-1"].routes if r.network == "az-line" and r.via == via]
    assert [r.to for r in line] == [
        "100.64.16.0/20",
        "100.64.80.0/20",
        "100.64.144.0/20",
        "100.65.16.0/20",
        "100.66.16.0/20",
        "100.127.16.0/20",
        "100.100.0.0/14",
    ]
    removed = {("edge-1", 254, r.to) for r in line}
    needed = {c.flow.cell() for c in site.cross if c.uses & removed}
    try:
        for r in line:
            edge.ip("route", "del", r.to, "via", r.via)
        fails = failed(run_check(result.prefix, site.flows))
        assert set(fails) == needed
        assert all(v is None for v in fails.values())
        # Every cell between az-1 and az-2, both ways, and nothing else: az-3's and every AZ's
        # own cells pass.
        az = {name: site.plan.host(name).az for name in site.nets}  # type: ignore[union-attr]
        between = {
            c.flow.cell()
            for c in site.cross
            if {az[c.flow.source], az[c.flow.target]} == {"az-1", "az-2"}
        }
        assert needed == between and len(needed) == 150
        assert "master-1 -> master-2 management 100.64.80.12:7907" in needed
        assert "master-2 -> master-1 storage 100.66.0.11:7907" in needed
        assert not any("master-3" in cell or "worker-6" in cell for cell in needed)
        # az-2's hosts were provisioned through jump-1, edge-1 and the line: that way is gone.
        with pytest.raises(LabError):
            LabHosts(site, result.prefix).session("worker-5").run("true", check=True, timeout=20)
    finally:
        edge.run(["/usr/local/sbin/netplan", "apply"])  # the host's own files put them back
    assert failed(run_check(result.prefix, site.flows)) == {}


def test_bridging_two_azs_management_segments_fails_exactly_their_l2_cells(region):
    site, result, _ = region
    lab = result.lab
    one, two = (lab.segments[f"management-{az}"].bridge for az in ("az-1", "az-2"))
    l2 = tuple(f for f in site.flows if f.kind in L2_KINDS)
    az = {name: site.plan.host(name).az for name in site.nets}  # type: ignore[union-attr]
    joined = {
        f.cell()
        for f in l2
        if f.network == "management"
        and f.expect == "blocked"
        and {az[f.source], az[f.target]} == {"az-1", "az-2"}
    }
    assert len(joined) == 4
    sw = ["ip", "-n", lab.switch_ns]
    try:
        _run([*sw, "link", "add", "xaz1", "type", "veth", "peer", "name", "xaz2"])
        _run([*sw, "link", "set", "xaz1", "master", one, "up"])
        _run([*sw, "link", "set", "xaz2", "master", two, "up"])
        fails = failed(run_check(result.prefix, l2))
        assert set(fails) == joined
        assert fails["master-1 -> master-2 management 100.64.80.12"].startswith(
            "100.64.80.12 is-at "
        )
        assert fails[f"master-2 -> master-1 management 255.255.255.255:{PROBE_PORT}"] == (
            "master-1 100.64.80.12"
        )
    finally:
        _run([*sw, "link", "del", "xaz1"], check=False)
    assert failed(run_check(result.prefix, l2)) == {}
