"""The C4-PlantUML topology renders with Debian's plantuml and its bundled C4 library."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lanes.report import build_report, render_plantuml
from lanes.report.plantuml import _outside
from lanes.report.topology import AzView, Lane
from tests.report.support import region_plan, stack_report

PLANTUML = "/usr/bin/plantuml"


def _render(text: str, directory: Path) -> dict[str, str]:
    # Never a skip: make deps installs plantuml (and graphviz, which it lays out with).
    assert shutil.which(PLANTUML), "plantuml is missing: run make deps"
    source = directory / "topology.puml"
    source.write_text(text)
    result = subprocess.run(
        [PLANTUML, "-tsvg", "-nometadata", "-failfast2", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {p.stem: p.read_text() for p in sorted(directory.glob("*.svg"))}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_host_and_network_is_in_the_rendered_c4_diagram(stack: str, tmp_path: Path):
    report = stack_report(stack)
    svgs = _render(render_plantuml(report), tmp_path)
    # One diagram per AZ with hosts: dev has one, prod's region three.
    azs = sorted({h.az for h in report.hosts})
    assert azs == (["az-1"] if stack == "dev" else ["az-1", "az-2", "az-3"])
    assert sorted(svgs) == [f"{stack}-{az}" for az in azs]
    for az in azs:
        svg = svgs[f"{stack}-{az}"]
        assert "Syntax Error" not in svg and "Dot Executable" not in svg
        hosts = [h.name for h in report.hosts if h.az == az]
        platform = [b.name for b in report.networks]
        for name in hosts + platform:
            assert f">{name}<" in svg, (az, name)
    # Every outside network is drawn beside the gateways reaching it, in one AZ or another.
    drawn = "".join(svgs.values())
    for name in report.network_names():
        assert f">{name}<" in drawn, name


def test_overlapping_vpcs_share_a_boundary_side_by_side():
    text = render_plantuml(stack_report("prod"))
    assert 'Boundary(az_1_overlap_vpc_1, "overlapping 192.168.0.0/24") {' in text
    assert "  Lay_R(az_1_vpc_1, az_1_vpc_2)" in text
    assert 'Rel(az_1_vpc1_nat, az_1_vpc2_nat, "vpc-2-web via adjacency 100.127.0.202:80")' in text


def test_a_broken_diagram_fails_the_render(tmp_path: Path):
    broken = render_plantuml(stack_report("dev")).replace("Boundary(", "Boundry(", 1)
    with pytest.raises(AssertionError):
        _render(broken, tmp_path)


def test_grouped_hosts_keep_the_diagram_small():
    text = render_plantuml(build_report(region_plan(300), "big"))
    assert text.count("@startuml") == 3
    assert text.count("Container(") <= 3 * (6 + 1)  # per AZ: six groups and its router


def test_a_chain_of_overlaps_declares_each_network_once():
    a, b, c = (
        Lane(name, cidr, None, True, 0, 0, 0, overlaps)
        for name, cidr, overlaps in [
            ("a", "10.0.0.0/23", ("b",)),
            ("b", "10.0.1.0/24", ("a", "c")),
            ("c", "10.0.1.0/25", ("b",)),
        ]
    )
    text = "\n".join(_outside(AzView("az-1", True, (a, b, c), (), (), False, 0, "adjacency")))
    assert [text.count(f'"{name}"') for name in "abc"] == [1, 1, 1]
