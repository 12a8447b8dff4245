"""The lanes Pulumi program: stack config -> region plan -> components -> exports."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi.runtime.config

from components.cluster import declare_cluster
from components.connection import ssh_key
from components.network import declare_networks
from components.site import declare_site
from lanes.config import SECRET_KEYS, ConfigError, StackConfig
from lanes.config.stackfile import parse_config
from lanes.render.cluster import plan_cluster
from lanes.render.limits import checked_objects
from lanes.rules import checked_plan


def project_dir() -> Path:
    """The project folder (where Pulumi.yaml is): a stack's region file (lanes:inventory) is a
    path inside it, as ``lanes plan --project-dir`` reads it. The language host tells the
    program the folder; a host that does not (the one ``make engine`` builds) runs the program
    in it, unless Pulumi.yaml's ``main:`` moves the program elsewhere (lanes' does not)."""
    told = pulumi.get_root_directory()  # without a host's answer, the SDK's placeholder text
    root = Path(told) if told and Path(told).is_absolute() else None
    if root is not None and (root / "Pulumi.yaml").is_file():
        return root.resolve()
    return Path(__file__).resolve().parent


def _config_keys() -> list[str]:
    """Every ``lanes:`` key the engine passed, so a misspelt key is an error, not ignored."""
    passed = pulumi.runtime.config.CONFIG.get()  # the SDK's view of the stack's config
    names = {key.split(":", 1)[1] for key in passed if key.startswith("lanes:")}
    return sorted((names | set(StackConfig.model_fields)) - SECRET_KEYS)


def _value(raw: str, key: str) -> object:
    field = StackConfig.model_fields.get(key)
    if field is not None and field.annotation is str:
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def read_config() -> StackConfig:
    """The ``lanes:`` keys through pulumi.Config and the stack's region file (if it names one),
    into the same schema, through the same merge, as the CLI."""
    config = pulumi.Config("lanes")
    values = {}
    for key in _config_keys():
        raw = config.get(key)
        if raw is not None:
            values[key] = _value(raw, key)
    return parse_config(project_dir(), values, f"stack {pulumi.get_stack()}")


def main() -> None:
    try:
        report = checked_objects(checked_plan(read_config()))
    except ConfigError as exc:
        raise pulumi.RunError("invalid lanes config:\n" + str(exc)) from None
    if not report.ok or report.plan is None:
        lines = "\n".join(str(v) for v in report.violations)
        raise pulumi.RunError(f"the lanes plan breaks {len(report.violations)} rule(s):\n{lines}")
    plan = report.plan
    config = pulumi.Config("lanes")
    private_key = ssh_key(config)  # None: the SSH agent of SSH_AUTH_SOCK
    networks = declare_networks(plan)
    # Gateway hosts the deploy box reaches directly first; the hosts behind them after.
    declare_site(plan, private_key)
    cluster = plan_cluster(plan)
    declare_cluster(cluster, config.get_secret("kubeconfig"), f"{plan.region}-cluster")
    pulumi.export("region", plan.region)
    pulumi.export("az", plan.az)
    # The AZ's own part of the plan (the region's: `lanes plan --format json`).
    pulumi.export("plan", plan.stack_dict())
    pulumi.export("networks", {name: net.blocks for name, net in networks.items()})
    pulumi.export("cluster", cluster.to_dict())


main()
