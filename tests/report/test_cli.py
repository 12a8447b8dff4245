"""``python -m lanes report``: files written, stdout, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_cli import run
from tests.report.support import ROOT


def test_module_entry_point_writes_the_html_report(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "lanes", "report", "--stack", "dev", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote report.html to {tmp_path}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    assert (tmp_path / "report.html").read_text().startswith('<!DOCTYPE html>\n<html lang="en">')


def test_plantuml_goes_to_stdout_without_out(capsys):
    code, out, _ = run(
        capsys, "report", "--stack", "prod", "--format", "plantuml", "--project-dir", str(ROOT)
    )
    assert code == 0
    assert out.startswith("@startuml prod-az-1\n!include <C4/C4_Container>\n")
    assert "http" not in out  # the bundled C4 library, never a URL


def test_a_missing_stack_file_is_named(capsys, tmp_path: Path):
    code, out, err = run(
        capsys,
        "report",
        "--stack",
        "nope",
        "--project-dir",
        str(ROOT),
        "--out",
        str(tmp_path / "r"),
    )
    assert code == 2 and out == ""
    assert "Pulumi.nope.yaml" in err
    assert not (tmp_path / "r").exists()


def test_a_broken_config_names_its_path_and_writes_nothing(capsys, project: Path, tmp_path: Path):
    path = project / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("vlan: 10\n", "vlam: 10\n", 1))
    out = tmp_path / "r"
    code, _, err = run(
        capsys, "report", "--stack", "dev", "--project-dir", str(project), "--out", str(out)
    )
    assert code == 2
    assert "networks.management.vlam" in err
    assert err.rstrip().endswith("nothing written")
    assert not out.exists()


def test_a_plan_that_breaks_a_rule_exits_1_and_writes_nothing(
    capsys, project: Path, tmp_path: Path
):
    path = project / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("number: 3\n", "number: 2\n", 1))
    out = tmp_path / "r"
    code, _, err = run(
        capsys, "report", "--stack", "dev", "--project-dir", str(project), "--out", str(out)
    )
    assert code == 1
    assert "violation: hosts[" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"matrix.json:1:2: not JSON"),
        ('{"flows": [{"kind": "lan"}]}', r"matrix.json: flows\[0\].source: missing"),
        ('{"flows": 3}', r"matrix.json: expected an object with a flows list"),
    ],
)
def test_a_bad_matrix_is_named_with_its_place(capsys, tmp_path: Path, content: str, message: str):
    matrix = tmp_path / "matrix.json"
    matrix.write_text(content)
    out = tmp_path / "r"
    code, _, err = run(
        capsys,
        "report",
        "--stack",
        "dev",
        "--project-dir",
        str(ROOT),
        "--out",
        str(out),
        "--matrix",
        str(matrix),
    )
    assert code == 2
    assert err.startswith("error: ")
    assert re.search(message, err), err
    assert not out.exists()


def test_a_missing_matrix_file_is_named(capsys, tmp_path: Path):
    missing = tmp_path / "none.json"
    code, _, err = run(
        capsys, "report", "--stack", "dev", "--project-dir", str(ROOT), "--matrix", str(missing)
    )
    assert code == 2
    assert err == f"error: {missing}: no such file; nothing written\n"


def _matrix_refused(capsys, matrix: Path, tmp_path: Path) -> str:
    out = tmp_path / "r"
    code, stdout, err = run(
        capsys,
        "report",
        "--stack",
        "dev",
        "--project-dir",
        str(ROOT),
        "--out",
        str(out),
        "--matrix",
        str(matrix),
    )
    assert (code, stdout) == (2, ""), err
    assert "Traceback" not in err and not out.exists()
    return err


@pytest.mark.parametrize("levels", [65, 100_000])
def test_a_matrix_nested_too_deep_is_refused_naming_the_file(capsys, tmp_path: Path, levels: int):
    # 100,000 levels made the JSON decoder raise RecursionError (exit 3); 65 is one past the bound.
    matrix = tmp_path / "matrix.json"
    matrix.write_text('{"flows": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}")
    assert _matrix_refused(capsys, matrix, tmp_path) == (
        f"error: {matrix}: nested deeper than 64 levels: not a lab check matrix; nothing written\n"
    )


def test_a_matrix_64_levels_deep_is_read_and_judged_by_its_content(capsys, tmp_path: Path):
    matrix = tmp_path / "matrix.json"
    matrix.write_text('{"flows": [' + "[" * 62 + "]" * 62 + "]}")
    assert "flows[0]: is not an object" in _matrix_refused(capsys, matrix, tmp_path)


def test_a_matrix_over_the_size_bound_is_refused_unread(capsys, tmp_path: Path):
    matrix = tmp_path / "matrix.json"
    with matrix.open("wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)  # sparse: nothing is written, nothing need be read
    assert _matrix_refused(capsys, matrix, tmp_path) == (
        f"error: {matrix}: 16,777,217 bytes, more than 16,777,216: refused; nothing written\n"
    )


def test_a_matrix_that_is_not_utf8_or_a_directory_is_refused(capsys, tmp_path: Path):
    matrix = tmp_path / "matrix.json"
    matrix.write_bytes('{"stack": "d\u00e9v"}'.encode("latin-1"))
    assert _matrix_refused(capsys, matrix, tmp_path) == (
        f"error: {matrix}: not UTF-8 (byte 12): not a lab check matrix; nothing written\n"
    )
    assert _matrix_refused(capsys, tmp_path, tmp_path / "x") == (
        f"error: {tmp_path}: is a directory, not a matrix file; nothing written\n"
    )


def test_a_matrix_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    fifo = tmp_path / "matrix.json"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "lanes", "report", "--stack", "dev", "--matrix", str(fifo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,  # a blocking open() would wait for a writer forever
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {fifo}: not a regular file (a FIFO, socket or device); nothing written\n"
    )


def test_out_that_is_a_file_is_refused(capsys, tmp_path: Path):
    target = tmp_path / "report.html"
    target.write_text("keep me")
    code, _, err = run(
        capsys, "report", "--stack", "dev", "--project-dir", str(ROOT), "--out", str(target)
    )
    assert code == 2
    assert err == f"error: {target}: --out is not a directory; nothing written\n"
    assert target.read_text() == "keep me"


def test_a_failed_write_leaves_the_previous_report_whole(monkeypatch, capsys, tmp_path: Path):
    out = tmp_path / "r"
    assert (
        run(capsys, "report", "--stack", "dev", "--project-dir", str(ROOT), "--out", str(out))[0]
        == 0
    )
    before = (out / "report.html").read_bytes()

    def refuse(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", refuse)
    code, _, err = run(
        capsys, "report", "--stack", "prod", "--project-dir", str(ROOT), "--out", str(out)
    )
    assert code == 2 and "No space left on device" in err
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    assert (out / "report.html").read_bytes() == before


def test_the_matrix_is_drawn_as_a_grid(capsys, tmp_path: Path):
    matrix = tmp_path / "matrix.json"
    flow = {
        "kind": "lan",
        "source": "jump",
        "target": "master-1",
        "network": "management",
        "address": "100.64.0.2",
        "port": 22,
        "expect": "reach",
        "seen": None,
        "answer": "100.64.0.52",
        "ok": True,
    }
    blocked = {**flow, "kind": "inbound", "source": "deploy", "expect": "blocked", "answer": None}
    failing = {**flow, "target": "lb", "ok": False, "answer": None}
    matrix.write_text(json.dumps({"stack": "dev", "flows": [flow, blocked, failing]}))
    code, out, _ = run(
        capsys, "report", "--stack", "dev", "--project-dir", str(ROOT), "--matrix", str(matrix)
    )
    assert code == 0
    assert '<h2 id="matrix">' in out
    assert (
        '<td class="reach" title="lan management 100.64.0.2:22 reach: 100.64.0.52 (pass)">1</td>'
        in out
    )
    assert '<td class="blocked"' in out
    assert '<td class="fail" title="lan management 100.64.0.2:22 reach: - (FAIL)">1✗</td>' in out
