"""``python -m lanes lab up|down|status|check|pulumi --stack STACK [--region]``: the stack's site
(or its whole region, every AZ and the line between them) in namespaces; ``up --bare`` leaves it
to ``pulumi up``, run from the lab's deploy box with ``lab pulumi``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lanes.cli.cluster import add_cluster_commands, run_cluster
from lanes.cli.exits import EXIT_FAILED, EXIT_INPUT, EXIT_OK, say, say_config_error, say_violations
from lanes.config import ConfigError
from lanes.config.stackfile import load_stack
from lanes.lab.engine import EngineError
from lanes.lab.matrix import Flow
from lanes.lab.netns import LabError
from lanes.lab.site import (
    Probe,
    SiteOptions,
    bring_up,
    lab_prefix,
    lab_status,
    read_state,
    run_check,
    stack_site,
    take_down,
)
from lanes.lab.stack import run_pulumi
from lanes.model.plan import Plan
from lanes.rules import checked_plan

__all__ = ["add_lab_commands", "run_lab", "format_matrix", "matrix_json"]

LEAVE_OUT = {"policy-routing": "policy_routing", "line-routes": "line_routes"}


def add_lab_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``lab`` and its subcommands on the top-level parser's subparsers."""
    lab = subparsers.add_parser("lab", help="rehearse the stack's site in network namespaces")
    commands = lab.add_subparsers(dest="lab_command", required=True)
    helps = {
        "up": "create the lab (or re-apply an existing one) and provision it over SSH",
        "down": "remove every namespace, link, process and state dir of the lab",
        "status": "list what exists of the lab",
        "check": "probe the reachability matrix with real TCP; non-zero exit on any failure",
        "pulumi": "run the built Pulumi CLI on a bare lab's stack, from the lab's deploy box",
    }
    for name, text in helps.items():
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
        sub.add_argument(
            "--project-dir", type=Path, default=Path.cwd(), help="where Pulumi.yaml is"
        )
        sub.add_argument("--prefix", help="the lab's name prefix (default: derived from the stack)")
        sub.add_argument(
            "--region",
            action="store_true",
            help="every AZ of the stack's region and the line between them, not the stack's AZ alone",
        )
        if name == "check":
            sub.add_argument(
                "--format",
                choices=("table", "json"),
                default="table",
                help="json: the matrix for `lanes report --matrix`",
            )
        if name == "pulumi":
            sub.add_argument(
                "pulumi_args",
                nargs=argparse.REMAINDER,
                metavar="-- ARGS",
                help="the CLI's arguments, after --",
            )
        if name == "up":
            sub.add_argument(
                "--bare",
                action="store_true",
                help="hosts with what SSH needs only, and the lab's stacks for `lab pulumi`",
            )
            sub.add_argument(
                "--without",
                action="append",
                choices=sorted(LEAVE_OUT),
                default=[],
                help="leave a piece of the design out (to see the matrix fail)",
            )
    add_cluster_commands(commands)


def _plan(args: argparse.Namespace) -> Plan:
    cfg = load_stack(args.project_dir, args.stack)
    report = checked_plan(cfg)
    if not report.ok or report.plan is None:
        say_violations(report.violations)
        raise LabError(f"{len(report.violations)} violation(s): no lab")
    return report.plan


def _site(args: argparse.Namespace, options: SiteOptions, plan: Plan | None):
    return stack_site(plan or _plan(args), args.stack, args.region, options)


def _prefix(args: argparse.Namespace) -> tuple[str, Plan | None]:
    """The lab's prefix: ``--prefix``, else the stack's, else (``--region``) its region's; and
    the stack's plan when the prefix needed it (no command reads the stack twice)."""
    if args.prefix:
        return args.prefix, None
    if args.region:
        plan = _plan(args)
        return lab_prefix(args.project_dir, args.stack, plan.region), plan
    return lab_prefix(args.project_dir, args.stack), None


def _cell(probe: Probe) -> list[str]:
    f: Flow = probe.flow
    want = f"{f.expect} as {f.seen}" if f.seen else f.expect
    return [
        f.kind,
        f.source,
        f.target,
        f.network,
        f.where,
        want,
        probe.answer or "-",
        "pass" if probe.ok else "FAIL",
    ]


