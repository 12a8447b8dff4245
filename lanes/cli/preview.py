"""``python -m lanes preview --stack STACK``: what a pull request's comment shows (Markdown).

Runs ``pulumi preview --json`` of the stack with the policy pack (``--policy-pack policies``) on
the operator's backend (``PULUMI_BACKEND_URL``, and ``PULUMI_CONFIG_PASSPHRASE`` or
``PULUMI_ACCESS_TOKEN``), with the engine ``make engine`` builds (nothing downloaded), reads
the events it streams and prints ``lanes.render.preview``'s comment: per component kind the
creates, updates, replaces and deletes, then the policy verdicts. Exit 0 when the preview
succeeds, 1 when it fails (a mandatory policy, an error: the comment says which), 2 when it
cannot run (no engine, no backend).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from lanes.cli.exits import EXIT_FAILED, EXIT_INPUT, EXIT_OK, say
from lanes.config.stackfile import stack_file
from lanes.lab.engine import Engine, EngineError
from lanes.render.preview import read_events, render_preview

__all__ = ["add_preview_command", "run_preview"]

TIMEOUT = 1800


def add_preview_command(subparsers: argparse._SubParsersAction) -> None:
    sub = subparsers.add_parser(
        "preview", help="a stack's pulumi preview as a pull request comment (Markdown)"
    )
    sub.add_argument("--stack", required=True, help="stack name: Pulumi.<stack>.yaml")
    sub.add_argument("--project-dir", type=Path, default=Path.cwd(), help="where Pulumi.yaml is")
    sub.add_argument(
        "--policy-pack", default="policies", help="the pack's folder (default: policies)"
    )
    sub.add_argument(
        "--engine-dir",
        type=Path,
        help="the checkout whose build/engine/bin holds `make engine`'s CLI (default: the project)",
    )


def _events(stdout: str) -> list[dict]:
    found = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def run_preview(args: argparse.Namespace) -> int:
    try:
        stack_file(args.project_dir, args.stack)  # the name is checked
        if "PULUMI_BACKEND_URL" not in os.environ and "PULUMI_ACCESS_TOKEN" not in os.environ:
            raise EngineError("PULUMI_BACKEND_URL (or PULUMI_ACCESS_TOKEN) names no backend")
        project = args.project_dir.resolve()
        built = (args.engine_dir or project).resolve()
        engine = Engine(built, home=built / "build" / "engine" / "home", backend=None)
    except (EngineError, ValueError) as exc:
        say(f"error: {exc}")
        return EXIT_INPUT
    # A preview changes nothing that a crash could lose: no checkpoint after every step (the
    # engine's whole-state save is what makes a big stack's preview slow; README "Pull requests").
    env = dict(
        engine.env, PULUMI_ENABLE_STREAMING_JSON_PREVIEW="true", PULUMI_SKIP_CHECKPOINTS="true"
    )
    argv = engine.argv(
        "preview", "--json", "--stack", args.stack, "--policy-pack", args.policy_pack,
        "--non-interactive",
    )  # fmt: skip
    proc = subprocess.run(
        argv, cwd=project, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    events = _events(proc.stdout)
    if not events:
        say(f"error: pulumi preview gave no events (exit {proc.returncode}): {proc.stderr.strip()}")
        return EXIT_INPUT
    preview = read_events(events)
    if preview.result == "unknown" and proc.stderr.strip():
        # The engine stopped before its summary (no backend, no stack): say what it said.
        preview.errors.append("\n".join(proc.stderr.strip().splitlines()[-5:]))
    sys.stdout.write(render_preview(args.stack, preview))
    return EXIT_OK if proc.returncode == 0 else EXIT_FAILED
