"""The committed reports of dev and prod are what the code renders (``make golden-report``)."""

from __future__ import annotations

import pytest

from lanes.cli.report import render_files
from tests.report.support import ROOT
from tests.support.golden import GOLDEN


@pytest.mark.parametrize("fmt", ["html", "plantuml"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_report_is_what_the_code_renders(stack: str, fmt: str):
    ((name, content),) = render_files(ROOT, stack, fmt).items()
    path = GOLDEN / "report" / stack / name
    assert path.exists(), f"{path} is missing: run make golden-report and commit it"
    assert content == path.read_text(encoding="utf-8"), (
        f"{path.relative_to(ROOT)} differs from what the code renders: "
        "run make golden-report and review the picture's change in the pull request"
    )


@pytest.mark.parametrize("fmt", ["html", "plantuml"])
def test_rendering_twice_gives_the_same_bytes(fmt: str):
    assert render_files(ROOT, "prod", fmt) == render_files(ROOT, "prod", fmt)
