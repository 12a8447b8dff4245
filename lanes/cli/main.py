"""``python -m lanes``: the offline commands (no Pulumi CLI needed)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from lanes.cli.exits import (
    EXIT_INPUT,
    EXIT_OK,
    CommandError,
    guarded,
    say,
    say_config_error,
    say_violations,
)
from lanes.cli.lab import add_lab_commands, run_lab
from lanes.cli.outdir import write_files
from lanes.cli.preview import add_preview_command, run_preview
from lanes.cli.report import add_report_command, run_report
from lanes.cli.verify import run_verify
from lanes.config import ConfigError
from lanes.config.stackfile import load_stack
from lanes.render.limits import checked_objects
from lanes.render.plan import plan_tables, render_files
from lanes.render.schema import config_table, render_schema
from lanes.rules import checked_plan
from lanes.rules.catalog import RuleId

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lanes", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="print the region's address plan and check every rule")
    plan.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--format", choices=("table", "json", "csv"), default="table")
    plan.add_argument("--out", type=Path, help="also write plan.json, plan.csv, plan.txt here")
    plan.add_argument("--project-dir", type=Path, default=Path.cwd(), help="where Pulumi.yaml is")
    schema = commands.add_parser("schema", help="print the stack config's schema")
    schema.add_argument(
        "--format",
        choices=("json", "markdown"),
        default="json",
        help="json: JSON Schema; markdown: the README's table of keys",
    )
    add_lab_commands(commands)
    add_report_command(commands)
    add_preview_command(commands)
    verify = commands.add_parser(
        "verify", help="compare every host's and gateway's live state with the rendered config"
    )
    verify.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    verify.add_argument("--project-dir", type=Path, default=Path.cwd(), help="where Pulumi.yaml is")
    verify.add_argument("--format", choices=("text", "json"), default="text")
    where = verify.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--identity", type=Path, help="private key file for the stack's ssh user (real hosts)"
    )
    where.add_argument("--lab", action="store_true", help="verify the stack's namespace lab")
    verify.add_argument("--prefix", help="the lab's name prefix (default: derived from the stack)")
    verify.add_argument(
        "--region",
        action="store_true",
        help="with --lab: the stack's region lab (`lanes lab up --region`), every AZ's hosts",
    )
    return parser


def _plan(args: argparse.Namespace) -> int:
    try:
        cfg = load_stack(args.project_dir, args.stack)
    except ConfigError as exc:
        return say_config_error(exc, f"{len(exc.problems)} config error(s); nothing written")
    report = checked_objects(checked_plan(cfg))  # the rendered objects last
    if not report.ok or report.plan is None:
        tail = f"{len(report.violations)} violation(s); nothing written"
        return say_violations(report.violations, tail)
    plan = report.plan
    files = render_files(plan)
    if args.format == "json":
        sys.stdout.write(files["plan.json"])
    elif args.format == "csv":
        sys.stdout.write(files["plan.csv"])
    elif sys.stdout.isatty():
        Console().print(plan_tables(plan))
    else:
        sys.stdout.write(files["plan.txt"])  # the same bytes as the committed plan.txt
    if args.out is not None:
        try:
            write_files(args.out, files)
        except CommandError as exc:
            say(f"error: {exc}; nothing written")
            return EXIT_INPUT
        say(f"wrote {', '.join(sorted(files))} to {args.out}")
    say(f"ok: {len(plan.hosts)} hosts, {len(RuleId)} rules checked, none broken")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(render_schema() if args.format == "json" else config_table())
    return EXIT_OK


COMMANDS = {
    "plan": _plan,
    "schema": _schema,
    "lab": run_lab,
    "verify": run_verify,
    "report": run_report,
    "preview": run_preview,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run the command; anything it lets escape is one line and an exit code (exits)."""
    args = build_parser().parse_args(argv)
    command = COMMANDS.get(args.command)
    if command is None:
        return EXIT_INPUT  # argparse rejects unknown commands before this
    return guarded(lambda: command(args))
