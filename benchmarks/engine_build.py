"""Benchmark: ``make engine``, cold and warm.

Cold: an empty Go build cache (``GOCACHE`` in a tmp dir) and no binaries, the Go module cache as
it is (a fresh machine also downloads the modules once, about 1 GB: timed apart, as ``go mod
download`` of the three modules into an empty ``GOMODCACHE`` with ``--download``). Warm: the
binaries removed, the build cache kept (a fresh clone on a machine that built once). No-op:
everything in place. The binaries go to a tmp dir (``ENGINE_BIN``), never the checkout's.
Wall time and the CPU time of everything ``make`` ran, with the load average beside them.

Run: ``.venv/bin/python benchmarks/engine_build.py [--download]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - wall, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--download", action="store_true", help="also time the module download")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="lanes-engine-build-"))
    try:
        env = dict(os.environ, GOCACHE=str(scratch / "gocache"))
        out = scratch / "bin"
        make = ["make", "--no-print-directory", f"ENGINE_BIN={out}", "engine"]
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"({os.cpu_count()} CPUs)")  # fmt: skip
        rows = []
        if args.download:
            modcache = dict(env, GOMODCACHE=str(scratch / "gomodcache"))
            wall = cpu = 0.0
            for module in ("cli", "command", "python"):
                folder = ROOT / "engine" / module
                w, c = timed(["go", "mod", "download"], _with_proxy(modcache), folder)
                wall, cpu = wall + w, cpu + c
            rows.append(("module download (empty GOMODCACHE)", wall, cpu))
            subprocess.run(["chmod", "-R", "u+w", str(scratch / "gomodcache")], check=False)
        rows.append(("cold (empty build cache)", *timed(make, env)))
        shutil.rmtree(out)
        rows.append(("warm (build cache kept)", *timed(make, env)))
        rows.append(("no-op (binaries in place)", *timed(make, env)))
        sizes = sum(p.stat().st_size for p in out.iterdir()) / 1e6
        print(f"make engine: {len(list(out.iterdir()))} files, {sizes:.0f} MB")
        print(f"{'':<38}{'wall s':>10}{'CPU s':>10}")
        for name, wall, cpu in rows:
            print(f"{name:<38}{wall:>10.1f}{cpu:>10.1f}")
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(scratch)], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def _with_proxy(env: dict[str, str]) -> dict[str, str]:
    local = (ROOT.parent / "shared" / "goproxy").resolve()
    proxy = subprocess.run(["go", "env", "GOPROXY"], capture_output=True, text=True).stdout.strip()
    if local.is_dir():
        proxy = f"file://{local},{proxy}"
    return dict(env, GOPROXY=proxy)


if __name__ == "__main__":
    sys.exit(main())
