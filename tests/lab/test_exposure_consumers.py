"""Every consumer of an exposure is probed (issue 14): outside clients and platform hosts alike.

The prod stack, with vpc-1-nat also consuming vpc-2-web on the management network at its own
management address (100.64.0.201:80), is brought up as ``lanes lab up`` does. The matrix then
holds a cell per management host (masters, workers, ingress nodes, the jump host) beside the
vpc-1 client's; each passes, and each fails when its mechanism is removed: the consume's DNAT,
its SNAT toward the adjacency network, or the consumer's route to the consume address.
"""

from __future__ import annotations

import pytest

from lanes.lab.site import bring_up, run_check, site_model, take_down
from tests.gateway.support import plan_of
from tests.support.labs import assert_gone, new_prefix, require_root

pytestmark = pytest.mark.netns

AT, TARGET, PUBLISHER_SEES = "100.64.0.201", "100.127.0.202", "192.168.0.200"
HOSTS = [
    "ingress-1",
    "ingress-2",
    "ingress-3",
    "jump-1",
    "master-1",
    "worker-1",
    "worker-2",
    "worker-3",
    "worker-4",
]


def consume_on_management(values) -> None:
    gateway = next(g for g in values["gateways"] if g["name"] == "vpc-1-nat")
    gateway["consume"].append(
        {"name": "vpc-2-web", "network": "management", "at": AT, "target": TARGET, "port": 80}
    )


@pytest.fixture(scope="module")
def lab():
    require_root()
    site = site_model(plan_of("prod", consume_on_management), "prod")
    prefix = new_prefix()
    try:
        yield site, bring_up(site, prefix)
    finally:
        found = take_down(prefix)
        assert_gone(prefix, found.pids)


def exposure_cells(site, prefix: str) -> dict[str, str | None]:
    flows = tuple(f for f in site.flows if f.kind == "exposure")
    return {
        p.flow.cell(): p.answer if p.ok else f"FAILED {p.answer}" for p in run_check(prefix, flows)
    }


def reach(host: str) -> str:
    return f"{host} -> vpc-2-web management {AT}:80"


def test_every_consumer_reaches_the_service_through_the_consume_address(lab):
    site, result = lab
    cells = exposure_cells(site, result.prefix)
    assert {c: a for c, a in cells.items() if str(a).startswith("FAILED")} == {}
    # the service sees vpc-2-nat's own address, whoever consumes
    assert {cells[reach(h)] for h in HOSTS} == {f"vpc-2-web {PUBLISHER_SEES}"}
    assert cells[f"vpc-1-client -> vpc-2-web vpc-1 {PUBLISHER_SEES}:80"] == (
        f"vpc-2-web {PUBLISHER_SEES}"
    )
    # and nobody reaches the publisher's adjacency address directly
    blocked = [c for c in cells if f"adjacency {TARGET}:80" in c]
    assert len(blocked) == len(HOSTS) + 1


def failing(site, prefix: str) -> set[str]:
    return {c for c, a in exposure_cells(site, prefix).items() if str(a).startswith("FAILED")}


def test_without_the_consumes_dnat_every_management_consumer_fails(lab):
    site, result = lab
    nat = result.lab.hosts["vpc1-nat"]
    key = f'"eno1.100" . {AT} . tcp . 80'
    nat.run(["nft", f"delete element ip lanes exposure_dnat {{ {key} }}"])
    try:
        assert failing(site, result.prefix) == {reach(h) for h in HOSTS}
    finally:
        nat.run(["nft", f"add element ip lanes exposure_dnat {{ {key} : {TARGET} . 80 }}"])
    assert failing(site, result.prefix) == set()


def test_without_the_consumes_snat_every_management_consumer_fails(lab):
    site, result = lab
    nat = result.lab.hosts["vpc1-nat"]
    key = f'{AT} . "ens1f0.400"'
    nat.run(["nft", f"delete element ip lanes exposure_snat {{ {key} }}"])
    try:
        assert failing(site, result.prefix) == {reach(h) for h in HOSTS}
    finally:
        nat.run(["nft", f"add element ip lanes exposure_snat {{ {key} : 100.127.0.201 }}"])
    assert failing(site, result.prefix) == set()


def test_without_its_route_to_the_consume_address_one_consumer_fails(lab):
    site, result = lab
    worker = result.lab.hosts["worker-1"]
    worker.ip("route", "add", "blackhole", f"{AT}/32")
    try:
        assert failing(site, result.prefix) == {reach("worker-1")}
    finally:
        worker.ip("route", "del", "blackhole", f"{AT}/32")
    assert failing(site, result.prefix) == set()
