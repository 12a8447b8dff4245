"""The platform networks (one per lanes.config.kinds row) as ComponentResources carrying their plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from lanes.model.plan import NetworkPlan, Plan

__all__ = [
    "NetworkArgs",
    "PlatformNetworkResource",
    "AdjacencyNetwork",
    "ManagementNetwork",
    "TrafficNetwork",
    "StorageNetwork",
    "NETWORK_COMPONENTS",
    "network_type",
    "declare_networks",
]


@dataclass(frozen=True)
class NetworkArgs:
    """What a network component is built from: its plan and the region's AZ order."""

    plan: NetworkPlan
    azs: tuple[str, ...]
    region: str


class PlatformNetworkResource(pulumi.ComponentResource):
    """A platform network: the props are its whole plan (supernet, zones, blocks, VLAN).

    It owns no cloud resource: the policy pack reads its props to check the plan the engine
    is about to apply, and its outputs give other components the blocks and gateways per AZ,
    keyed ``{az: {zone: cidr}}`` (zone ``"-"`` for a network without zones). Hosts and
    gateways are computed from the same plan, so they do not hang off it.
    """

    TYPE = "lanes:network:PlatformNetwork"

    blocks: pulumi.Output[dict[str, Any]]
    gateways: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        plan = args.plan
        props = {"region": args.region, "azs": list(args.azs), **plan.to_dict()}
        super().__init__(self.TYPE, name, props, opts)
        blocks = {
            az: {(z.name or "-"): str(b.cidr) for z in plan.zones if (b := z.block(az))}
            for az in args.azs
        }
        gateways = {
            az: {(z.name or "-"): str(b.gateway) for z in plan.zones if (b := z.block(az))}
            for az in args.azs
        }
        self.blocks = pulumi.Output.from_input(blocks)
        self.gateways = pulumi.Output.from_input(gateways)
        self.register_outputs(
            {"cidr": str(plan.cidr), "vlan": plan.vlan, "blocks": blocks, "gateways": gateways}
        )


# One class per row of the kinds table, its TYPE the row's type token (a test holds the two
# together).


class AdjacencyNetwork(PlatformNetworkResource):
    """Neutral transit: exposure addresses and NAT pairs between overlapping networks."""

    TYPE = "lanes:network:AdjacencyNetwork"


class ManagementNetwork(PlatformNetworkResource):
    """API server, etcd, kubelet, registry, ops: four zones, each split per AZ."""

    TYPE = "lanes:network:ManagementNetwork"


class TrafficNetwork(PlatformNetworkResource):
    """Pod east-west and north-south, ingress and egress."""

    TYPE = "lanes:network:TrafficNetwork"


class StorageNetwork(PlatformNetworkResource):
    """Hosts and pods to storage, databases and caches."""

    TYPE = "lanes:network:StorageNetwork"


# The component class of each network kind's type token.
NETWORK_COMPONENTS: tuple[type[PlatformNetworkResource], ...] = (
    ManagementNetwork,
    TrafficNetwork,
    StorageNetwork,
    AdjacencyNetwork,
)


def network_type(
    plan: Plan,
    name: str,
    components: tuple[type[PlatformNetworkResource], ...] = NETWORK_COMPONENTS,
) -> type[PlatformNetworkResource]:
    """The component class of a network kind of the plan: the one of ``components`` whose type
    token is the kind's."""
    row = plan.kinds.kind(name)
    found = next((c for c in components if row is not None and c.TYPE == row.type_token), None)
    if found is None:
        raise KeyError(f"{name} is not a network kind with a component class")
    return found


def declare_networks(
    plan: Plan, components: tuple[type[PlatformNetworkResource], ...] = NETWORK_COMPONENTS
) -> dict[str, PlatformNetworkResource]:
    """One component per platform network, named ``<region>-<network>``; ``components`` holds
    a class per kind of the plan (a test with a kind of its own hands in its class too)."""
    return {
        net.name: network_type(plan, net.name, components)(
            f"{plan.region}-{net.name}", NetworkArgs(net, plan.azs, plan.region)
        )
        for net in plan.networks
    }
