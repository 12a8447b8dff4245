"""Every invariant of the plan, as functions returning violations; one module per subject.

``plan_region`` builds a plan; the rules judge a built plan and the config it came from.
``check(cfg, plan)`` runs every rule; ``checked_plan(cfg)`` is the one entry point for the
CLIs, the program and the lab: config rules, then the plan (when it can be computed without
masking a value), then the plan rules. The policy pack calls the same functions on a plan
rebuilt from resource props.

- ``core``: violations, their order, the report, the overlap sweep;
- ``networks``: boundaries, VLANs, AZs, zones and blocks, pins, reserved space;
- ``addresses``: host addresses in their blocks, numbering, uniqueness;
- ``hosts``: names and numbers, NIC layouts, kubelet's address, SSH access;
- ``gateways``: references, own addresses, listeners, the derived NAT models;
- ``cluster``: pod and service ranges, pools, tenants, grants;
- ``line``: the dedicated line between the AZ routers;
- ``objects``: one Kubernetes object against the API server's limits (``lanes.render.limits``
  judges every object each AZ stack renders with it; the policy pack each declared one).
- ``lists``: lists read as sets hold each entry once.
"""

from __future__ import annotations

from lanes.config import StackConfig
from lanes.intents.kinds import INTENT_KINDS, IntentKinds
from lanes.model.plan import Plan, PlanError, plan_region
from lanes.rules.addresses import *  # noqa: F403
from lanes.rules.addresses import __all__ as _addresses
from lanes.rules.addresses import (
    check_host_addresses,
    check_host_blocks,
    check_host_numbering,
    check_unique_addresses,
    list_host_prefixes,
)
from lanes.rules.cluster import *  # noqa: F403
from lanes.rules.cluster import __all__ as _cluster
from lanes.rules.cluster import check_cluster_config, check_cluster_plan
from lanes.rules.core import *  # noqa: F403
from lanes.rules.core import Report, RuleId, Violation, sort_violations
from lanes.rules.core import __all__ as _core
from lanes.rules.gateways import *  # noqa: F403
from lanes.rules.gateways import __all__ as _gateways
from lanes.rules.gateways import check_gateway_refs, check_gateways
from lanes.rules.hosts import *  # noqa: F403
from lanes.rules.hosts import __all__ as _hosts
from lanes.rules.hosts import (
    check_host_networks,
    check_hosts,
    check_kubelet_zone,
    check_nics,
)
from lanes.rules.line import *  # noqa: F403
from lanes.rules.line import __all__ as _line
from lanes.rules.line import check_line
from lanes.rules.lists import *  # noqa: F403
from lanes.rules.lists import __all__ as _lists
from lanes.rules.lists import check_duplicates
from lanes.rules.networks import *  # noqa: F403
from lanes.rules.networks import __all__ as _networks
from lanes.rules.networks import (
    check_azs,
    check_boundaries,
    check_disjoint_networks,
    check_management_zones,
    check_network_boundaries,
    check_network_layout,
    check_network_vlans,
    check_pins,
    check_platform_space,
    check_reserved_unused,
    check_vlans,
)
from lanes.rules.objects import *  # noqa: F403
from lanes.rules.objects import __all__ as _objects

__all__ = [
    "check_config",
    "check_plan",
    "check_pack_rules",
    "check",
    "checked_plan",
    *_core,
    *_networks,
    *_addresses,
    *_hosts,
    *_gateways,
    *_cluster,
    *_line,
    *_objects,
    *_lists,
]


def check_config(cfg: StackConfig, intents: IntentKinds = INTENT_KINDS) -> list[Violation]:
    """Rules over the config alone; the planner needs none of these to be broken. ``intents``
    is the table of gateway intent kinds the config's gateways were written with."""
    return sort_violations(
        check_boundaries(cfg)
        + check_vlans(cfg)
        + check_azs(cfg)
        + check_hosts(cfg)
        + check_nics(cfg)
        + check_gateway_refs(cfg, intents)
        + check_host_networks(cfg)
        + check_cluster_config(cfg)
        + check_duplicates(cfg)
    )


def _zones(plan: Plan, network: str) -> tuple[str, ...]:
    """The zones a zoned network of its kind has (none: any)."""
    kind = plan.kinds.kind(network)
    return kind.zones if kind is not None else ()


def check_pack_rules(plan: Plan) -> list[Violation]:
    """Rules a plan rebuilt from resource props can break but the planner never does on its
    own (check_plan runs them too, so the CLI and the pack give one verdict)."""
    platform = plan.kinds.names
    found = check_network_vlans(plan.networks, plan.outside, plan.line)
    used = list_host_prefixes(plan.hosts, platform)
    for net in plan.networks:
        found += check_network_boundaries(net) + check_management_zones(net, _zones(plan, net.name))
        found += check_reserved_unused(net, [u for u in used if u[0] in net.cidr])
    for host in plan.hosts:
        found += check_host_numbering(host, platform) + check_host_blocks(host, plan.networks)
        found += check_kubelet_zone(host, plan.kinds.nodes_network)
    return found


def check_plan(plan: Plan) -> list[Violation]:
    """Rules over a computed plan."""
    found = check_platform_space(plan.networks) + check_disjoint_networks(
        plan.networks, plan.outside
    )
    for net in plan.networks:
        found += check_network_layout(net, plan.azs)
    for host in plan.hosts:
        found += check_host_addresses(host, plan.kinds.names)
    found += check_unique_addresses(plan.hosts, plan.kinds.names)
    found += check_line(plan)
    found += check_pack_rules(plan)
    found += check_cluster_plan(plan)
    return sort_violations(found)


def check(
    cfg: StackConfig, plan: Plan | None = None, intents: IntentKinds = INTENT_KINDS
) -> list[Violation]:
    """Every rule over the config and, when there is one, the plan built from it; sorted by path.

    Builds nothing: ``checked_plan`` builds the plan and calls this.
    """
    found = check_config(cfg, intents)
    if plan is not None:
        found = sort_violations(found + _plan_rules(cfg, plan, intents))
    return _without_consequences(found)


def _plan_rules(cfg: StackConfig, plan: Plan, intents: IntentKinds) -> list[Violation]:
    return check_plan(plan) + check_pins(cfg, plan) + check_gateways(cfg, plan, intents)


def _without_consequences(violations: list[Violation]) -> list[Violation]:
    """Drop what only follows from another violation: a host placed in a zone that is unknown
    or reserved holds no k8s-nodes address, and that is the zone's fault, not kubelet's."""
    bad_zones = {v.path.split(".zones[")[0] for v in violations if v.rule == RuleId.HOST_ZONE}
    return [
        v
        for v in violations
        if not (v.rule == RuleId.KUBELET_NODE_IP and v.path.removesuffix(".zones") in bad_zones)
    ]


def checked_plan(cfg: StackConfig, intents: IntentKinds = INTENT_KINDS) -> Report:
    """Validate, then build, then check: the plan (None when it could not be computed without
    masking a value or breaking a planner precondition) and every violation. The network kinds
    are the ones the config was read with; ``intents`` the gateway intent kinds."""
    violations = check_config(cfg, intents)
    if any(v.rule == RuleId.CIDR_BOUNDARY for v in violations):
        return Report(None, tuple(violations))  # planning would have to mask them
    try:
        plan = plan_region(cfg)
    except PlanError as exc:
        return Report(
            None,
            tuple(
                sort_violations([*violations, Violation(exc.path, RuleId.PLAN_LAYOUT, exc.message)])
            ),
        )
    found = sort_violations(violations + _plan_rules(cfg, plan, intents))
    return Report(plan, tuple(_without_consequences(found)))
