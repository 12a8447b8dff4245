"""Config of the platform networks (management, traffic, storage, adjacency) and outside networks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lanes.config.base import Address, Cidr, Model, Name

__all__ = [
    "PLATFORM_NETWORKS",
    "PlatformName",
    "Zone",
    "PlatformNetwork",
    "Networks",
    "OutsideNetwork",
]

# The four platform networks, in the order every plan and table lists them.
PLATFORM_NETWORKS: tuple[str, ...] = ("management", "traffic", "storage", "adjacency")
PlatformName = Literal["management", "traffic", "storage", "adjacency"]


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
    vlan: int
    mtu: int = Field(default=1500, ge=576, le=9216)
    zone_prefix: int | None = Field(default=None, ge=1, le=30)
    block_prefix: int = Field(ge=1, le=30)
    zones: list[Zone] = Field(default_factory=list)
    blocks: dict[Name, Cidr] = Field(
        default_factory=dict, description="Expected AZ blocks of an unzoned network (checked)."
    )
    reserved_blocks: list[Cidr] = Field(default_factory=list)
    description: str = ""


class Networks(Model):
    """The four platform networks; every one must be present."""

    management: PlatformNetwork
    traffic: PlatformNetwork
    storage: PlatformNetwork
    adjacency: PlatformNetwork

    def items(self) -> list[tuple[str, PlatformNetwork]]:
        """(name, network) in the canonical order."""
        return [(name, getattr(self, name)) for name in PLATFORM_NETWORKS]


class OutsideNetwork(Model):
    """A network lanes does not own (enterprise, front, a tenant VPC); may overlap other outsides."""

    name: Name
    cidr: Cidr
    vlan: int | None = None
    gateway: Address | None = Field(default=None, description="Next hop toward the rest of it.")
    description: str = ""
