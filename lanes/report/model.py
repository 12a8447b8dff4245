"""The report's model: what the pictures and tables show, read from the plan, host and gateway models.

Nothing here computes an address: blocks, host addresses, devices and NAT steps come from
``lanes.model.plan``, ``lanes.model.hostnet`` and ``lanes.intents.gateway``. ``space``, ``topology`` and ``tables``
arrange them; ``build_report`` puts them together. Every list is sorted, so the same config
gives the same report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lanes.config.host import Role
from lanes.intents.gateway import GatewayModel, derive_gateway
from lanes.model.plan import Plan
from lanes.report.matrix import Matrix
from lanes.report.space import Bar, OutsideGroup, network_bars, outside_groups, space_bar
from lanes.report.tables import GatewayView, gateway_view
from lanes.report.topology import AzView, az_view

__all__ = ["HostRow", "Report", "build_report"]


@dataclass(frozen=True)
class HostRow:
    """A line of the host table: every address of the host, in plan order."""

    name: str
    number: int
    role: Role
    az: str
    addresses: tuple[tuple[str, str], ...]  # (network, address) in plan order


@dataclass(frozen=True)
class Report:
    """Everything the page and the diagrams show, in the order they show it."""

    region: str
    environment: str
    stack: str
    az: str
    azs: tuple[str, ...]
    space: Bar
    networks: tuple[Bar, ...]
    outside: tuple[OutsideGroup, ...]
    views: tuple[AzView, ...]
    gateways: tuple[GatewayView, ...]
    hosts: tuple[HostRow, ...]
    matrix: Matrix | None
    palette: dict[str, str] = field(default_factory=dict, hash=False)  # network -> its colour

    def network_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.networks) + tuple(
            s.label for g in self.outside for s in g.members
        )


def _region_gateways(plan: Plan) -> list[GatewayModel]:
    """Every gateway of the region (the stack derives only its AZ's), sorted by AZ and name."""
    models = [
        derive_gateway(plan, i)
        for i, gw in enumerate(plan.gateways)
        if plan.host(gw.host) is not None
    ]
    return sorted(models, key=lambda m: (m.az, m.name))


def build_report(plan: Plan, stack: str, matrix: Matrix | None = None) -> Report:
    """The report of a checked plan (rules passed); ``matrix`` from ``lanes lab check``."""
    gateways = _region_gateways(plan)
    return Report(
        plan.region,
        plan.environment,
        stack,
        plan.az,
        plan.azs,
        space_bar(plan),
        network_bars(plan),
        outside_groups(plan),
        tuple(az_view(az, plan, gateways) for az in plan.azs),
        tuple(gateway_view(g) for g in gateways),
        tuple(
            HostRow(
                h.name,
                h.number,
                h.role,
                h.az,
                tuple((a.network, str(a.address)) for a in h.addresses),
            )
            for h in plan.hosts
        ),
        matrix,
        {k.name: k.colour for k in plan.kinds},
    )
