"""Every prod gateway rebooted at once in a prod lab: the units bring the whole matrix back.

The emulated reboot (``lanes.lab.reboot``): every gateway host's processes killed (the SSO
gateway's lanes nginx, edge-1's BIRD), its tables flushed, forwarding off; the matrix fails;
then each host boots (its network, its sysctls, the units enabled on it), and all 203 cells pass
again (ingress, egress, the jump host mapping, the SSO proxy, the vpc-1 -> vpc-2 exposure), with
no drift in ``lanes verify``.
"""

from __future__ import annotations

import pytest

from lanes.lab.reboot import boot, power_off
from lanes.lab.remote import LabHosts
from lanes.lab.site import run_check
from lanes.remote.verify import expected_targets
from lanes.remote.verify_run import verify_targets

pytestmark = pytest.mark.netns


@pytest.fixture
def prod(prod_lab):
    """The shared prod lab (tests/support/labs.py): every test puts back what it changes."""
    return prod_lab.site, prod_lab.result


def test_after_every_gateway_reboots_the_whole_prod_matrix_passes(prod):
    site, result = prod
    hosts = LabHosts(site, result.prefix)
    gateways = sorted({m.host for m in site.models})
    assert all(p.ok for p in run_check(result.prefix, site.flows))
    for host in gateways:
        power_off(result.lab.hosts[host])
    down = [p for p in run_check(result.prefix, site.flows) if not p.ok]
    kinds = {p.flow.kind for p in down}
    assert {"ingress", "egress", "mapping", "proxy", "exposure"} <= kinds, kinds

    started = {host: boot(result.lab.hosts[host]) for host in gateways}

    nginx = {
        host for host, said in started.items() if "lanes-gateway-nginx.service: started" in said
    }
    assert nginx == {"sso-gw"}
    assert {host for host, said in started.items() if "bird.service: started" in said} == {"edge-1"}
    probes = run_check(result.prefix, site.flows)
    assert {p.flow.cell(): p.answer for p in probes if not p.ok} == {}
    assert len(probes) == 203
    targets = expected_targets(site.plan)
    outcomes = verify_targets(targets, hosts.session)
    assert [d for o in outcomes for d in o.drifts] == []
    assert [o.error for o in outcomes if o.error] == []
