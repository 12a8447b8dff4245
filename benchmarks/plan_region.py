"""Benchmark: plan and check a generated 3-AZ region of 3,000 hosts; prints time and peak memory.

Target (issue 2): under 1 s and under 200 MB on one core. Run: ``make bench`` or
``.venv/bin/python benchmarks/plan_region.py [--hosts N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.region import az_routers, generated_hosts  # noqa: E402
from lanes.config import parse_stack_config  # noqa: E402
from lanes.rules import checked_plan  # noqa: E402
from tests.support.stacks import read_stack_values  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def region(hosts: int) -> dict:
    """The prod stack's networks with ``hosts`` generated hosts spread over its three AZs (and
    each AZ's router on the line between them)."""
    values = read_stack_values(ROOT, "prod")
    values = {k: v for k, v in values.items() if k not in {"hosts", "gateways"}}
    routers = az_routers(values["azs"], values["line"]["name"])
    values["hosts"] = routers + generated_hosts(hosts, values["azs"], 10)
    return values


def run_once(values: dict) -> tuple[float, int]:
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    report = checked_plan(parse_stack_config(values))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.ok, report.violations[:3]
    assert report.plan is not None and len(report.plan.hosts) == len(values["hosts"])
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    values = region(args.hosts)
    # Time without tracemalloc (it slows allocation down), then measure memory once with it.
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        report = checked_plan(parse_stack_config(values))
        times.append(time.perf_counter() - started)
        assert report.ok
    _, peak = run_once(values)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    addresses = sum(len(h.addresses) for h in report.plan.hosts)
    print(f"region: 3 AZs, {args.hosts} hosts, {addresses} host addresses")
    print(
        f"parse + plan + check: median {statistics.median(times) * 1000:.0f} ms, "
        f"best {min(times) * 1000:.0f} ms over {args.repeat} runs (target < 1000 ms)"
    )
    print(
        f"peak memory: {peak / 2**20:.1f} MiB allocated by the run (tracemalloc), "
        f"{rss_mb:.1f} MiB peak RSS of the whole process (target < 200 MB)"
    )


if __name__ == "__main__":
    main()
