"""Pods' return paths in the prod lab: pods behind a node, the node announcing its block over BGP
to the edge router's BIRD (lanes' rendered config), real packets to SSO through the mapping zone.

The prod lab (``bring_up``, as ``lanes lab up`` builds it) gets, in namespaces of its own prefix:
- two pod namespaces behind worker-1, wired the way Calico wires a workload: a veth whose node
  end (``cali...``) answers ARP for the pod's gateway 169.254.1.1 (proxy_arp), a /32 route per
  pod on the node, and a blackhole for the node's /26 block;
- in worker-1, a BIRD standing in for calico-node's (a small config this test writes: the
  node's AS, its traffic address, the block, plus prefixes the router must refuse);
- in edge-1 (the az-1 router, 100.65.0.1), the BIRD ``lab up`` provisioned as the BgpSpeaker
  does (``lanes.render.bird``'s config, started by the host's ``systemctl``);
- in worker-1, Calico's natOutgoing toward storage as one nft masquerade rule.

vpc-1-nat also consumes vpc-2-web on the management network (``test_exposure_consumers``) and
the shop tenant is granted that exposure, so a pod consumes it through the consuming gateway.

The lab runs no Calico, so tenant grants are not enforced by packets here: the grant is shown
where it is enforced, the rendered NetworkPolicies (``tests.cluster.netpol``), and the lab shows
that the path itself carries what the policy then allows or refuses.
"""

from __future__ import annotations

import time

import pytest

from lanes.lab.probe import seen
from lanes.lab.site import bring_up, site_model, take_down
from lanes.model.cluster import bgp_routers
from lanes.model.flows import PROBE_PORT
from lanes.render.bird import neighbor_name, render_bird
from lanes.render.cluster import plan_cluster
from tests.cluster.netpol import Cluster, host, pod
from tests.gateway.support import plan_of
from tests.lab.test_exposure_consumers import AT as CONSUME_AT
from tests.lab.test_exposure_consumers import consume_on_management
from tests.support.labs import assert_gone, new_prefix, require_root

pytestmark = pytest.mark.netns

NODE, NODE_IP, NODE_DEV = "worker-1", "100.65.0.21", "bond0.200"
BLOCK = "100.96.0.0/26"  # worker-1's Calico block, inside the az-1 pool 100.96.0.0/14
PODS = {"pod-shop": ("100.96.0.2", "shop"), "pod-analytics": ("100.96.0.3", "analytics")}
BORROWED = "100.96.1.7/32"  # an address of another node's block that worker-1 hands out
# What a wrong or hostile node may announce; the router must take none of it.
FOREIGN = [
    "100.100.0.0/26",  # az-2's pool: inside the pod range, not this AZ's
    "100.96.0.0/13",  # wider than the AZ pool
    "100.64.128.0/24",  # the mapping zone
    "0.0.0.0/0",  # a default route
]
SSO = "100.64.128.2"
STORAGE = "100.66.0.11"  # master-1's storage address
CALICO_NAT = """table ip lanes-calico-stand-in {
	chain postrouting {
		type nat hook postrouting priority srcnat;
		ip saddr 100.96.0.0/12 ip daddr 100.66.0.0/16 masquerade
	}
}
"""


def with_exposure_grant(values) -> None:
    """prod, with vpc-1-nat consuming vpc-2-web on management too, and shop granted it."""
    consume_on_management(values)
    values["cluster"]["tenants"][0]["egress"].append({"exposure": "vpc-2-web"})


def node_bird_conf() -> str:
    routes = "\n".join(f"\troute {p} blackhole;" for p in [BLOCK, BORROWED, *FOREIGN])
    return f"""router id {NODE_IP};
protocol device {{
}}
protocol static announced {{
\tipv4;
{routes}
}}
protocol bgp to_router {{
\tlocal {NODE_IP} as 64512;
\tneighbor 100.65.0.1 as 64513;
\tconnect delay time 1;
\tconnect retry time 1;
\tipv4 {{ import none; export where proto = "announced"; }};
}}
"""


