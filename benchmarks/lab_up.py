"""Benchmark: bring up, check, verify and take down a namespace lab of 50 hosts.

The dev stack (seed 001's router, jump host and LB, a master) grown with workers numbered from
3 up to ``--hosts`` hosts in all, each on management, traffic and storage. Prints the time of
each phase of ``lab up`` (from its own progress lines), of ``lab check`` over the whole derived
matrix, of ``verify`` over every host, and of ``lab down``. Needs root. Not a timed test.
Run: ``.venv/bin/python benchmarks/lab_up.py [--hosts 50] [--workers 8]``.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lanes.config import parse_stack_config  # noqa: E402
from lanes.lab.remote import LabHosts  # noqa: E402
from lanes.lab.site import bring_up, run_check, site_model, take_down  # noqa: E402
from lanes.remote.verify import expected_targets  # noqa: E402
from lanes.remote.verify_run import verify_targets  # noqa: E402
from lanes.rules import checked_plan  # noqa: E402
from tests.support.stacks import read_stack_values  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "lbench-"


def stack(hosts: int) -> dict:
    values = copy.deepcopy(read_stack_values(ROOT, "dev"))
    template = next(h for h in values["hosts"] if h["name"] == "worker-1")
    numbers = {h["number"] for h in values["hosts"]}
    number = template["number"]
    while len(values["hosts"]) < hosts:
        number += 1
        if number in numbers:
            continue
        worker = copy.deepcopy(template)
        # The template's pinned key comes along; the lab pins the keys of its own sshds.
        worker["name"], worker["number"] = f"worker-{number}", number
        values["hosts"].append(worker)
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8, help="parallel probes")
    args = parser.parse_args()
    report = checked_plan(parse_stack_config(stack(args.hosts)))
    assert report.ok and report.plan is not None, [str(v) for v in report.violations]
    site = site_model(report.plan, "dev")
    take_down(PREFIX)  # a previous run interrupted
    marks: list[tuple[float, str]] = []
    start = time.monotonic()

    def progress(line: str) -> None:
        marks.append((time.monotonic() - start, line))

    try:
        bring_up(site, PREFIX, progress)
        up = time.monotonic() - start
        wired = max(t for t, line in marks if line.startswith("deploy:"))
        servers = max(t for t, line in marks if line.startswith("sshd in "))
        t0 = time.monotonic()
        probes = run_check(PREFIX, site.flows, workers=args.workers)
        checked = time.monotonic() - t0
        hosts = LabHosts(site, PREFIX)
        t0 = time.monotonic()
        outcomes = verify_targets(expected_targets(report.plan, hosts.root), hosts.session)
        verified = time.monotonic() - t0
    finally:
        t0 = time.monotonic()
        take_down(PREFIX)
        down = time.monotonic() - t0
    kinds = Counter(p.flow.kind for p in probes)
    failed = [p.flow.cell() for p in probes if not p.ok]
    drifts = sum(len(o.drifts) + (o.error is not None) for o in outcomes)
    print(f"lab of {len(site.nets)} hosts ({args.hosts} asked), {len(site.flows)} flows")
    print(f"  lab up:     {up:6.1f} s  (namespaces and links {wired:.1f} s,")
    print(f"              sshd and probe servers {servers - wired:.1f} s, provisioning over ssh")
    print(f"              {up - servers:.1f} s)")
    print(f"  lab check:  {checked:6.1f} s  {len(probes) - len(failed)}/{len(probes)} pass,")
    print(f"              {dict(sorted(kinds.items()))}, {args.workers} probes at a time")
    print(f"  verify:     {verified:6.1f} s  {len(outcomes)} hosts, {drifts} drift(s)")
    print(f"  lab down:   {down:6.1f} s")
    print(f"  up + check: {up + checked:6.1f} s")
    for cell in failed[:10]:
        print(f"  FAIL {cell}")
    return 0 if not failed and drifts == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
