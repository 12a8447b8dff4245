"""Hypothesis properties of the planner over generated regions."""

from __future__ import annotations

import base64
import hashlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netaddr import IPAddress, IPNetwork

from lanes.config import NETWORK_KINDS, parse_stack_config
from lanes.model.plan import PLATFORM_SPACE, plan_region
from lanes.render.plan import render_files
from lanes.rules import checked_plan, find_overlaps

ROLES = ("master", "worker", "ingress", "service")
GENERATED_SPACE = IPNetwork("100.64.0.0/12")
# The line between the AZ routers: platform space that no generated network, nor the cluster's
# default pod and service ranges, can take.
LINE = {"name": "az-line", "cidr": "100.127.255.248/29"}


def subnet(parent: IPNetwork, prefixlen: int, index: int) -> str:
    return f"{IPAddress(parent.first + index * (1 << (32 - prefixlen)))}/{prefixlen}"


def host_key(name: str) -> str:
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + hashlib.sha256(name.encode()).digest()
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def host(name: str, number: int, role: str, az: str) -> dict:
    nets = ["management"] if role == "service" else ["management", "traffic", "storage"]
    return {
        "name": name,
        "number": number,
        "role": role,
        "az": az,
        "nics": [{"name": f"eth{i}", "networks": [n]} for i, n in enumerate(nets)],
        "ssh": {"host_key": host_key(name)},
    }


def router(az: str) -> dict:
    """An AZ's router: number 1 holds the AZ's block gateways; it carries the line."""
    nets = ["management", "traffic", "storage", LINE["name"]]
    return {
        "name": f"router-{az}",
        "number": 1,
        "role": "gateway",
        "az": az,
        "nics": [{"name": f"eth{i}", "networks": [n]} for i, n in enumerate(nets)],
        "ssh": {"host_key": host_key(f"router-{az}")},
    }


@st.composite
def regions(draw) -> dict:
    n_azs = draw(st.integers(1, 4))
    azs = [f"az-{i + 1}" for i in range(n_azs)]
    prefix = draw(st.integers(14, 20))
    # 100.64.0.0/12: leaves the cluster's default pod and service ranges (100.96.0.0/12,
    # 100.80.0.0/16) and the adjacency-style top of the space free.
    spots = draw(
        st.lists(st.integers(0, (1 << (prefix - 12)) - 1), min_size=4, max_size=4, unique=True)
    )
    zoned = draw(st.booleans())
    zone_prefix = prefix + 2
    az_bits = (n_azs - 1).bit_length()
    block_prefix = draw(st.integers((zone_prefix if zoned else prefix) + az_bits, 26))
    networks = {}
    for i, (name, spot) in enumerate(zip(NETWORK_KINDS.names, spots, strict=True)):
        net = {
            "cidr": subnet(GENERATED_SPACE, prefix, spot),
            "vlan": 10 + i,
            "block_prefix": block_prefix,
        }
        if name == "management" and zoned:
            net["zone_prefix"] = zone_prefix
            net["zones"] = [
                {"name": "cloud-management"},
                {"name": "k8s-nodes"},
                {"name": "enterprise-mapping"},
                {"name": "reserved", "reserved": True},
            ]
        networks[name] = net
    usable = (1 << (32 - block_prefix)) - 2
    picks = draw(
        st.lists(
            st.tuples(st.sampled_from(azs), st.integers(2, usable), st.sampled_from(ROLES)),
            max_size=30,
            unique_by=lambda t: (t[0], t[1]),
        )
    )
    hosts = [host(f"h{i}", number, role, az) for i, (az, number, role) in enumerate(picks)]
    values = {
        "region": "gen",
        "environment": "test",
        "az": azs[0],
        "azs": azs,
        "networks": networks,
        "hosts": hosts,
    }
    # Hosts in several AZs need the line and a router on it in each (rule line-missing); a
    # region whose hosts sit in one AZ may have it or not.
    if len({h["az"] for h in hosts}) > 1 or draw(st.booleans()):
        values["line"] = dict(LINE)
        values["hosts"] = [router(az) for az in azs] + hosts
    return values


common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(regions())
def test_generated_regions_pass_every_rule(values):
    report = checked_plan(parse_stack_config(values))
    assert report.violations == ()


