"""The report in a real browser: headless Debian chromium, driven over the DevTools Protocol.

Screenshots at desktop width are kept under ``out/report-screenshots/`` (ignored by git) for
a reviewer to look at.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lanes.cli.report import render_files
from lanes.report import build_report, render_html
from tests.report.browser import CHROMIUM, open_page
from tests.report.support import ROOT, region_plan, stack_plan

SCREENSHOTS = ROOT / "out" / "report-screenshots"
NAMES = """JSON.stringify(Object.fromEntries(["host", "network", "gateway"].map(k =>
  [k, [...new Set([...document.querySelectorAll(`[data-${k}]`)].map(e => e.dataset[k]))].sort()])))"""


def _sample_matrix(stack: str, path: Path) -> Path:
    """A small matrix over the stack's hosts (one failing cell), as lab check --format json."""
    hosts = [h.name for h in stack_plan(stack).hosts]
    flows = [
        {
            "kind": "lan",
            "source": source,
            "target": target,
            "network": "management",
            "address": "100.64.0.2",
            "port": 22,
            "expect": "reach" if i % 3 else "blocked",
            "seen": None,
            "answer": None,
            "ok": (i, j) != (1, 2),
        }
        for i, source in enumerate(hosts[:4])
        for j, target in enumerate(hosts[:6])
        if source != target
    ]
    path.write_text(json.dumps({"stack": stack, "flows": flows}))
    return path


def _page(stack: str, tmp_path: Path, matrix: bool = True) -> Path:
    assert shutil.which(CHROMIUM), "chromium is missing: run make deps"  # never a skip
    grid = _sample_matrix(stack, tmp_path / "matrix.json") if matrix else None
    ((name, text),) = render_files(ROOT, stack, "html", grid).items()
    page = tmp_path / name
    page.write_text(text)
    return page


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_report_opens_clean_with_everything_of_the_stack(stack: str, tmp_path: Path):
    page = _page(stack, tmp_path)
    plan = stack_plan(stack)
    with open_page(page, width=1440, height=900) as browser:
        assert browser.console_errors() == []
        assert browser.requests() == [page.resolve().as_uri()]  # the document, nothing else
        names = json.loads(browser.evaluate(NAMES))
        assert set(names["host"]) >= {h.name for h in plan.hosts}
        assert set(names["network"]) >= {n.name for n in plan.networks} | {
            n.name for n in plan.outside
        } | ({plan.line.name} if plan.line else set())
        assert set(names["gateway"]) >= {g.name for g in plan.gateways}
        # Desktop width: the page itself never scrolls sideways, and every picture is drawn.
        assert browser.evaluate("document.documentElement.scrollWidth") <= 1440
        assert browser.evaluate(
            "[...document.querySelectorAll('svg')].every(s => s.getBoundingClientRect().width > 100)"
        )
        assert browser.evaluate("document.querySelectorAll('table.matrix td.fail').length") == 1
        browser.screenshot(SCREENSHOTS / f"{stack}-desktop.png")
        browser.screenshot(SCREENSHOTS / f"{stack}-full.png", full_page=True)
    assert (SCREENSHOTS / f"{stack}-full.png").stat().st_size > 10_000


@pytest.mark.parametrize("strip_csp", [False, True])
def test_an_outside_request_is_caught(tmp_path: Path, strip_csp: bool):
    """The checks above can fail: a page that loads an image from elsewhere is seen doing it."""
    page = _page("dev", tmp_path, matrix=False)
    text = page.read_text().replace("<h1>", '<img src="http://127.0.0.1:9/x.png" alt=""><h1>', 1)
    if strip_csp:
        text = text.replace('http-equiv="Content-Security-Policy"', 'name="removed"', 1)
    page.write_text(text)
    with open_page(page) as browser:
        caught = browser.console_errors() + browser.requests()[1:]
    assert any("127.0.0.1:9" in line for line in caught), caught


def test_a_3000_host_region_stays_legible(tmp_path: Path):
    plan = region_plan(3000)
    page = tmp_path / "report.html"
    page.write_text(render_html(build_report(plan, "region")))
    with open_page(page) as browser:
        assert browser.console_errors() == []
        assert browser.requests() == [page.resolve().as_uri()]
        assert browser.evaluate("document.documentElement.scrollWidth") <= 1440
        # One box per role and NIC layout in each AZ, every host still listed in the host table.
        # (and each AZ's router)
        assert browser.evaluate("document.querySelectorAll('g.node').length") <= 3 * (6 + 1)
        names = json.loads(browser.evaluate(NAMES))
        assert set(names["host"]) == {h.name for h in plan.hosts}
        browser.call("Runtime.evaluate", expression="location.hash = '#topology-az-1'")
        browser.screenshot(SCREENSHOTS / "region-3000-topology.png")
