"""A region whose jump host sits in az-2 comes up with ``lab up --region``, and all its cells pass.

The east region with jump-1 moved to az-2, mapped in by az-2's edge (10.0.2.52): the az-1 hosts
are then reached through az-2's edge, jump-1, az-2's router, the line and az-1's router. The lab
provisions every AZ's gateway hosts first, straight from the deploy box (their host files carry
the routes over the line; their gateways the mapping), then every host through the jump host:
the order of ``lanes.remote.access``, the program's own.
"""

from __future__ import annotations

import pytest

from lanes.lab.site import bring_up, region_site_model, run_check, take_down
from tests.gateway.support import plan_of
from tests.support.labs import assert_gone, new_prefix, require_root

pytestmark = pytest.mark.netns

JUMP = "10.0.2.52"


def jump_in_az_2(values: dict) -> None:
    (jump,) = [h for h in values["hosts"] if h["name"] == "jump-1"]
    jump["az"] = "az-2"
    jump["ssh"]["address"] = JUMP
    values["ssh"]["jump"]["address"] = JUMP
    (edge_2,) = [h for h in values["hosts"] if h["name"] == "edge-2"]
    edge_2["outside"]["enterprise"].append(JUMP)
    gateways = {g["name"]: g for g in values["gateways"]}
    del gateways["edge"]["mappings"]
    gateways["edge-az-2"]["mappings"] = [
        {"outside": JUMP, "network": "enterprise", "host": "jump-1"}
    ]


def test_a_region_with_its_jump_host_in_az_2_comes_up_and_passes_every_cell():
    require_root()
    site = region_site_model(plan_of("prod", jump_in_az_2), "prod")
    prefix = new_prefix()
    lines: list[str] = []
    try:
        bring_up(site, prefix, lines.append)
        provisioned = [line.split()[1] for line in lines if line.startswith(("host ", "gateway "))]
        edges = provisioned[: provisioned.index("jump-1")]
        assert {"edge-1", "edge-2", "edge-3"} <= set(edges), provisioned
        probes = run_check(prefix, site.flows)
        assert {p.flow.cell(): p.answer for p in probes if not p.ok} == {}
        cells = {p.flow.cell() for p in probes}
        assert any(cell.startswith("deploy -> jump-1") for cell in cells), sorted(cells)[:5]
    finally:
        found = take_down(prefix)
        assert_gone(prefix, found.pids)
