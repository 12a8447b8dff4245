"""The enterprise-app gateway of seed 000 with real packets: SSO at 100.64.128.2 via nginx."""

import pytest

from tests.gateway.support import Gateway, models_of, node, plan_of, seen, serve, wire_gateway

pytestmark = pytest.mark.netns


def test_console_reaches_sso_through_the_mapping_zone_and_not_the_other_way(netlab):
    plan = plan_of("prod")
    model = models_of(plan)["sso"]
    segs = {n: netlab.segment(n) for n in ("management", "enterprise")}
    gw = wire_gateway(netlab, plan, model, segs)
    console = node(netlab, "console", segs["management"], "100.64.128.10/20")
    sso = node(netlab, "sso", segs["enterprise"], "10.0.0.2/16")
    sso.add_route("100.64.0.0/10", via="10.0.0.3")
    serve(sso, "sso", "10.0.0.2", 443)
    serve(console, "console", "100.64.128.10", 8080)
    Gateway(netlab, gw, model, console, "100.64.128.2").apply()

    # SSO sees the gateway's enterprise leg (10.0.0.3), as in front of any enterprise LB.
    assert seen(console, "100.64.128.2", 443) == "sso 10.0.0.3"
    # Routed at the gateway, the enterprise address itself is not reachable: no egress intent.
    console.add_route("default", via="100.64.128.2")
    assert seen(console, "10.0.0.2", 443, timeout=0.5) is None
    # Forwarding is on for the gateway, yet the enterprise side does not route inside.
    assert gw.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "1"
    assert seen(sso, "100.64.128.10", 8080, timeout=0.5) is None
