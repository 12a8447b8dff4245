"""Seed 001's router with real packets: egress SNAT, no NAT between the lab networks, 1:1 maps."""

import pytest

from tests.gateway.support import Gateway, models_of, node, plan_of, seen, serve, wire_gateway

pytestmark = pytest.mark.netns

DEVBOX = "192.168.0.105"


@pytest.fixture
def lab001(netlab):
    """The dev stack's router between the enterprise network and the three lab /21s."""
    plan = plan_of("dev")
    model = models_of(plan)["lab-router"]
    segs = {n: netlab.segment(n) for n in ("enterprise", "management", "traffic", "storage")}
    router = wire_gateway(netlab, plan, model, segs)
    devbox = node(netlab, "devbox", segs["enterprise"], f"{DEVBOX}/24")
    # An enterprise host that routes the platform range at the router: it still gets nowhere.
    devbox.add_route("100.64.0.0/10", via="192.168.0.51")
    hosts = {
        "mgmt": node(netlab, "mgmt", segs["management"], "100.64.0.2/21", "100.64.0.1"),
        "traffic": node(netlab, "traffic", segs["traffic"], "100.64.32.2/21", "100.64.32.1"),
        "storage": node(netlab, "storage", segs["storage"], "100.64.64.2/21", "100.64.64.1"),
        "jump": node(netlab, "jump", segs["management"], "100.64.0.52/21", "100.64.0.1"),
        "lb": node(netlab, "lb", segs["management"], "100.64.0.53/21", "100.64.0.1"),
    }
    serve(devbox, "devbox", DEVBOX, 8080)
    for name, address in (
        ("mgmt", "100.64.0.2"),
        ("traffic", "100.64.32.2"),
        ("storage", "100.64.64.2"),
    ):
        serve(hosts[name], name, address, 8080)
    serve(hosts["jump"], "jump", "100.64.0.52", 22)
    serve(hosts["lb"], "lb", "100.64.0.53", 80)
    gateway = Gateway(netlab, router, model, hosts["mgmt"], "100.64.0.1")
    gateway.apply()
    return devbox, hosts


def test_lab_networks_reach_the_enterprise_as_the_router(lab001):
    _, hosts = lab001
    for name in ("mgmt", "traffic", "storage"):
        assert seen(hosts[name], DEVBOX, 8080) == "devbox 192.168.0.51", name


def test_lab_networks_keep_their_addresses_between_each_other(lab001):
    _, hosts = lab001
    assert seen(hosts["mgmt"], "100.64.64.2", 8080) == "storage 100.64.0.2"
    assert seen(hosts["storage"], "100.64.0.2", 8080) == "mgmt 100.64.64.2"
    assert seen(hosts["traffic"], "100.64.64.2", 8080) == "storage 100.64.32.2"


def test_mapped_addresses_reach_the_jump_host_and_the_lb(lab001):
    devbox, hosts = lab001
    assert seen(devbox, "192.168.0.52", 22) == "jump 192.168.0.105"
    assert seen(devbox, "192.168.0.53", 80) == "lb 192.168.0.105"
    # The jump host leaves as its own mapped address, not the router's egress address.
    assert seen(hosts["jump"], DEVBOX, 8080) == "devbox 192.168.0.52"
    assert seen(hosts["lb"], DEVBOX, 8080) == "devbox 192.168.0.53"


def test_nothing_else_inside_is_reachable_from_the_enterprise(lab001):
    devbox, _ = lab001
    for address in ("100.64.0.2", "100.64.32.2", "100.64.64.2", "100.64.0.52"):
        assert seen(devbox, address, 8080, timeout=0.5) is None, address
    assert seen(devbox, "100.64.0.52", 22, timeout=0.5) is None
    assert seen(devbox, "192.168.0.51", 8080, timeout=0.5) is None
