"""Benchmark: what an AZ stack of N hosts costs the real Pulumi engine (``make engine``).

For each size, a fresh stack on a file backend in a tmp dir: prod's networks, gateways and
cluster with N generated hosts in its AZ-1 (``benchmarks/region.py``'s layouts, 3N over the
region's three AZs, prod's gateways and jump host kept) in a region file, and the SSH
key set as the stack's secret. It times ``pulumi preview`` of the new stack (a create preview: every resource
registered and diffed, what a pull request adding the AZ shows), with the engine's checkpoints
on (the CLI's default) and off (``PULUMI_SKIP_CHECKPOINTS=true``, what ``lanes preview`` runs
with), and prints the resources, seconds, the peak resident memory of the largest process of the
run (the CLI or the program) and the time per host. Targets (issue 26): a 1,000-host preview
under 60 s and under 1 GB.

Not here yet: ``pulumi up``, no-op ``up`` and no-op ``preview`` of a 50-host lab.

Run: ``.venv/bin/python benchmarks/engine_scale.py [--hosts 50 300 1000]`` (after ``make
engine``); on a loaded machine give its load (``uptime``) beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.region import generated_hosts  # noqa: E402
from tests.engine.harness import Engine, open_engine  # noqa: E402
from tests.support.stacks import read_stack_values  # noqa: E402

TARGET_S, TARGET_GB = 60.0, 1.0
FIRST_NUMBER = 300


def stack_config(project: Path, hosts: int) -> dict[str, Any]:
    """An AZ-1 stack of a region file holding ``hosts`` generated hosts per AZ (and prod's
    gateways), as a real region is kept: the whole inventory inline would not even reach the
    program (the engine hands the config over in one environment variable, at most 128 KiB)."""
    values = read_stack_values(ROOT, "prod")
    azs = values["azs"]
    kept = [h for h in values["hosts"] if h["role"] == "gateway" or h["name"].startswith("jump")]
    # Numbered after every kept host's number (prod's NAT hosts hold 201 and 202).
    generated = generated_hosts(3 * hosts, azs, FIRST_NUMBER)
    ingress = [h["name"] for h in generated if h["role"] == "ingress" and h["az"] == azs[0]]
    values["hosts"] = kept + generated
    for gw in values["gateways"]:
        for j, route in enumerate(gw.get("ingress", [])):
            route["node"] = ingress[j]  # the edge router DNATs to generated ingress nodes
    values.pop("inventory", None)
    values.pop("az", None)
    region = project / "regions" / f"scale-{hosts}.yaml"
    region.parent.mkdir(exist_ok=True)
    region.write_text(yaml.safe_dump(values, sort_keys=False))
    return {"lanes:az": "az-1", "lanes:inventory": f"regions/scale-{hosts}.yaml"}


def preview(engine: Engine, project: Path, stack: str, skip: bool) -> tuple[float, int, float]:
    """A create preview of ``stack``: seconds, resources, peak memory of this run (GB)."""
    env = dict(engine.cli.env, PULUMI_SKIP_CHECKPOINTS="true" if skip else "false")
    argv = engine.cli.argv("preview", "--stack", stack, "--non-interactive")
    # A child's peak is only visible once it is waited for; a process of its own per run keeps
    # one run's peak from hiding the next one's.
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.monotonic()\n"
        "p = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)\n"
        "s = time.monotonic() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps([p.returncode, s, rss, p.stdout[-4000:], p.stderr[-4000:]]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argv)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    returncode, seconds, rss_kib, out, err = json.loads(proc.stdout)
    if returncode != 0:
        raise RuntimeError(f"preview of {stack} failed (exit {returncode}):\n{out}\n{err}")
    created = re.search(r"\+ (\d+) to create", out)
    if created is None:
        raise RuntimeError(f"preview of {stack}: no create count in its output:\n{out}")
    return seconds, int(created.group(1)) + 1, rss_kib / 1024**2  # + the stack itself


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[50, 300, 1000])
    args = parser.parse_args()
    body = secrets.token_hex(32)
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    print(f"load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    print(f"{'hosts':>6} {'checkpoints':>11} {'resources':>9} {'seconds':>8} {'peak GB':>8} "
          f"{'ms/host':>8}")  # fmt: skip
    failed = []
    with open_engine(key, body) as engine:
        project = engine.project("scale")
        for hosts in args.hosts:
            for skip in (True, False):
                stack = f"az-{hosts}-{'skip' if skip else 'on'}"
                engine.stack(project, stack, stack_config(project, hosts))
                seconds, count, peak = preview(engine, project, stack, skip)
                on = "off" if skip else "on"
                print(f"{hosts:>6} {on:>11} {count:>9} {seconds:>8.1f} {peak:>8.2f} "
                      f"{1000 * seconds / hosts:>8.1f}", flush=True)  # fmt: skip
                if hosts >= 1000 and skip and (seconds > TARGET_S or peak > TARGET_GB):
                    failed.append(f"{hosts} hosts: {seconds:.1f} s, {peak:.2f} GB")
    if failed:
        print(f"over the target ({TARGET_S:.0f} s, {TARGET_GB:.0f} GB): {'; '.join(failed)}")


if __name__ == "__main__":
    main()
