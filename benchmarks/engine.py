"""Benchmark: the real Pulumi engine (``make engine``) running the program; prints its times.

The stack is the engine tier's (tests/engine): the dev stack's config grown to two AZs and
applied as az-2, where no host is, so the program declares the four network components and its
exports and no host (hosts under the engine: ``benchmarks/engine_lab.py``). Each round uses fresh
stacks on a file backend in a tmp dir and times, with and without the lanes-network-rules pack
(``--policy-pack policies``):
``pulumi preview`` of the empty stack, ``pulumi up --yes`` creating it, and the second
``pulumi preview`` that finds nothing to change. The CLI, the language host, the Python
interpreter and the program start afresh in every command, so these are mostly start-up costs.
Target: every command under 5 s (what a reviewer waits for at a CI step).

Run: ``.venv/bin/python benchmarks/engine.py [--repeat R]`` (after ``make engine``).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.engine.harness import (  # noqa: E402
    POLICY_PACK,
    Engine,
    Result,
    az_without_hosts,
    open_engine,
)

TARGET_S = 5.0
STEPS = ("preview (empty stack)", "up --yes (create)", "preview (no changes)")


def _timed(result: Result) -> float:
    if not result.ok:
        raise SystemExit(f"engine run failed:\n{result.log}")
    return result.seconds


def run_round(engine: Engine, project: Path, stack: str, pack: bool) -> list[float]:
    """The three commands on a fresh stack, in order; their wall-clock times in seconds."""
    engine.stack(project, stack, az_without_hosts())
    extra = ["--policy-pack", str(POLICY_PACK)] if pack else []
    common = ["--stack", stack, "--non-interactive", *extra]
    return [
        _timed(engine.run(project, "preview", *common)),
        _timed(engine.run(project, "up", "--yes", *common)),
        _timed(engine.run(project, "preview", "--expect-no-changes", *common)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    marker = f"lanes-engine-bench-{secrets.token_hex(16)}"
    times: dict[bool, list[list[float]]] = {False: [], True: []}
    try:
        with open_engine(f"{marker}\n", marker) as engine:
            project = engine.project("lanes")
            for i in range(args.repeat):
                for pack in (False, True):
                    stack = f"bench-{i}-{'pack' if pack else 'plain'}"
                    times[pack].append(run_round(engine, project, stack, pack))
            version = engine.check(project, "version").output.strip()
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None
    print(f"pulumi {version}, stack: 4 network components + exports, {args.repeat} rounds")
    print(f"{'command':<24}{'no pack':>10}{'with pack':>12}   (median s, target < {TARGET_S} s)")
    worst = 0.0
    for j, step in enumerate(STEPS):
        plain = statistics.median(r[j] for r in times[False])
        packed = statistics.median(r[j] for r in times[True])
        worst = max(worst, plain, packed)
        print(f"{step:<24}{plain:>10.2f}{packed:>12.2f}")
    print(f"slowest median {worst:.2f} s: {'within' if worst < TARGET_S else 'OVER'} target")


if __name__ == "__main__":
    main()
