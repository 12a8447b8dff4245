"""``python -m lanes plan``: output formats, --out files, exit codes, nothing written on failure."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lanes.cli.main import main
from tests.support.golden import GOLDEN
from tests.support.pulumi_run import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's Pulumi files (and prod's region file) to break."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "regions/east.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_module_entry_point_prints_the_dev_plan_table():
    result = subprocess.run(
        [sys.executable, "-m", "lanes", "plan", "--stack", "dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "100.64.0.0/21" in result.stdout and "master-1" in result.stdout
    assert result.stdout == (GOLDEN / "plan/dev/plan.txt").read_text()


def test_json_format_is_the_plan(capsys):
    code, out, _ = run(
        capsys, "plan", "--stack", "prod", "--format", "json", "--project-dir", str(ROOT)
    )
    assert code == 0
    plan = json.loads(out)
    assert plan["region"] == "east" and plan["az"] == "az-1"
    assert [n["cidr"] for n in plan["networks"]] == [
        "100.64.0.0/16",
        "100.65.0.0/16",
        "100.66.0.0/16",
        "100.127.0.0/16",
    ]


def test_csv_format_has_one_row_per_allocation(capsys):
    code, out, _ = run(
        capsys, "plan", "--stack", "dev", "--format", "csv", "--project-dir", str(ROOT)
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    master = [r["cidr"] for r in rows if r["host"] == "master-1"]
    assert master == ["100.64.0.2/21", "100.64.32.2/21", "100.64.64.2/21"]
    assert {r["kind"] for r in rows} == {"network", "block", "outside", "address"}


def test_out_writes_the_golden_files(capsys, tmp_path):
    out = tmp_path / "plans" / "prod"
    code, _, err = run(
        capsys, "plan", "--stack", "prod", "--out", str(out), "--project-dir", str(ROOT)
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["plan.csv", "plan.json", "plan.txt"]
    for path in out.iterdir():
        assert path.read_bytes() == (GOLDEN / "plan/prod" / path.name).read_bytes()


def test_violations_exit_1_list_every_one_and_write_nothing(capsys, project, tmp_path):
    region = project / "regions" / "east.yaml"  # prod's inventory
    text = region.read_text()
    text = text.replace("reserved_blocks: [100.64.112.0/20]", "reserved_blocks: [100.64.111.0/20]")
    text = text.replace("vlan: 300", "vlan: 100")
    region.write_text(text)
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "plan", "--stack", "prod", "--out", str(out), "--project-dir", str(project)
    )
    assert code == 1
    assert stdout == ""
    assert err.splitlines() == [
        "violation: networks.management.zones[1].reserved_blocks[0]: 100.64.111.0/20 is not on a /20 "
        "boundary (the /20 around it is 100.64.96.0/20; the next one is 100.64.112.0/20) [cidr-boundary]",
        "violation: networks.storage.vlan: 100 is already the VLAN of management [vlan-distinct]",
        "2 violation(s); nothing written",
    ]
    assert not out.exists()


def test_out_keeps_previous_files_when_the_plan_fails(capsys, project, tmp_path):
    out = tmp_path / "out"
    assert (
        run(capsys, "plan", "--stack", "dev", "--out", str(out), "--project-dir", str(project))[0]
        == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    path = project / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("vlan: 20", "vlan: 10"))  # management's VLAN
    assert (
        run(capsys, "plan", "--stack", "dev", "--out", str(out), "--project-dir", str(project))[0]
        == 1
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_malformed_yaml_names_file_and_line(capsys, project):
    path = project / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("  lanes:az: az-1\n", "  lanes:az: [az-1\n"))
    code, _, err = run(capsys, "plan", "--stack", "dev", "--project-dir", str(project))
    assert code == 2
    assert err.startswith(f"error: {path}:")
    assert "malformed YAML" in err and "nothing written" in err


def test_unknown_and_missing_keys_are_config_errors(capsys, project):
    path = project / "Pulumi.dev.yaml"
    text = path.read_text().replace("  lanes:environment: dev\n", "  lanes:enviroment: dev\n")
    path.write_text(text)
    code, _, err = run(capsys, "plan", "--stack", "dev", "--project-dir", str(project))
    assert code == 2
    assert err.splitlines() == [
        "error: enviroment: unknown key (did you mean `environment`?)",
        "error: environment: required key is missing",
        "2 config error(s); nothing written",
    ]


def test_provider_keys_in_the_stack_file_are_left_to_their_providers(capsys, project):
    # Pulumi stacks routinely hold provider config; only lanes: keys are ours (issue 13).
    path = project / "Pulumi.dev.yaml"
    extra = "config:\n  kubernetes:context: admin@lab\n  command:dialErrorLimit: 3\n"
    path.write_text(path.read_text().replace("config:\n", extra))
    code, _, err = run(capsys, "plan", "--stack", "dev", "--project-dir", str(project))
    assert code == 0, err


def test_unknown_stack(capsys, project):
    code, _, err = run(capsys, "plan", "--stack", "staging", "--project-dir", str(project))
    assert code == 2
    assert f"{project / 'Pulumi.staging.yaml'}: no such file" in err


def test_secrets_in_the_stack_file_are_not_read(capsys, project):
    path = project / "Pulumi.dev.yaml"
    secret = "  lanes:sshPrivateKey:\n    secure: v1:abcdef\n"
    path.write_text(path.read_text().replace("config:\n", "config:\n" + secret))
    assert run(capsys, "plan", "--stack", "dev", "--project-dir", str(project))[0] == 0
