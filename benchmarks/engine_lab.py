"""Benchmark: ``pulumi up`` of real sites through the command provider, beside ``lanes lab up``.

On bare labs (``lanes lab up --bare``), from the lab's deploy box, with the engine ``make
engine`` builds: for the dev stack, and for the prod region's three AZ stacks in turn, the wall
time of a greenfield ``pulumi up``, a no-op ``up``, a no-op ``preview`` and ``destroy`` (the
region's stacks destroyed in the reverse order: az-1's gateway maps the jump host in), beside
``lanes lab up`` of the same site (the lab's own provisioning: the same scripts, over SSH, with
no engine). Each ``pulumi`` command starts the CLI, the language host and the program afresh.

Run as root: ``.venv/bin/python benchmarks/engine_lab.py [--site dev|region|both]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanes.lab.site import bring_up, stack_site, take_down  # noqa: E402
from tests.engine.lab import open_bare_lab  # noqa: E402
from tests.gateway.support import plan_of  # noqa: E402

SITES = {
    "dev": ("dev", False, ("dev",)),
    "region": ("prod", True, ("prod", "prod-az-2", "prod-az-3")),
}
STEPS = ("up (greenfield)", "up (no-op)", "preview (no-op)", "destroy")


def _timed(lab, stack: str, *args: str) -> float:
    run, _ = lab.pulumi(stack, *args, events=False)
    if not run.ok:
        raise SystemExit(f"{stack}: pulumi {' '.join(args)} failed:\n{run.log}")
    return run.seconds


def measure(site: str) -> tuple[dict[str, dict[str, float]], float, float, int]:
    stack, region, stacks = SITES[site]
    plan = plan_of(stack)
    started = time.perf_counter()
    times: dict[str, dict[str, float]] = {s: {} for s in stacks}
    with open_bare_lab(plan, stack, region) as (lab, _):
        bare = time.perf_counter() - started
        resources = 0
        for name in stacks:
            times[name]["up (greenfield)"] = _timed(lab, name, "up", "--yes")
            listed = lab.engine.check(lab.project, "stack", "export", "--stack", name).stdout
            resources += listed.count('"urn":')
        for name in stacks:
            times[name]["up (no-op)"] = _timed(lab, name, "up", "--yes")
            times[name]["preview (no-op)"] = _timed(lab, name, "preview", "--expect-no-changes")
        for name in reversed(stacks):
            times[name]["destroy"] = _timed(lab, name, "destroy", "--yes")
    prefix = f"lb{secrets.token_hex(3)}-"
    started = time.perf_counter()
    try:
        bring_up(stack_site(plan, stack, region), prefix)
        lab_up = time.perf_counter() - started
    finally:
        take_down(prefix)
    return times, bare, lab_up, resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", choices=("dev", "region", "both"), default="both")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the labs are network namespaces")
    load = os.getloadavg()
    print(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)"
    )
    for site in ("dev", "region") if args.site == "both" else (args.site,):
        times, bare, lab_up, resources = measure(site)
        print(f"\n{site}: {resources} resources (stack and components included)")
        print(f"{'stack':<12}" + "".join(f"{s:>18}" for s in STEPS) + "   (seconds)")
        for stack, row in times.items():
            print(f"{stack:<12}" + "".join(f"{row[s]:>18.1f}" for s in STEPS))
        total = {s: sum(row[s] for row in times.values()) for s in STEPS}
        if len(times) > 1:
            print(f"{'all stacks':<12}" + "".join(f"{total[s]:>18.1f}" for s in STEPS))
        print(f"lanes lab up --bare (namespaces, sshd, stacks): {bare:.1f} s")
        print(
            f"lanes lab up (the same site, provisioned by the lab itself): {lab_up:.1f} s, "
            f"beside pulumi up {total['up (greenfield)']:.1f} s"
        )
    load = os.getloadavg()
    print(f"\nload average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
