"""``lab up`` + ``lab check`` on the prod AZ-1 stack, outside parties included.

The shared prod lab (``tests/support/labs.py``, about 35 s, once): every cell passes, among them the ingress path from the
front load balancer, egress SNAT, the jump host mapping, the SSO proxy and the vpc-1 -> vpc-2
exposure; then the edge gateway's live table is tampered with, exactly its cells fail, and
``bring_up`` on the same prefix re-applies the table and every cell passes again.
"""

from __future__ import annotations

import pytest

from lanes.lab.matrix import PROBE_PORT
from lanes.lab.remote import LabHosts
from lanes.lab.site import Probe, bring_up, lab_status, run_check
from lanes.remote.verify import expected_targets
from lanes.remote.verify_run import verify_targets

pytestmark = pytest.mark.netns

PARTIES = ["edge-lb", "sso-upstream", "vpc-1-client", "vpc-2-web"]


@pytest.fixture
def prod(prod_lab):
    """The shared prod lab (tests/support/labs.py): every test puts back what it changes."""
    return prod_lab.site, prod_lab.result


def failed(probes: list[Probe]) -> dict[str, str | None]:
    return {p.flow.cell(): p.answer for p in probes if not p.ok}


def answers(probes: list[Probe]) -> dict[tuple, str | None]:
    return {(p.flow.kind, p.flow.source, p.flow.address, p.flow.port): p.answer for p in probes}


def test_every_cell_of_the_prod_matrix_passes(prod):
    site, result = prod
    status = lab_status(result.prefix)
    assert {result.prefix + name for name in PARTIES} <= set(status["namespaces"])
    assert all(status["links"][result.prefix + name] == ["eth0"] for name in PARTIES)
    probes = run_check(result.prefix, site.flows)
    assert failed(probes) == {}
    assert len(probes) == 203
    got = answers(probes)
    # The front LB reaches the ingress node through the edge, which sees the LB as client.
    assert got["ingress", "edge-lb", "10.0.1.2", 80] == "ingress-1 10.0.1.100"
    assert got["ingress", "edge-lb", "10.0.1.4", 443] == "ingress-3 10.0.1.100"
    assert got["ingress", "deploy", "10.0.1.3", 443] is None  # only the balancer is let in
    assert got["ingress", "ingress-2", "10.0.1.100", PROBE_PORT] == "edge-lb 10.0.1.3"
    # Egress SNAT, the jump host's 1:1 mapping both ways.
    assert got["egress", "master-1", "10.0.255.254", PROBE_PORT] == "deploy 10.0.1.1"
    assert got["egress", "jump-1", "10.0.255.254", PROBE_PORT] == "deploy 10.0.1.52"
    assert got["mapping", "deploy", "10.0.1.52", PROBE_PORT] == "jump-1 10.0.255.254"
    assert got["mapping", "deploy", "10.0.1.52", 22] == "connected"
    # The SSO proxy connects from its enterprise leg; the vpc-2 server sees vpc-2-nat.
    assert got["proxy", "worker-4", "100.64.128.2", 443] == "sso-upstream 10.0.0.3"
    assert got["proxy", "deploy", "100.64.128.2", 443] is None
    assert got["exposure", "vpc-1-client", "192.168.0.200", 80] == "vpc-2-web 192.168.0.200"
    assert got["exposure", "vpc-1-client", "100.127.0.202", 80] is None


def drift(site, prefix: str, only: str | None = None) -> list[str]:
    hosts = LabHosts(site, prefix)
    targets = [t for t in expected_targets(site.plan) if only in (None, t.name)]
    outcomes = verify_targets(targets, hosts.session)
    assert [o.error for o in outcomes if o.error] == []
    return [str(d) for o in outcomes for d in o.drifts]


def test_verify_finds_no_drift_on_the_fresh_prod_lab(prod):
    """13 hosts: bonds and shared NICs as veths, four gateways' tables, the SSO nginx."""
    site, result = prod
    assert drift(site, result.prefix) == []


def test_a_tampered_edge_table_fails_exactly_its_cells_and_up_restores_it(prod):
    site, result = prod
    edge = result.lab.hosts["edge-1"]
    # The balancer's DNAT to ingress-1 on port 80, and ingress-2's reply SNAT to its front.
    edge.run(["nft", "delete element ip lanes ingress_dnat { 10.0.1.100 . 10.0.1.2 . 80 }"])
    edge.run(["nft", "delete element ip lanes ingress_snat { 100.65.0.32 . 10.0.1.100 }"])
    assert failed(run_check(result.prefix, site.flows)) == {
        "edge-lb -> ingress-1 enterprise 10.0.1.2:80": None,
        # Without its specific SNAT the general egress SNAT takes the node's call.
        f"ingress-2 -> edge-lb enterprise 10.0.1.100:{PROBE_PORT}": "edge-lb 10.0.1.1",
    }
    # verify names the two elements (and the lanes nginx of the SSO gateway, stopped too).
    sso = result.lab.hosts["sso-gw"]
    pid = sso.read_file("/var/lib/lanes/gateway/nginx/nginx.pid") or ""
    sso.run(["kill", "-QUIT", pid.strip()])
    sso.run(["sh", "-c", f"while kill -0 {pid.strip()} 2>/dev/null; do sleep 0.05; done"])
    assert drift(site, result.prefix) == [
        "edge-1: nft table ip lanes: missing (map ingress_dnat): "
        "element 10.0.1.100 . 10.0.1.2 . 80 : 100.65.0.31",
        "edge-1: nft table ip lanes: missing (map ingress_snat): "
        "element 100.65.0.32 . 10.0.1.100 : 10.0.1.3",
        "sso-gw: nginx: not running",
    ]
    lines: list[str] = []
    again = bring_up(site, result.prefix, lines.append)
    assert (again.created, again.changes) == (False, 2)
    assert "gateway edge on edge-1: loaded table ip lanes" in lines
    assert "gateway sso on sso-gw: table ip lanes is up to date; nginx started" in lines
    assert failed(run_check(result.prefix, site.flows)) == {}
    assert drift(site, result.prefix) == []
