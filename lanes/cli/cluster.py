"""``python -m lanes lab cluster up|down|status --stack STACK``: a throwaway Kubernetes API
server for the stack's region, on this machine's loopback, to apply the cluster objects to."""

from __future__ import annotations

import argparse
from pathlib import Path

from lanes.cli.exits import EXIT_INPUT, EXIT_OK, say, say_config_error, say_violations
from lanes.config import ConfigError
from lanes.config.stackfile import load_stack
from lanes.lab.apiserver_run import ClusterError, cluster_root, start, status, stop
from lanes.lab.clustertools import ToolsMissing
from lanes.lab.site import lab_prefix
from lanes.model.plan import Plan
from lanes.rules import checked_plan

__all__ = ["add_cluster_commands", "run_cluster"]


def add_cluster_commands(lab_commands: argparse._SubParsersAction) -> None:
    """Register ``lab cluster up|down|status`` under ``lab``."""
    cluster = lab_commands.add_parser(
        "cluster",
        help="a throwaway Kubernetes API server (etcd, kube-apiserver, kube-controller-manager) "
        "on 127.0.0.1 for the stack's region; no kubelet runs",
    )
    commands = cluster.add_subparsers(dest="cluster_command", required=True)
    helps = {
        "up": "start it (fresh CA and certificates, the CRDs lanes' kinds need, the region's "
        "Nodes) and print its kubeconfig's path",
        "down": "stop its processes and remove its folder",
        "status": "say whether it runs, and where",
    }
    for name, text in helps.items():
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
        sub.add_argument(
            "--project-dir", type=Path, default=Path.cwd(), help="where Pulumi.yaml is"
        )


def _plan(args: argparse.Namespace) -> Plan:
    report = checked_plan(load_stack(args.project_dir, args.stack))
    if not report.ok or report.plan is None:
        say_violations(report.violations)
        raise ClusterError(f"{len(report.violations)} violation(s): no cluster")
    return report.plan


def _up(args: argparse.Namespace, plan: Plan, root: Path) -> int:
    found = status(root)
    if found["processes"]:
        say(f"cluster {plan.region} is already up: {found['server']}; nothing changed")
        print(found["kubeconfig"])
        return EXIT_OK
    if found["exists"]:
        say(f"cluster {plan.region}: removing what a stopped run left in {root}")
        stop(root)
    cluster = start(root, plan.region, plan.cluster.service_cidr, [plan])
    say(
        f"cluster {plan.region} is up at {cluster.plane.server} (no kubelet: admission and "
        f"validation only); set it as the stack's kubeconfig with:\n"
        f"  pulumi config set --secret lanes:kubeconfig --stack {args.stack} "
        f"< {cluster.plane.admin_kubeconfig}\n"
        f"and remove it with: lanes lab cluster down --stack {args.stack}"
    )
    print(cluster.plane.admin_kubeconfig)
    return EXIT_OK


def run_cluster(args: argparse.Namespace) -> int:
    """Dispatch ``lab cluster <command>``; errors are one line on stderr and exit 2."""
    try:
        plan = _plan(args)
        root = cluster_root(lab_prefix(args.project_dir, args.stack, plan.region).rstrip("-"))
        if args.cluster_command == "up":
            return _up(args, plan, root)
        if args.cluster_command == "down":
            stopped = stop(root)
            say(f"cluster {plan.region}: stopped {len(stopped)} process(es), removed {root}")
            return EXIT_OK
        found = status(root)
        state = "up" if found["processes"] else "stopped" if found["exists"] else "absent"
        print(f"cluster {plan.region}: {state}" + (f" at {found['server']}" if found["server"] else ""))
        for name, pid in sorted(found["processes"].items()):
            print(f"  process {name} {pid}")
        return EXIT_OK
    except ConfigError as exc:
        return say_config_error(exc)
    except (ClusterError, ToolsMissing) as exc:
        say(f"error: {exc}")
        return EXIT_INPUT
