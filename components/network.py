"""The platform networks (one per lanes.config.kinds row) as ComponentResources carrying their plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from lanes.config import kinds
from lanes.model.plan import NetworkPlan, Plan

__all__ = [
    "NetworkArgs",
    "PlatformNetworkResource",
    "AdjacencyNetwork",
    "ManagementNetwork",
    "TrafficNetwork",
    "StorageNetwork",
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
            az: {(z.name or "-"): str(z.block(az).cidr) for z in plan.zones if z.block(az)}
            for az in args.azs
        }
        gateways = {
            az: {(z.name or "-"): str(z.block(az).gateway) for z in plan.zones if z.block(az)}
            for az in args.azs
        }
        self.blocks = pulumi.Output.from_input(blocks)
        self.gateways = pulumi.Output.from_input(gateways)
        self.register_outputs(
            {"cidr": str(plan.cidr), "vlan": plan.vlan, "blocks": blocks, "gateways": gateways}
        )


class AdjacencyNetwork(PlatformNetworkResource):
    """Neutral transit: exposure addresses and NAT pairs between overlapping networks."""

    TYPE = kinds.component_type("adjacency")


class ManagementNetwork(PlatformNetworkResource):
    """API server, etcd, kubelet, registry, ops: four zones, each split per AZ."""

    TYPE = kinds.component_type("management")


class TrafficNetwork(PlatformNetworkResource):
    """Pod east-west and north-south, ingress and egress."""

    TYPE = kinds.component_type("traffic")


class StorageNetwork(PlatformNetworkResource):
    """Hosts and pods to storage, databases and caches."""

    TYPE = kinds.component_type("storage")


_CLASSES: dict[str, type[PlatformNetworkResource]] = {
    cls.TYPE: cls for cls in (ManagementNetwork, TrafficNetwork, StorageNetwork, AdjacencyNetwork)
}


def network_type(name: str) -> type[PlatformNetworkResource]:
    """The component class of a network kind (lanes.config.kinds); a kind registered without a class
    of its own here gets one named after its row, with its row's type token."""
    row = kinds.kind(name)
    if row is None:
        raise KeyError(f"{name} is not a network kind")
    cls = _CLASSES.get(row.type_token)
    if cls is None:
        doc = f"The {row.name} network: {row.carries}."
        cls = type(
            row.component, (PlatformNetworkResource,), {"TYPE": row.type_token, "__doc__": doc}
        )
        _CLASSES[row.type_token] = cls
    return cls


def declare_networks(plan: Plan) -> dict[str, PlatformNetworkResource]:
    """One component per platform network, named ``<region>-<network>``."""
    return {
        net.name: network_type(net.name)(
            f"{plan.region}-{net.name}", NetworkArgs(net, plan.azs, plan.region)
        )
        for net in plan.networks
    }