def wait_for(predicate, what: str, explain=lambda: "", timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{explain()}")


class Birds:
    """The two BIRDs' control sockets, and birdc against them."""

    def __init__(self, router, node):
        self.router, self.node = router, node
        # The router's own BIRD (Debian's socket); the node's, in the node's own /run.
        self.router_sock, self.node_sock = "/run/bird/bird.ctl", "/run/bird-node.ctl"

    def router_c(self, *args: str) -> str:
        return self.router.run(["birdc", "-s", self.router_sock, *args], check=False).stdout

    def node_c(self, *args: str) -> str:
        return self.node.run(["birdc", "-s", self.node_sock, *args], check=False).stdout

    def established(self) -> bool:
        return "Established" in self.router_c("show", "protocols", neighbor_name(NODE_IP))

    def explain(self) -> str:
        return self.router_c("show", "protocols", "all") + self.node_c("show", "protocols", "all")

    def router_routes(self) -> str:
        return self.router_c("show", "route", "all")


def wire_pod(lab, node, name: str, address: str, n: int) -> object:
    """A pod namespace behind ``node``, as Calico's CNI plugin wires one."""
    ns = lab.host(name)
    cali = f"cali{n}lanes"
    node.ip("link", "add", cali, "type", "veth", "peer", "name", "eth0", "netns", ns.ns)
    node.ip("link", "set", cali, "up")
    node.sysctl(f"net.ipv4.conf.{cali}.proxy_arp", 1)
    node.sysctl(f"net.ipv4.conf.{cali}.rp_filter", 1)
    node.ip("route", "add", f"{address}/32", "dev", cali)
    ns.ip("link", "set", "lo", "up")
    ns.ip("link", "set", "eth0", "up")
    ns.ip("addr", "add", f"{address}/32", "dev", "eth0")
    ns.ip("route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
    ns.ip("route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
    return ns


@pytest.fixture(scope="module")
def lab():
    require_root()
    plan = plan_of("prod", with_exposure_grant)
    site = site_model(plan, "prod")
    prefix = new_prefix()
    try:
        result = bring_up(site, prefix)
        net = result.lab
        router, node = net.hosts["edge-1"], net.hosts[NODE]
        pods = {
            name: wire_pod(net, node, name, address, n)
            for n, (name, (address, _)) in enumerate(sorted(PODS.items()))
        }
        node.ip("route", "add", "blackhole", BLOCK)
        # Calico's natOutgoing toward storage (no no-NAT pool covers it: cluster.storage host-nat)
        node.run(["nft", "-f", "-"], input=CALICO_NAT)
        # The az-1 router (the node is in az-1; the other AZs' routers are not in this lab)
        # runs what lab up provisioned: lanes' config, the one BIRD of the host.
        (router_router,) = [r for r in bgp_routers(plan) if r.az == plan.az]
        assert router.read_file("/etc/bird/bird.conf") == render_bird(router_router)
        node.write_file("/run/bird-node.conf", node_bird_conf())
        birds = Birds(router, node)
        node.spawn(
            ["bird", "-f", "-c", "/run/bird-node.conf", "-s", birds.node_sock, "-P",
             f"{birds.node_sock}.pid"],
            log_name="bird-node",
        )  # fmt: skip
        wait_for(birds.established, "the node's BGP session to the router", birds.explain)
        wait_for(lambda: BLOCK in birds.router_routes(), "the node's block at the router")
        yield plan, router, node, pods, birds
    finally:
        found = take_down(prefix)
        assert_gone(prefix, found.pids)


def test_the_router_learns_the_nodes_block_and_borrowed_address_and_nothing_else(lab):
    _, router, _, _, birds = lab
    routes = birds.router_routes()
    assert f"{BLOCK}" in routes and BORROWED in routes
    for prefix in FOREIGN:
        assert prefix not in routes, prefix
    # the node did announce them: the router's filter is what refused them
    exported = birds.node_c("show", "route", "export", "to_router")
    assert all(p in exported for p in FOREIGN)
    # in the kernel: the block via the node on the traffic segment, installed by BIRD
    kernel = router.ip("-4", "route", "show", "proto", "bird").stdout
    assert f"{BLOCK} via {NODE_IP} dev ens1f0.200" in kernel
    assert "100.100.0.0" not in kernel and "default" not in kernel


def test_a_pod_reaches_sso_through_the_mapping_zone_and_is_seen_as_itself(lab):
    _, _, _, pods, _ = lab
    shop = pods["pod-shop"]
    # the mapping zone's proxy host sees the pod's own address (no NAT inside 100.64.0.0/10)
    assert seen(shop, SSO, PROBE_PORT, timeout=2) == "sso-gw 100.96.0.2"
    # and SSO itself is reached through the proxy, which calls it from its enterprise leg
    assert seen(shop, SSO, 443, timeout=2) == "sso-upstream 10.0.0.3"


def test_without_the_routers_bgp_route_the_pod_gets_no_answer(lab):
    _, router, _, pods, birds = lab
    birds.router_c("disable", neighbor_name(NODE_IP))
    try:
        wait_for(lambda: BLOCK not in router.ip("-4", "route").stdout, "the route to go")
        assert seen(pods["pod-shop"], SSO, PROBE_PORT, timeout=1) is None
    finally:
        birds.router_c("enable", neighbor_name(NODE_IP))
        wait_for(lambda: BLOCK in router.ip("-4", "route").stdout, "the route to come back")
    assert seen(pods["pod-shop"], SSO, PROBE_PORT, timeout=2) == "sso-gw 100.96.0.2"


def test_without_the_nodes_pod_rule_the_pod_leaves_on_the_wrong_lane_and_gets_no_answer(lab):
    _, _, node, pods, _ = lab
    rule = ["from", "100.96.0.0/12", "table", "102", "priority", "1092"]
    node.ip("rule", "del", *rule)
    try:
        # main would send it out of the management NIC: the router drops it (strict rp_filter)
        assert seen(pods["pod-shop"], SSO, PROBE_PORT, timeout=1) is None
    finally:
        node.ip("rule", "add", *rule)
    assert seen(pods["pod-shop"], SSO, PROBE_PORT, timeout=2) == "sso-gw 100.96.0.2"


def test_the_grant_decides_which_tenant_may_use_the_path(lab):
    plan, _, _, pods, _ = lab
    policies = Cluster(
        [m.body for m in plan_cluster(plan).manifests], {"kube-system": {}, "tigera-gateway": {}}
    )
    sso = host("sso", SSO)
    shop = pod("shop", PODS["pod-shop"][0], "shop")
    analytics = pod("analytics", PODS["pod-analytics"][0], "analytics")
    # shop is granted the mapping zone on 443; analytics only storage of az-1
    assert policies.allows(shop, sso, 443)
    assert not policies.allows(analytics, sso, 443)
    assert not policies.allows(shop, sso, PROBE_PORT)  # the grant names port 443 only
    # The path itself carries both tenants' packets: the refusal is the policy's, not routing's.
    assert seen(pods["pod-analytics"], SSO, 443, timeout=2) == "sso-upstream 10.0.0.3"


def test_a_pod_reaches_storage_on_the_storage_nic_as_the_nodes_storage_address(lab):
    _, _, node, pods, _ = lab
    assert seen(pods["pod-shop"], STORAGE, PROBE_PORT, timeout=2) == "master-1 100.66.0.21"
    rule = ["from", "100.96.0.0/12", "to", "100.66.0.0/16", "table", "main", "priority", "1091"]
    node.ip("rule", "del", *rule)
    try:
        # without it the pod's lane (traffic) takes storage too: another NIC, another source
        assert seen(pods["pod-shop"], STORAGE, PROBE_PORT, timeout=2) != "master-1 100.66.0.21"
    finally:
        node.ip("rule", "add", *rule)


def test_a_pod_consumes_an_exposure_through_the_consuming_gateway_as_its_grant_says(lab):
    plan, _, _, pods, birds = lab
    assert seen(pods["pod-shop"], CONSUME_AT, 80, timeout=2) == "vpc-2-web 192.168.0.200"
    policies = Cluster(
        [m.body for m in plan_cluster(plan).manifests], {"kube-system": {}, "tigera-gateway": {}}
    )
    consume = host("vpc-1-nat", CONSUME_AT)
    assert policies.allows(pod("shop", PODS["pod-shop"][0], "shop"), consume, 80)
    assert not policies.allows(pod("analytics", PODS["pod-analytics"][0], "analytics"), consume, 80)
    # the reply comes back to the pod only over the router's BGP route
    birds.router_c("disable", neighbor_name(NODE_IP))
    try:
        assert seen(pods["pod-shop"], CONSUME_AT, 80, timeout=1) is None
    finally:
        birds.router_c("enable", neighbor_name(NODE_IP))
        wait_for(lambda: BLOCK in birds.router_routes(), "the route to come back")
