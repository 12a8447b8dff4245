"""Rules of the region's dedicated line between its AZ routers (``line``, brief "A region").

Cross-AZ traffic is routed, never bridged: each AZ's router holds one address of the line and
routes the other AZs' blocks and pod pools over it. So the line lies in the platform space
(the gateways' egress SNAT never translates it) apart from every network and range, holds an
address for every AZ, is carried only by AZ routers, and a region whose hosts sit
in more than one AZ has it in every such AZ.
"""

from __future__ import annotations

from netaddr import IPNetwork

from lanes.model.addressing import overlaps
from lanes.model.plan import PLATFORM_SPACE, HostPlan, LinePlan, Plan
from lanes.rules.catalog import RuleId
from lanes.rules.core import Violation

__all__ = ["check_line"]


def _ranges(plan: Plan) -> list[tuple[str, IPNetwork]]:
    """(what, prefix) of everything the line must stay apart from."""
    found = [(f"network {n.name} {n.cidr}", n.cidr) for n in plan.networks]
    found += [(f"outside network {n.name} {n.cidr}", n.cidr) for n in plan.outside]
    cluster = plan.cluster
    found += [(f"cluster.pod_cidr {cluster.pod_cidr}", IPNetwork(cluster.pod_cidr))]
    found += [(f"cluster.service_cidr {cluster.service_cidr}", IPNetwork(cluster.service_cidr))]
    return found


def _space(plan: Plan) -> list[Violation]:
    line = plan.line
    assert line is not None
    if line.cidr not in PLATFORM_SPACE:
        return [
            Violation(
                "line.cidr",
                RuleId.LINE_SPACE,
                f"{line.cidr} is outside {PLATFORM_SPACE}: the gateways would translate it",
            )
        ]
    names = {n.name for n in plan.networks} | {n.name for n in plan.outside}
    found = [
        Violation("line.cidr", RuleId.LINE_SPACE, f"{line.cidr} overlaps {what}")
        for what, cidr in _ranges(plan)
        if overlaps(cidr, line.cidr)
    ]
    if line.name in names:
        found.append(
            Violation(
                "line.name", RuleId.LINE_NAME, f"{line.name} is already the name of a network"
            )
        )
    if len(line.addresses) < len(plan.azs):
        found.append(
            Violation(
                "line.cidr",
                RuleId.LINE_SIZE,
                f"{line.cidr} holds {len(line.addresses)} router address(es), the region has "
                f"{len(plan.azs)} AZs",
            )
        )
    return found


def _carriers(plan: Plan, line: LinePlan) -> list[HostPlan]:
    """The hosts whose NICs carry the line, in plan order."""
    segment = plan.segment(line.name)
    names = set(segment.carriers) if segment is not None else set()
    return [h for h in plan.hosts if h.name in names]


def _routers(plan: Plan) -> list[Violation]:
    """Only an AZ's router carries the line (one per AZ follows: only host number 1 of an AZ
    holds its gateway addresses, and numbers are unique per AZ)."""
    line = plan.line
    assert line is not None
    return [
        Violation(
            f"{host.path}.nics",
            RuleId.LINE_ROUTER,
            f"{host.name} carries {line.name} but is not its AZ's router (a gateway "
            f"holding {host.az}'s {plan.kinds.pods_network} gateway address)",
        )
        for host in _carriers(plan, line)
        if host.role != "gateway" or not host.router
    ]


def _missing(plan: Plan) -> list[Violation]:
    populated = sorted({h.az for h in plan.hosts if h.az in plan.azs}, key=plan.azs.index)
    if len(populated) < 2:
        return []
    line = plan.line
    if line is None:
        return [
            Violation(
                "line",
                RuleId.LINE_MISSING,
                f"hosts sit in {', '.join(populated)} but the region has no line between its "
                "AZ routers: cross-AZ traffic has no way",
            )
        ]
    carried = {h.az for h in _carriers(plan, line)}
    return [
        Violation(
            "line",
            RuleId.LINE_MISSING,
            f"{az} has hosts but no router carrying {line.name}: its hosts cannot reach "
            "the other AZs",
        )
        for az in populated
        if az not in carried
    ]


def check_line(plan: Plan) -> list[Violation]:
    """The line's space, name and size, the hosts carrying it, and that every AZ is joined."""
    found = _missing(plan)
    if plan.line is not None:
        found += _space(plan) + _routers(plan)
    return found