def format_matrix(probes: list[Probe]) -> str:
    """The probes as a plain-text table, one flow per row, in flow order."""
    head = ["kind", "from", "to", "network", "address", "expect", "answer", "result"]
    rows = [head, *(_cell(p) for p in probes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    failed = sum(not p.ok for p in probes)
    lines.append(f"{len(probes) - failed}/{len(probes)} flows pass, {failed} fail")
    return "\n".join(lines) + "\n"


def matrix_json(probes: list[Probe], stack: str) -> str:
    """The probes as JSON, one object per flow in flow order (what ``lanes report`` reads)."""
    flows = [{**p.flow.to_dict(), "answer": p.answer, "ok": p.ok} for p in probes]
    failed = sum(not p.ok for p in probes)
    document = {"stack": stack, "passed": len(probes) - failed, "failed": failed, "flows": flows}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _up(args: argparse.Namespace, prefix: str, plan: Plan | None) -> int:
    options = SiteOptions(**{LEAVE_OUT[w]: False for w in args.without}, bare=args.bare)
    site = _site(args, options, plan)
    try:
        result = bring_up(site, prefix, say, args.project_dir)
    except BaseException:
        status = lab_status(prefix)
        if status["namespaces"] and not status["complete"]:
            say(
                f"lab up failed; the partial lab is left for inspection: lab down --prefix {prefix}"
            )
        raise
    if not result.created:
        if result.changes == 0:
            say(f"lab {prefix} is up to date: nothing changed")
        else:
            say(f"lab {prefix}: {result.changes} change(s) applied")
    return EXIT_OK


def _check(args: argparse.Namespace, prefix: str, plan: Plan | None) -> int:
    status = lab_status(prefix)
    if not status["complete"]:
        region = " --region" if args.region else ""
        raise LabError(f"lab {prefix} is not up: run lab up --stack {args.stack}{region}")
    if bool(status["region"]) != args.region:
        what = "a region lab: add --region" if status["region"] else "no region lab: drop --region"
        raise LabError(f"lab {prefix} is {what}")
    site = _site(args, SiteOptions(**status["options"]), plan)
    probes = run_check(prefix, site.flows)
    if args.format == "json":
        sys.stdout.write(matrix_json(probes, args.stack))
    else:
        sys.stdout.write(format_matrix(probes))
    return EXIT_OK if all(p.ok for p in probes) else EXIT_FAILED


def _status(prefix: str) -> int:
    status = lab_status(prefix)
    state = "complete" if status["complete"] else "incomplete" if status["namespaces"] else "absent"
    of = f"region {status['region']}, " if status["region"] else ""
    print(f"lab {prefix}: {state}" + (f" ({of}stack {status['stack']})" if status["stack"] else ""))
    for ns in status["namespaces"]:
        print(f"  namespace {ns}: {' '.join(status['links'][ns]) or '-'}")
    for pid in status["pids"]:
        print(f"  process {pid}")
    for d in status["state_dirs"]:
        print(f"  state {d}")
    return EXIT_OK


def _pulumi(args: argparse.Namespace, prefix: str) -> int:
    state = read_state(prefix)
    if state is None or not state.get("project"):
        region = " --region" if args.region else ""
        raise LabError(
            f"lab {prefix} is no bare lab: run lab up --bare --stack {args.stack}{region}"
        )
    forwarded = list(args.pulumi_args)
    if forwarded[:1] == ["--"]:
        forwarded = forwarded[1:]
    if not forwarded:
        raise LabError("pulumi: no arguments: lanes lab pulumi --stack S -- up --yes")
    return run_pulumi(args.project_dir, prefix, args.stack, forwarded)


def run_lab(args: argparse.Namespace) -> int:
    """Dispatch ``lab <command>``; errors are one line on stderr and exit 2."""
    if args.lab_command == "cluster":  # loopback processes only: no root needed
        return run_cluster(args)
    try:
        prefix, plan = _prefix(args)
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces)")
        if args.lab_command == "up":
            return _up(args, prefix, plan)
        if args.lab_command == "down":
            found = take_down(prefix)
            say(
                f"lab {prefix}: removed {len(found.namespaces)} namespace(s), "
                f"{len(found.pids)} process(es), {len(found.state_dirs)} state dir(s)"
            )
            return EXIT_OK
        if args.lab_command == "status":
            return _status(prefix)
        if args.lab_command == "pulumi":
            return _pulumi(args, prefix)
        return _check(args, prefix, plan)
    except ConfigError as exc:
        return say_config_error(exc)
    except (LabError, EngineError, ValueError) as exc:
        say(f"error: {exc}")
        return EXIT_INPUT
