"""Benchmark: ``lanes report`` of a generated 3-AZ region of 3,000 hosts; prints the time.

Target (issue 16): the model, the HTML page and the C4-PlantUML text in under 2 s on one core,
with hosts grouped per role and NIC layout so the picture stays legible. Run: ``make bench``
or ``.venv/bin/python benchmarks/report_region.py [--hosts N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.plan_region import region  # noqa: E402
from lanes.config import parse_stack_config  # noqa: E402
from lanes.report import build_report, render_html, render_plantuml  # noqa: E402
from lanes.rules import checked_plan  # noqa: E402


def render(plan) -> tuple[str, str]:
    report = build_report(plan, "bench")
    return render_html(report), render_plantuml(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    values = region(args.hosts)
    started = time.perf_counter()
    checked = checked_plan(parse_stack_config(values))
    assert checked.ok and checked.plan is not None, checked.violations[:3]
    render(checked.plan)
    whole = time.perf_counter() - started
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        html, plantuml = render(checked.plan)
        times.append(time.perf_counter() - started)
    nodes = sum(len(v.nodes) for v in build_report(checked.plan, "bench").views)
    print(
        f"region: 3 AZs, {args.hosts} hosts, drawn as {nodes} boxes (grouped per role and layout)"
    )
    print(f"report.html {len(html) / 1024:.0f} KiB, topology.puml {len(plantuml) / 1024:.0f} KiB")
    print(
        f"model + HTML + PlantUML: median {statistics.median(times) * 1000:.0f} ms, "
        f"best {min(times) * 1000:.0f} ms over {args.repeat} runs (target < 2000 ms)"
    )
    print(f"with parsing, planning and checking the config first: {whole * 1000:.0f} ms (once)")


if __name__ == "__main__":
    main()
