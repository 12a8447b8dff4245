"""Benchmark: plan and check a generated 3-AZ region of 3,000 hosts; prints time and peak memory.

Target (issue 2): under 1 s and under 200 MB on one core. Run: ``make bench`` or
``.venv/bin/python benchmarks/plan_region.py [--hosts N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lanes.config import parse_stack_config  # noqa: E402
from lanes.rules import check  # noqa: E402
from lanes.stackfile import read_stack_values  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = [
    [
        {"name": "eno1", "networks": ["management"]},
        {"name": "ens1f0", "networks": ["traffic"]},
        {"name": "ens2f0", "networks": ["storage"]},
    ],
    [
        {"name": "eno1", "networks": ["management"]},
        {
            "name": "bond0",
            "networks": ["traffic", "storage"],
            "bond": {"members": ["ens1f0", "ens2f0"], "primary": "ens1f0"},
        },
    ],
]
ROLES = ["master"] * 3 + ["ingress"] * 3 + ["worker"] * 94


def host_key(name: str) -> str:
    """A well-formed ed25519 public key, distinct per host (the rules require pinned keys)."""
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + hashlib.sha256(name.encode()).digest()
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def region(hosts: int) -> dict:
    """The prod stack's networks with ``hosts`` generated hosts spread over its three AZs."""
    values = read_stack_values(ROOT, "prod")
    values = {k: v for k, v in values.items() if k not in {"hosts", "gateways"}}
    azs = values["azs"]
    values["hosts"] = [
        {
            "name": f"node-{i:05d}",
            "number": 10 + i // len(azs),
            "role": ROLES[i % len(ROLES)],
            "az": azs[i % len(azs)],
            "nics": LAYOUTS[i % len(LAYOUTS)],
            "ssh": {"host_key": host_key(f"node-{i:05d}")},
        }
        for i in range(hosts)
    ]
    return values


def run_once(values: dict) -> tuple[float, int]:
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    report = check(parse_stack_config(values))
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
        report = check(parse_stack_config(values))
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