@common
@given(regions())
def test_every_prefix_is_aligned_contained_and_disjoint(values):
    plan = plan_region(parse_stack_config(values))
    for net in plan.networks:
        assert net.cidr in PLATFORM_SPACE
        parts = []  # zones + the network-level leftovers tile the network
        for zone in net.zones:
            assert zone.cidr in net.cidr
            tiles = [b.cidr for b in zone.blocks] + list(zone.reserved_blocks)
            for cidr in tiles:
                assert cidr.ip == cidr.network  # on its own boundary
                assert cidr in zone.cidr
            assert sum(c.size for c in tiles) == zone.cidr.size  # blocks + reserved tile the zone
            for a, b in itertools.combinations(tiles, 2):
                assert a.last < b.first or b.last < a.first
            parts.append(zone.cidr)
        parts += list(net.reserved)
        assert sum(c.size for c in parts) == net.cidr.size
    for a, b in itertools.combinations(plan.networks, 2):
        assert a.cidr.last < b.cidr.first or b.cidr.last < a.cidr.first


@common
@given(regions())
def test_every_host_address_is_inside_its_az_block_with_its_number(values):
    plan = plan_region(parse_stack_config(values))
    for h in plan.hosts:
        for entry in h.addresses:
            if plan.line is not None and entry.network == plan.line.name:
                # the line: AZ i's router holds its (i+1)-th address, whatever its number
                index = plan.azs.index(h.az)
                assert entry.address == IPAddress(plan.line.cidr.first + 1 + index)
                assert entry.address in plan.line.cidr and entry.block == plan.line.cidr
                continue
            assert entry.address in entry.block
            assert int(entry.address) - entry.block.first == h.number
            block = plan.network(entry.network).zone(entry.zone).block(h.az)
            assert block.cidr == entry.block


@common
@given(regions(), st.data())
def test_adding_a_host_moves_no_other_host(values, data):
    before = plan_region(parse_stack_config(values))
    # Without the line, a newcomer joins an AZ that has hosts (or any, in an empty region).
    populated = sorted({h["az"] for h in values["hosts"]})
    az = data.draw(
        st.sampled_from(values["azs"] if "line" in values else populated or values["azs"])
    )
    taken = {h["number"] for h in values["hosts"] if h["az"] == az}
    usable = (1 << (32 - values["networks"]["traffic"]["block_prefix"])) - 2
    free = [n for n in range(2, usable + 1) if n not in taken]
    number = data.draw(st.sampled_from(free))
    position = data.draw(st.integers(0, len(values["hosts"])))
    grown = dict(values, hosts=[*values["hosts"]])
    grown["hosts"].insert(position, host("newcomer", number, "worker", az))
    after = plan_region(parse_stack_config(grown))
    assert checked_plan(parse_stack_config(grown)).violations == ()
    assert [h.to_dict() for h in after.hosts if h.name != "newcomer"] == [
        h.to_dict() for h in before.hosts
    ]
    assert [n.to_dict() for n in after.networks] == [n.to_dict() for n in before.networks]


@common
@given(regions(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_inventory_order(values, rnd):
    shuffled = dict(values, hosts=list(values["hosts"]))
    rnd.shuffle(shuffled["hosts"])
    assert render_files(plan_region(parse_stack_config(values))) == render_files(
        plan_region(parse_stack_config(shuffled))
    )


@common
@given(regions())
def test_two_runs_give_identical_output(values):
    first = render_files(plan_region(parse_stack_config(values)))
    second = render_files(plan_region(parse_stack_config(values)))
    assert first == second


prefixes = st.builds(
    lambda first, length: IPNetwork(f"{IPAddress(first)}/{length}").cidr,
    st.integers(0, (1 << 32) - 1),
    st.integers(8, 32),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(prefixes, st.booleans()), max_size=25))
def test_the_overlap_sweep_finds_exactly_the_prefixes_brute_force_finds(items):
    """Every prefix overlapping a not-tolerated earlier one is reported; nothing else is."""
    indexed = [(net, (i, loose)) for i, (net, loose) in enumerate(items)]
    order = sorted(range(len(items)), key=lambda i: (items[i][0].first, -items[i][0].last))
    reported = {later[0] for _, later in find_overlaps(indexed, tolerated=lambda item: item[1])}
    expected = set()
    for pos, i in enumerate(order):
        for j in order[:pos]:
            a, b = items[j], items[i]
            overlap = a[0].first <= b[0].last and b[0].first <= a[0].last
            if overlap and not (a[1] and b[1]):
                expected.add(i)
    assert reported == expected
