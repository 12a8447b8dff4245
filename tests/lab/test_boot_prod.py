"""Every prod gateway rebooted at once in a prod lab: the units bring the whole matrix back.

The emulated reboot (``lanes.lab.reboot``): every gateway's tables flushed, the SSO gateway's
lanes nginx killed, forwarding off; the matrix fails; then each gateway's enabled units' start
commands run, and all 203 cells pass again (ingress, egress, the jump host mapping, the SSO
proxy, the vpc-1 -> vpc-2 exposure), with no drift in ``lanes verify``.
"""

from __future__ import annotations

import pytest

from lanes.intents.gateway import GatewayPaths
from lanes.lab.reboot import boot, power_off
from lanes.lab.remote import LabHosts
from lanes.lab.site import bring_up, run_check, site_model, take_down
from lanes.remote.verify import expected_targets
from lanes.remote.verify_run import verify_targets
from tests.gateway.support import plan_of
from tests.lab.test_site import assert_gone, new_prefix, require_root

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def prod():
    require_root()
    site = site_model(plan_of("prod"), "prod")
    prefix = new_prefix()
    try:
        yield site, bring_up(site, prefix)
    finally:
        found = take_down(prefix)
        assert_gone(prefix, found.pids)


def test_after_every_gateway_reboots_the_whole_prod_matrix_passes(prod):
    site, result = prod
    hosts = LabHosts(site, result.prefix)
    gateways = {m.host: GatewayPaths(hosts.root(m.host)) for m in site.models}
    assert all(p.ok for p in run_check(result.prefix, site.flows))
    for host, paths in gateways.items():
        power_off(result.lab.hosts[host], paths)
    down = [p for p in run_check(result.prefix, site.flows) if not p.ok]
    kinds = {p.flow.kind for p in down}
    assert {"ingress", "egress", "mapping", "proxy", "exposure"} <= kinds, kinds

    started = {host: boot(result.lab.hosts[host], paths) for host, paths in gateways.items()}

    nginx = {host for host, ran in started.items() if "/usr/sbin/nginx" in [a[0] for a in ran]}
    assert nginx == {"sso-gw"}
    probes = run_check(result.prefix, site.flows)
    assert {p.flow.cell(): p.answer for p in probes if not p.ok} == {}
    assert len(probes) == 203
    targets = expected_targets(site.plan, hosts.root)
    outcomes = verify_targets(targets, hosts.session)
    assert [d for o in outcomes for d in o.drifts] == []
    assert [o.error for o in outcomes if o.error] == []
