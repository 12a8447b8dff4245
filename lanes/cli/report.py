"""``python -m lanes report --stack STACK [--out DIR] [--format html|plantuml] [--matrix FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lanes.cli.exits import EXIT_INPUT, EXIT_OK, CommandError, say, say_config_error, say_violations
from lanes.cli.outdir import write_files
from lanes.config import ConfigError
from lanes.config.stackfile import load_stack
from lanes.report.html import render_html
from lanes.report.matrix import MatrixError, load_matrix
from lanes.report.model import build_report
from lanes.report.plantuml import render_plantuml
from lanes.rules import checked_plan

__all__ = [
    "FILES",
    "PlanViolations",
    "add_report_command",
    "render_files",
    "run_report",
]

# The file each format writes under --out.
FILES = {"html": "report.html", "plantuml": "topology.puml"}


def add_report_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report`` on the top-level parser's subparsers."""
    report = subparsers.add_parser(
        "report", help="draw the plan: one self-contained HTML page, or C4-PlantUML"
    )
    report.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    report.add_argument("--project-dir", type=Path, default=Path.cwd(), help="where Pulumi.yaml is")
    report.add_argument("--format", choices=sorted(FILES), default="html")
    report.add_argument("--out", type=Path, help=f"write {' or '.join(FILES.values())} here")
    report.add_argument(
        "--matrix", type=Path, help="the JSON of `lanes lab check --format json`, drawn as a grid"
    )


class PlanViolations(Exception):
    """The plan breaks rules: no report is drawn of it; ``lines`` are the violations."""

    def __init__(self, lines: list[str]):
        super().__init__(f"{len(lines)} violation(s)")
        self.lines = lines


def render_files(
    project_dir: Path, stack: str, fmt: str, matrix: Path | None = None
) -> dict[str, str]:
    """name -> content of the report of ``stack``.

    Raises ConfigError, MatrixError or OSError for bad input, PlanViolations for a broken plan.
    """
    grid = load_matrix(matrix) if matrix is not None else None
    report = checked_plan(load_stack(project_dir, stack))
    if not report.ok or report.plan is None:
        raise PlanViolations([str(v) for v in report.violations])
    model = build_report(report.plan, stack, grid)
    text = render_html(model) if fmt == "html" else render_plantuml(model)
    return {FILES[fmt]: text}


def run_report(args: argparse.Namespace) -> int:
    """Render, then write (or print); every error is one line on stderr, nothing written."""
    try:
        files = render_files(args.project_dir, args.stack, args.format, args.matrix)
        if args.out is None:
            for content in files.values():
                sys.stdout.write(content)
            return EXIT_OK
        write_files(args.out, files)
    except ConfigError as exc:
        return say_config_error(exc, f"{len(exc.problems)} config error(s); nothing written")
    except PlanViolations as exc:
        return say_violations(exc.lines, f"{exc}; nothing written")
    except (CommandError, MatrixError, OSError, ValueError) as exc:
        say(f"error: {exc}; nothing written")
        return EXIT_INPUT
    say(f"wrote {', '.join(sorted(files))} to {args.out}")
    return EXIT_OK
