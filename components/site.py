"""The stack's hosts, gateways and BGP speakers, declared in the order a new site needs them.

The gateway hosts the deploy box reaches directly (``lanes.remote.access``) come first, with their
gateways (the one that maps the jump host in) and speakers; every other host goes through them,
so each of its steps depends on all of theirs. ``pulumi destroy`` reverses the graph: the hosts
behind the gateways are restored while their path still exists, and the jump mapping goes last.
"""

from __future__ import annotations

import pulumi

from components.bgp import BgpSpeaker, declare_bgp
from components.gateway import EdgeGateway, declare_gateways
from components.host import BareMetalHost, declare_hosts
from lanes.model.plan import Plan
from lanes.remote.access import direct_hosts, via_hosts

__all__ = ["Site", "declare_site"]

Site = tuple[dict[str, BareMetalHost], dict[str, EdgeGateway], dict[str, BgpSpeaker]]


def declare_site(plan: Plan, private_key: pulumi.Input[str] | None) -> Site:
    """Hosts, gateways and speakers of the stack's AZ: the directly reached first."""
    first = declare_hosts(plan, private_key, direct_hosts(plan))
    gateways = declare_gateways(plan, private_key, first)
    speakers = declare_bgp(plan, private_key, first)
    path = [*first.values(), *gateways.values(), *speakers.values()]
    rest = declare_hosts(plan, private_key, via_hosts(plan), after=path)
    gateways |= declare_gateways(plan, private_key, rest)
    speakers |= declare_bgp(plan, private_key, rest)
    return first | rest, gateways, speakers
