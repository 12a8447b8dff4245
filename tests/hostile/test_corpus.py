"""The hostile corpus: every broken or malicious stack file is refused cleanly (issue 13).

Each file of corpus/ (written by make_corpus.py, listed in manifest.json) is planned with
``lanes plan --out``: the exit code is the one the manifest says, the message names the config
path, nothing prints a traceback, and the secret marker appears in no output and no file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lanes.cli.main import main
from tests.hostile.make_corpus import CASES, MARKER, MATRIX_CASES, render
from tests.support.pulumi_run import ROOT

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
MATRICES = json.loads((CORPUS / "matrices.json").read_text())


def test_the_corpus_is_large_and_is_what_the_generator_writes():
    assert len(MANIFEST) >= 120
    assert [m["file"].split("-", 1)[1].removesuffix(".yaml") for m in MANIFEST] == [
        c.slug for c in CASES
    ]
    for entry, case in zip(MANIFEST, CASES, strict=True):
        assert (CORPUS / entry["file"]).read_bytes() == render(case), (
            f"{entry['file']} is stale: run python -m tests.hostile.make_corpus"
        )
    assert [m["says"] for m in MATRICES] == [c.says for c in MATRIX_CASES]
    for entry, matrix in zip(MATRICES, MATRIX_CASES, strict=True):
        assert (CORPUS / entry["file"]).read_bytes() == matrix.content, entry["file"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


@pytest.mark.parametrize("entry", MANIFEST, ids=[m["file"] for m in MANIFEST])
def test_a_hostile_stack_is_refused_cleanly(entry, project, capsys):
    shutil.copy(CORPUS / entry["file"], project / "Pulumi.hostile.yaml")
    out = project / "out"
    code = main(["plan", "--stack", "hostile", "--project-dir", str(project), "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == entry["exit"], stderr
    assert "Traceback" not in stdout + stderr
    assert entry["path"] in stderr, stderr
    assert MARKER not in stdout + stderr
    written = [p.read_bytes() for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert all(MARKER.encode() not in data for data in written)
    if code != 0:
        assert not out.exists(), "a refused plan writes nothing"
        assert stdout == ""
        lines = stderr.splitlines()
        assert all(line.startswith(("error: ", "violation: ")) for line in lines[:-1]), lines


@pytest.mark.parametrize("entry", MATRICES, ids=[m["file"] for m in MATRICES])
def test_a_hostile_matrix_file_is_refused_naming_it(entry, tmp_path, capsys):
    matrix = CORPUS / entry["file"]
    out = tmp_path / "out"
    code = main(
        [
            "report",
            "--stack",
            "dev",
            "--project-dir",
            str(ROOT),
            "--matrix",
            str(matrix),
            "--out",
            str(out),
        ]
    )
    stdout, stderr = capsys.readouterr()
    assert (code, stdout) == (2, ""), stderr
    assert stderr.startswith(f"error: {matrix}") and stderr.count("\n") == 1, stderr
    assert entry["says"] in stderr and stderr.endswith("; nothing written\n"), stderr
    assert "Traceback" not in stderr and MARKER not in stderr
    assert not out.exists()
