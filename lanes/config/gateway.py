"""Config of the gateways: a name, a host, and one list per key of each intent kind.

The keys are written out here, one per config key of the intent kinds' table
(``lanes.intents.kinds``, in its order; a test holds the two together); each kind's module
says what its entries do.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lanes.config.base import Address, Model, Name, Port

__all__ = ["Egress", "Mapping", "IngressRoute", "Publish", "Consume", "Proxy", "Gateway"]


class Egress(Model):
    """SNAT of platform networks toward an outside network; never for 100.64.0.0/10."""

    networks: list[Name] = Field(min_length=1, description="Source platform networks.")
    outside: Name = Field(description="Outside network the traffic leaves on.")
    to: Address = Field(description="Source address after SNAT (one of the gateway's).")


class Mapping(Model):
    """A 1:1 address mapping between an outside address and an inside host (seed 001)."""

    outside: Address = Field(description="The gateway's address in the outside network.")
    network: Name = Field(description="Outside network that holds the outside address.")
    host: Name = Field(description="Inventory host mapped; its management address is the inside.")


class IngressRoute(Model):
    """Front address N -> ingress node N (seed 000), replies SNATed back to the front address."""

    front: Address = Field(description="Front address the front load balancer sends to.")
    network: Name = Field(description="Outside network of the front addresses.")
    node: Name = Field(description="Ingress host; the target is its traffic address.")
    balancer: Address = Field(description="The front load balancer: the only client let in.")
    ports: list[Port] = Field(default_factory=lambda: [80, 443], min_length=1)


class Publish(Model):
    """Expose a service of this gateway's network at an adjacency address (vpc-2 side)."""

    name: Name
    network: Name = Field(description="Network the service lives in.")
    address: Address = Field(description="The service's address in its network.")
    port: Port
    at: Address = Field(description="The gateway's adjacency address consumers call.")
    protocol: Literal["tcp", "udp"] = "tcp"


class Consume(Model):
    """Reach a published service from this gateway's network at a local address (vpc-1 side)."""

    name: Name = Field(description="Name of the published exposure.")
    network: Name = Field(description="Network of the consumers.")
    at: Address = Field(description="The gateway's address the consumers call.")
    target: Address = Field(description="Adjacency address of the publisher.")
    port: Port
    protocol: Literal["tcp", "udp"] = "tcp"


class Proxy(Model):
    """A multi-NIC reverse proxy (nginx): listen on one leg, connect from another."""

    name: Name
    mode: Literal["stream", "http"] = Field(default="stream", description="stream: TCP; http: L7.")
    listen: Address = Field(description="The gateway's address clients call.")
    port: Port
    upstream: Address
    upstream_port: Port
    source: Address = Field(description="The gateway's address toward the upstream (bind).")


class Gateway(Model):
    """A gateway and what it must do; the rules it needs are derived, never written here."""

    name: Name
    host: Name = Field(description="Inventory host (role gateway) that runs it.")
    egress: list[Egress] = Field(default_factory=list)
    mappings: list[Mapping] = Field(default_factory=list)
    ingress: list[IngressRoute] = Field(default_factory=list)
    publish: list[Publish] = Field(default_factory=list)
    consume: list[Consume] = Field(default_factory=list)
    proxies: list[Proxy] = Field(default_factory=list)
