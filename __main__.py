"""The lanes Pulumi program: stack config -> region plan -> components -> exports."""

from __future__ import annotations

import pulumi

from components.network import declare_networks
from lanes.config import ConfigError, StackConfig, parse_stack_config
from lanes.rules import check


def read_config() -> StackConfig:
    """The ``lanes:`` keys through pulumi.Config, into the same schema the CLI uses."""
    config = pulumi.Config("lanes")
    values = {}
    for key, field in StackConfig.model_fields.items():
        raw = config.get(key) if field.annotation is str else config.get_object(key)
        if raw is not None:
            values[key] = raw
    return parse_stack_config(values)


def main() -> None:
    try:
        report = check(read_config())
    except ConfigError as exc:
        raise pulumi.RunError("invalid lanes config:\n" + str(exc)) from None
    if not report.ok or report.plan is None:
        lines = "\n".join(str(v) for v in report.violations)
        raise pulumi.RunError(f"the lanes plan breaks {len(report.violations)} rule(s):\n{lines}")
    plan = report.plan
    networks = declare_networks(plan)
    pulumi.export("region", plan.region)
    pulumi.export("az", plan.az)
    pulumi.export("plan", plan.to_dict())
    pulumi.export("networks", {name: net.blocks for name, net in networks.items()})


main()
