"""``python -m lanes verify --stack STACK (--identity KEY | --lab [--region])``: report drift,
exit 1 on any. ``--lab --region`` verifies every AZ's hosts of the region lab.

Drift goes to stdout, one ``host: item: message`` line each (or one JSON document); a host that
cannot be verified is a line on stderr and exit 2, after every reachable host was compared.
"""

from __future__ import annotations

import argparse
import json
import sys

from lanes.cli.exits import EXIT_FAILED, EXIT_INPUT, EXIT_OK, say, say_config_error, say_violations
from lanes.config import ConfigError
from lanes.config.stackfile import load_stack
from lanes.lab.netns import LabError
from lanes.remote.verify import expected_targets, format_drift
from lanes.remote.verify_run import Outcome, RealHosts, VerifyError, verify_targets
from lanes.rules import checked_plan

__all__ = ["run_verify"]


def _report(args: argparse.Namespace, outcomes: list[Outcome]) -> int:
    drifts = [d for o in outcomes for d in o.drifts]
    failed = [o for o in outcomes if o.error is not None]
    if args.format == "json":
        document = {
            "stack": args.stack,
            "drift": [d.to_dict() for d in drifts],
            "unverified": {o.target: o.error for o in failed},
        }
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(format_drift(drifts))
    for o in failed:
        say(f"error: {o.target}: {o.error}")
    verified = len(outcomes) - len(failed)
    say(f"verify {args.stack}: {verified}/{len(outcomes)} host(s) verified, {len(drifts)} drift(s)")
    if failed:
        return EXIT_INPUT
    return EXIT_FAILED if drifts else EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    try:
        cfg = load_stack(args.project_dir, args.stack)
        report = checked_plan(cfg)
        if not report.ok or report.plan is None:
            say_violations(report.violations)
            raise VerifyError(f"{len(report.violations)} violation(s): nothing to verify against")
        plan = report.plan
        if args.region and not args.lab:
            raise VerifyError("--region verifies a region lab: add --lab")
        if args.lab:
            return _verify_lab(args, plan)
        with RealHosts(plan, args.identity) as hosts:
            return _report(args, verify_targets(expected_targets(plan), hosts.session))
    except ConfigError as exc:
        return say_config_error(exc)
    except (VerifyError, LabError) as exc:
        say(f"error: {exc}")
        return EXIT_INPUT


def _verify_lab(args: argparse.Namespace, plan) -> int:
    # Imported here: the lab's modules are only needed (and only work, as root) for a lab.
    from lanes.lab.remote import LabHosts, lab_targets
    from lanes.lab.site import lab_prefix, stack_site

    site = stack_site(plan, args.stack, args.region)
    region = plan.region if args.region else None
    hosts = LabHosts(site, args.prefix or lab_prefix(args.project_dir, args.stack, region))
    return _report(args, verify_targets(lab_targets(site, hosts.root), hosts.session))
