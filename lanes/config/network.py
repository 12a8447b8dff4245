"""Config of the platform networks (one key per network kind) and outside networks."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from lanes.config.base import Address, Cidr, Model, Name, Vlan
from lanes.config.kinds import NETWORK_KINDS, NetworkKinds

__all__ = [
    "Zone",
    "PlatformNetwork",
    "Networks",
    "OutsideNetwork",
    "Line",
]


class Zone(Model):
    """A zone of a network (management: cloud-management, k8s-nodes, ...)."""

    name: Name
    cidr: Cidr | None = Field(default=None, description="Expected zone CIDR (checked, not used).")
    reserved: bool = Field(default=False, description="A reserved zone gets no AZ blocks.")
    blocks: dict[Name, Cidr] = Field(
        default_factory=dict, description="Expected AZ blocks, az -> CIDR (checked, not used)."
    )
    reserved_blocks: list[Cidr] = Field(
        default_factory=list, description="Expected reserved blocks (checked, not used)."
    )
    description: str = ""


class PlatformNetwork(Model):
    """One platform network: supernet -> optional zones -> per-AZ blocks."""

    cidr: Cidr
    vlan: Vlan
    mtu: int = Field(default=1500, ge=576, le=9216)
    zone_prefix: int | None = Field(default=None, ge=1, le=30)
    block_prefix: int = Field(ge=1, le=30)
    zones: list[Zone] = Field(default_factory=list)
    blocks: dict[Name, Cidr] = Field(
        default_factory=dict, description="Expected AZ blocks of an unzoned network (checked)."
    )
    reserved_blocks: list[Cidr] = Field(default_factory=list)
    description: str = ""


# The platform networks: one required key per network kind, described by what it carries.
# ``KINDS`` is the table the keys are written from (a test holds the two together); a schema
# with a kind of its own (a test's) subclasses this with its table and its key. (No docstring:
# the JSON Schema shows none.)
class Networks(Model):
    KINDS: ClassVar[NetworkKinds] = NETWORK_KINDS

    management: PlatformNetwork = Field(
        description="API server, etcd, kubelet, registry, git, monitoring, ops consoles"
    )
    traffic: PlatformNetwork = Field(
        description="pod east-west and north-south, ingress and egress"
    )
    storage: PlatformNetwork = Field(
        description="hosts and pods to block, file and object storage, databases, caches"
    )
    adjacency: PlatformNetwork = Field(
        description="neutral transit: exposure addresses and NAT pairs between overlapping networks"
    )

    def items(self) -> list[tuple[str, PlatformNetwork]]:
        """(name, network) in the table's order."""
        return [(name, getattr(self, name)) for name in self.KINDS.names]

    def get(self, name: str) -> PlatformNetwork | None:
        return getattr(self, name, None) if name in self.KINDS else None


class OutsideNetwork(Model):
    """A network lanes does not own (enterprise, front, a tenant VPC); may overlap other outsides."""

    name: Name
    cidr: Cidr
    vlan: Vlan | None = None
    gateway: Address | None = Field(default=None, description="Next hop toward the rest of it.")
    description: str = ""


class Line(Model):
    """The region's dedicated line between its AZ routers: one routed subnet, never an AZ's L2.

    AZ i's router (the host of that AZ whose NIC carries the line by its ``name``) holds the
    subnet's (i+1)-th address and routes every other AZ's blocks and pod pool to that AZ's
    router over it.
    """

    name: Name = Field(default="az-line", description="The name a router's NIC carries it by.")
    cidr: Cidr = Field(description="Inside 100.64.0.0/10, outside every network and range.")
    vlan: Vlan | None = None
    mtu: int = Field(default=1500, ge=576, le=9216)
    description: str = ""
