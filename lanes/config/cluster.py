"""Config of the cluster network: pod and service ranges, Calico, tenants and their grants.

No address of the plan is written here: grants name a network (and a zone or an AZ), and the
Gateway's addresses, autodetection blocks and storage range are read from the plan. The only
prefixes of this section are the cluster's own pod and service ranges.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from lanes.config.base import Cidr, Model, Name, Port
from lanes.config.kinds import NETWORK_KINDS

__all__ = [
    "ENCAPSULATIONS",
    "AS_NUMBER_RANGE",
    "Encapsulation",
    "Calico",
    "Grant",
    "Hostname",
    "Tenant",
    "Cluster",
]

# The operator's EncapsulationType values (operator.tigera.io/v1 IPPool.encapsulation).
Encapsulation = Literal["VXLANCrossSubnet", "VXLAN", "IPIPCrossSubnet", "IPIP", "None"]
ENCAPSULATIONS: tuple[str, ...] = ("VXLANCrossSubnet", "VXLAN", "IPIPCrossSubnet", "IPIP", "None")


# A BGP AS number is 4 octets (RFC 6793); which of them may be used is the rule
# ``bgp-as-number``'s (lanes.rules.cluster.AS_RANGES: reserved and documentation numbers are
# refused there, with the RFC that says so).
AS_NUMBER_RANGE = (0, 2**32 - 1)


class Calico(Model):
    """Calico settings applied to every AZ pool."""

    block_size: int = Field(
        default=26, ge=20, le=32, description="Per-node allocation block (/26 = 64 pods)."
    )
    encapsulation: Encapsulation = Field(
        default="VXLANCrossSubnet",
        description="Between AZs (different traffic blocks) VXLAN; inside an AZ plain routing.",
    )
    nat_outgoing: bool = Field(
        default=True,
        description="Masquerade pod traffic leaving the platform; never toward 100.64.0.0/10.",
    )
    as_number: int = Field(
        default=64512,
        ge=AS_NUMBER_RANGE[0],
        le=AS_NUMBER_RANGE[1],
        description="The nodes' BGP AS (BGPConfiguration); default a private AS (RFC 6996); "
        "reserved and documentation numbers are refused (README: AS numbers).",
    )
    router_as_number: int = Field(
        default=64513,
        ge=AS_NUMBER_RANGE[0],
        le=AS_NUMBER_RANGE[1],
        description="The AZ routers' BGP AS: each learns its AZ's pod blocks from its nodes "
        "(eBGP, so it differs from as_number).",
    )

    @model_validator(mode="after")
    def _ebgp(self) -> Calico:
        if self.as_number == self.router_as_number:
            raise ValueError(
                f"as_number and router_as_number are both {self.as_number}: the nodes and the "
                "AZ routers peer over eBGP, so their AS numbers differ"
            )
        return self


# A Gateway API listener hostname: a DNS name, optionally with one leading ``*.`` label.
Hostname = Annotated[
    str,
    StringConstraints(
        pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        max_length=253,
    ),
]


class Grant(Model):
    """What a tenant may send to: a platform network, a zone of it, one AZ block, or an
    exposure by name (the addresses its consuming gateways listen on in platform networks)."""

    # The table the grant rule reads says which networks may be granted (NETWORK_KINDS).
    network: Name | None = Field(default=None, description=f"{NETWORK_KINDS.grant_text}.")
    exposure: Name | None = Field(
        default=None,
        description="A consumed exposure (instead of network): the pods may call each consume "
        "address of it in a platform network, where the packets really go, on the ports and "
        "protocol it is consumed at (ports and protocol may narrow them, never widen them).",
    )
    zone: Name | None = Field(default=None, description="Zone of the network (management).")
    az: Name | None = Field(default=None, description="Only this AZ's block; default the whole.")
    ports: list[Port] = Field(
        default_factory=list,
        description="Destination ports, each once; empty: all (of an exposure: its consumed ports).",
    )
    protocol: Literal["TCP", "UDP", "SCTP"] | None = Field(
        default=None,
        description="The ports' protocol (default TCP); without ports, every port of it; "
        "neither ports nor protocol: everything (of an exposure: what it is consumed at).",
    )


class Tenant(Model):
    """A tenant namespace: isolated by default, egress only to what it is granted."""

    name: Name = Field(description="The namespace.")
    egress: list[Grant] = Field(default_factory=list)
    hostnames: list[Hostname] = Field(
        default_factory=list,
        description="Hostnames the tenant's HTTPRoutes may serve: each is a listener on every "
        "AZ's Gateway, per ingress port, that admits routes of this namespace only.",
    )
    description: str = ""


class Cluster(Model):
    """The ``cluster`` section: the defaults collide with no range of the dev or prod plan."""

    pod_cidr: Cidr = Field(
        default="100.96.0.0/12",
        description="Pod range; one Calico pool per AZ is carved from it in AZ order.",
    )
    pool_prefix: int = Field(
        default=14, ge=8, le=30, description="Prefix of each AZ's pool inside pod_cidr."
    )
    service_cidr: Cidr = Field(
        default="100.80.0.0/16",
        description="The apiserver's --service-cluster-ip-range (recorded and checked).",
    )
    region_az: Name | None = Field(
        default=None,
        description="The AZ whose stack owns the region-wide objects; default the first AZ.",
    )
    calico: Calico = Field(default_factory=Calico)
    storage: Literal["host-nat", "none"] = Field(
        default="host-nat",
        description="How pods reach storage: through the node's storage NIC, SNATed to its "
        "storage address (host-nat), or not at all (none).",
    )
    gateway_class: Name = Field(
        default="lanes",
        description="Name prefix of each AZ's GatewayClass and Gateway (<prefix>-<az>).",
    )
    tenants: list[Tenant] = Field(default_factory=list)
