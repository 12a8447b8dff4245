"""Benchmark: bring up, check, verify and take down the prod region's lab (every AZ, the line).

``lab up --region`` of the prod stack: every host of az-1, az-2 and az-3 in its own namespace,
a segment per network per AZ, the line between the routers. Prints the time of each phase of
``lab up`` (from its own progress lines), of ``lab check`` over the whole matrix with the number
of cells (total, cross-AZ, layer-2, passing), of ``verify`` over every AZ's hosts, and of ``lab
down``. Needs root. Not a timed test. Run: ``.venv/bin/python benchmarks/region_lab.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lanes.config.stackfile import load_stack  # noqa: E402
from lanes.lab.remote import LabHosts, lab_targets  # noqa: E402
from lanes.lab.site import bring_up, region_site_model, run_check, take_down  # noqa: E402
from lanes.model.flows import L2_KINDS  # noqa: E402
from lanes.remote.verify_run import verify_targets  # noqa: E402
from lanes.rules import checked_plan  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "lbregion-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--workers", type=int, default=8, help="parallel probes")
    args = parser.parse_args()
    t0 = time.monotonic()
    report = checked_plan(load_stack(ROOT, args.stack))
    assert report.ok and report.plan is not None, [str(v) for v in report.violations]
    site = region_site_model(report.plan, args.stack)
    modelled = time.monotonic() - t0
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
        outcomes = verify_targets(lab_targets(site, hosts.root), hosts.session)
        verified = time.monotonic() - t0
    finally:
        t0 = time.monotonic()
        take_down(PREFIX)
        down = time.monotonic() - t0
    kinds = Counter(p.flow.kind for p in probes)
    failed = [p.flow.cell() for p in probes if not p.ok]
    cross = [p for p in probes if p.flow.kind == "cross-az"]
    l2 = [p for p in probes if p.flow.kind in L2_KINDS]
    drifts = sum(len(o.drifts) + (o.error is not None) for o in outcomes)
    azs = sorted({site.plan.host(n).az for n in site.nets})  # type: ignore[union-attr]
    print(
        f"region lab of {args.stack}: {len(site.nets)} hosts in {len(azs)} AZs, "
        f"{len(set(site.segments.values()))} segments, {len(site.parties)} parties "
        f"(model {modelled:.1f} s)"
    )
    print(f"  lab up:     {up:6.1f} s  (namespaces and links {wired:.1f} s,")
    print(f"              sshd and probe servers {servers - wired:.1f} s, provisioning over ssh")
    print(f"              {up - servers:.1f} s)")
    print(f"  lab check:  {checked:6.1f} s  {len(probes) - len(failed)}/{len(probes)} cells pass;")
    print(
        f"              cross-AZ {sum(p.ok for p in cross)}/{len(cross)} pass, "
        f"ARP/broadcast {sum(p.ok for p in l2)}/{len(l2)} pass"
    )
    print(f"              {dict(sorted(kinds.items()))}, {args.workers} probes at a time")
    print(f"  verify:     {verified:6.1f} s  {len(outcomes)} hosts, {drifts} drift(s)")
    print(f"  lab down:   {down:6.1f} s")
    print(f"  up + check: {up + checked:6.1f} s")
    for cell in failed[:10]:
        print(f"  FAIL {cell}")
    return 0 if not failed and drifts == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
