"""Seed 000's overlapping VPCs with real packets: through NAT devices, then through nginx."""

import pytest

from tests.gateway.support import Gateway, models_of, node, plan_of, seen, serve, wire_gateway

pytestmark = pytest.mark.netns

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJL6NmXdXA6m03sRrDnPKkPnIu5xTlfyhuyYJvVuo2+H"


def add_vpc3(values):
    """A third tenant VPC, also 192.168.0.0/24, joins with its own NAT device (seed 000)."""
    values["outside"].append({"name": "vpc-3", "cidr": "192.168.0.0/24", "vlan": 603})
    values["hosts"].append(
        {
            "name": "vpc3-nat",
            "number": 203,
            "role": "gateway",
            "az": "az-1",
            "nics": [
                {"name": "eno1", "networks": ["management"]},
                {"name": "ens1f0", "networks": ["adjacency", "vpc-3"]},
            ],
            "outside": {"vpc-3": ["192.168.0.200"]},
            "ssh": {"host_key": HOST_KEY},
        }
    )
    values["gateways"].append(
        {
            "name": "vpc-3-nat",
            "host": "vpc3-nat",
            "consume": [
                {
                    "name": "vpc-2-web",
                    "network": "vpc-3",
                    "at": "192.168.0.200",
                    "target": "100.127.0.202",
                    "port": 80,
                }
            ],
        }
    )


def use_nginx(values):
    """The same exposure by multi-NIC nginx: TCP on the vpc-1 side, HTTP on the vpc-2 side."""
    for gw in values["gateways"]:
        if gw["name"] == "vpc-1-nat":
            gw.pop("consume")
            gw["proxies"] = [
                {
                    "name": "vpc-2-web",
                    "mode": "stream",
                    "listen": "192.168.0.200",
                    "port": 80,
                    "upstream": "100.127.0.202",
                    "upstream_port": 80,
                    "source": "100.127.0.201",
                }
            ]
        if gw["name"] == "vpc-2-nat":
            gw.pop("publish")
            gw["proxies"] = [
                {
                    "name": "vpc-2-web",
                    "mode": "http",
                    "listen": "100.127.0.202",
                    "port": 80,
                    "upstream": "192.168.0.100",
                    "upstream_port": 80,
                    "source": "192.168.0.200",
                }
            ]


def build(netlab, plan, names, server_mode="tcp"):
    """The NAT devices of ``names`` between their VPCs and the adjacency network."""
    models = models_of(plan)
    segs = {n: netlab.segment(n) for n in ("adjacency", "management", "vpc-1", "vpc-2", "vpc-3")}
    ops = node(netlab, "ops", segs["management"], "100.64.0.10/20")
    gateways = {}
    for name in names:
        model = models[name]
        ns = wire_gateway(netlab, plan, model, segs)
        listen = str(plan.host(model.host).address("management").address)
        gateways[name] = Gateway(netlab, ns, model, ops, listen)
    server = node(netlab, "server", segs["vpc-2"], "192.168.0.100/24")
    serve(server, "server", "192.168.0.100", 80, server_mode)
    clients = {
        vpc: node(netlab, f"client-{vpc}", segs[vpc], "192.168.0.100/24", "192.168.0.200")
        for vpc in ("vpc-1", "vpc-3")
    }
    for gateway in gateways.values():
        gateway.apply()
    return clients, gateways


def test_vpc1_reaches_vpc2_at_its_local_address_and_a_third_vpc_joins(netlab):
    plan = plan_of("prod", add_vpc3)
    clients, _ = build(netlab, plan, ["vpc-1-nat", "vpc-2-nat", "vpc-3-nat"])
    # Same client address in both VPCs; the server sees vpc-2's NAT device either way.
    assert seen(clients["vpc-1"], "192.168.0.200", 80) == "server 192.168.0.200"
    assert seen(clients["vpc-3"], "192.168.0.200", 80) == "server 192.168.0.200"


def test_only_the_exposed_port_crosses(netlab):
    plan = plan_of("prod")
    clients, _ = build(netlab, plan, ["vpc-1-nat", "vpc-2-nat"])
    client = clients["vpc-1"]
    assert seen(client, "192.168.0.200", 80) == "server 192.168.0.200"
    assert seen(client, "192.168.0.200", 81, timeout=0.5) is None
    # Routing at the adjacency address directly is not an exposure: dropped at the NAT device.
    client.add_route("100.127.0.0/16", via="192.168.0.200")
    assert seen(client, "100.127.0.202", 80, timeout=0.5) is None
    # vpc-3 has no NAT device in this stack: nothing answers there.
    assert seen(clients["vpc-3"], "192.168.0.200", 80, timeout=0.5) is None
    # From the adjacency network, vpc-2 is its exposures only, even routed at its NAT device.
    probe = node(netlab, "probe", netlab.segments["adjacency"], "100.127.0.50/20")
    probe.add_route("192.168.0.0/24", via="100.127.0.202")
    assert seen(probe, "100.127.0.202", 80) == "server 192.168.0.200"
    assert seen(probe, "192.168.0.100", 80, timeout=0.5) is None


def test_the_same_exposure_through_nginx(netlab):
    plan = plan_of("prod", use_nginx)
    clients, gateways = build(netlab, plan, ["vpc-1-nat", "vpc-2-nat"], server_mode="http")
    # L7 on the vpc-2 leg: the server sees nginx's vpc-2 leg, and the caller in X-Forwarded-For.
    assert seen(clients["vpc-1"], "192.168.0.200", 80, mode="http") == (
        "server 192.168.0.200 100.127.0.201"
    )
    assert seen(clients["vpc-1"], "192.168.0.200", 81, mode="http", timeout=0.5) is None
    # nginx binds the addresses it was given, not the wildcard.
    listening = gateways["vpc-1-nat"].ns.run(["ss", "-Hltn"]).stdout.split()
    assert "192.168.0.200:80" in listening and "0.0.0.0:80" not in listening
    # Re-applying an unchanged config leaves the same nginx running.
    pid_file = gateways["vpc-1-nat"].paths.nginx_pid
    pid = gateways["vpc-1-nat"].ns.run(["cat", pid_file]).stdout
    assert "up to date" in gateways["vpc-1-nat"].apply().stdout
    assert gateways["vpc-1-nat"].ns.run(["cat", pid_file]).stdout == pid
