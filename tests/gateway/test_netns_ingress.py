"""Seed 000's ingress path with real packets, on the prod stack's edge gateway."""

import pytest

from tests.gateway.support import Gateway, models_of, node, plan_of, seen, serve, wire_gateway

pytestmark = pytest.mark.netns

LB = "10.0.1.100"


@pytest.fixture
def edge(netlab):
    """client -> front LB -> front address N -> edge-1 -> ingress node N; internet beside."""
    plan = plan_of("prod")
    model = models_of(plan)["edge"]
    # and the line toward the other AZs' routers (edge-1 is az-1's router), with no one on it
    nets = ("enterprise", "management", "traffic", "storage", "az-line")
    segs = {n: netlab.segment(n) for n in nets}
    gw = wire_gateway(netlab, plan, model, segs)
    lb = node(netlab, "lb", segs["enterprise"], f"{LB}/16")
    client = node(netlab, "client", segs["enterprise"], "10.0.9.9/16")
    client.add_route("100.64.0.0/10", via="10.0.1.1")  # it tries the inside directly too
    internet = node(netlab, "internet", segs["enterprise"], "10.0.5.5/16")
    nodes = {
        f"ingress-{n}": node(
            netlab, f"ingress-{n}", segs["traffic"], f"100.65.0.3{n}/20", "100.65.0.1"
        )
        for n in (1, 2, 3)
    }
    master = node(netlab, "master", segs["management"], "100.64.64.11/20", "100.64.64.1")
    for n in (1, 2, 3):
        serve(nodes[f"ingress-{n}"], f"ingress-{n}", f"100.65.0.3{n}", 80)
    serve(internet, "internet", "10.0.5.5", 8080)
    serve(lb, "lb", LB, 9000)
    serve(master, "master", "100.64.64.11", 8080)
    # The front load balancer: a TCP relay from its VIP port 80 to front address 1.
    lb.spawn(["socat", f"TCP-LISTEN:80,bind={LB},fork,reuseaddr", "TCP:10.0.1.2:80"])
    lb.tcp_wait(LB, 80)
    Gateway(netlab, gw, model, master, "100.64.64.1").apply()
    return client, lb, nodes


def test_front_addresses_reach_their_ingress_node_which_sees_the_balancer(edge):
    client, lb, _ = edge
    assert seen(client, LB, 80) == "ingress-1 10.0.1.100"
    assert seen(lb, "10.0.1.2", 80) == "ingress-1 10.0.1.100"
    assert seen(lb, "10.0.1.3", 80) == "ingress-2 10.0.1.100"
    assert seen(lb, "10.0.1.4", 80) == "ingress-3 10.0.1.100"


def test_only_the_balancer_gets_in(edge):
    client, _, _ = edge
    assert seen(client, "10.0.1.2", 80, timeout=0.5) is None
    assert seen(client, "100.65.0.31", 80, timeout=0.5) is None
    assert seen(client, "100.64.64.11", 8080, timeout=0.5) is None


def test_ingress_egress_leaves_as_the_egress_address_and_replies_as_the_front(edge):
    _, _, nodes = edge
    assert seen(nodes["ingress-1"], "10.0.5.5", 8080) == "internet 10.0.1.1"
    # The specific SNAT toward the balancer wins over the general egress SNAT (seed 000).
    assert seen(nodes["ingress-1"], LB, 9000) == "lb 10.0.1.2"
    assert seen(nodes["ingress-3"], LB, 9000) == "lb 10.0.1.4"


def test_traffic_to_the_platform_space_is_not_translated(edge):
    _, _, nodes = edge
    assert seen(nodes["ingress-2"], "100.64.64.11", 8080) == "master 100.65.0.32"
