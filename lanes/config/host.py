"""Config of the host inventory: identity, role, AZ, NIC layout and SSH access."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lanes.config.base import Address, HostKey, IfName, Model, Name

__all__ = ["Role", "K8S_ROLES", "Bond", "Nic", "HostSsh", "Host", "ROLE_ZONES"]

# What a host is to the region; the first three are Kubernetes nodes (K8S_ROLES).
Role = Literal["master", "worker", "ingress", "gateway", "service"]
# The Kubernetes nodes: kubelet on the management address, pods' traffic, forwarding on.
K8S_ROLES: frozenset[Role] = frozenset({"master", "worker", "ingress"})

# Management zone a role lives in when the host does not say (seed 000's zones).
ROLE_ZONES: dict[Role, str] = {
    "master": "k8s-nodes",
    "worker": "k8s-nodes",
    "ingress": "k8s-nodes",
    "service": "cloud-management",
    "gateway": "cloud-management",
}


class Bond(Model):
    """An active-backup bond (mode 1): one member carries traffic, the others stand by."""

    members: list[IfName] = Field(description="Physical NICs enslaved to the bond.")
    primary: IfName | None = Field(default=None, description="Preferred member; default first.")
    miimon: int = Field(default=100, ge=1, le=10000, description="Link check interval, ms.")


class Nic(Model):
    """A physical NIC or a bond, and the networks it carries (one VLAN each)."""

    name: IfName
    networks: list[Name] = Field(description="Platform or outside networks carried as VLANs.")
    bond: Bond | None = None
    tagged: bool = Field(
        default=True,
        description="Carry each network as an 802.1Q VLAN; false: one untagged network.",
    )
    mtu: int | None = Field(default=None, ge=576, le=9216)
    macaddress: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", description="Match by MAC."
    )


class HostSsh(Model):
    """How Pulumi reaches the host; the host key is pinned, never learned."""

    address: Address | None = Field(default=None, description="Default: first management address.")
    port: int = Field(default=22, ge=1, le=65535)
    host_key: HostKey | None = None
    via_jump: bool = Field(default=True, description="Go through the stack's jump host, if any.")


class Host(Model):
    """One inventory host. Its number is its last octets in every platform network."""

    name: Name
    number: int = Field(
        ge=0,
        # No block of 100.64.0.0/10 holds more addresses: a larger number is never a host's.
        le=(1 << 22) - 1,
        description="Host number, kept in every network: its address is block + number.",
    )
    role: Role
    az: Name
    zones: list[Name] | None = Field(
        default=None, description="Management zones the host sits in; default by role."
    )
    nics: list[Nic] = Field(min_length=1)
    outside: dict[Name, list[Address]] = Field(
        default_factory=dict, description="Addresses on outside networks, per network."
    )
    ssh: HostSsh = Field(default_factory=HostSsh)
    labels: dict[Name, Name] = Field(default_factory=dict)

    @property
    def networks(self) -> frozenset[str]:
        """Every network one of its NICs carries."""
        return frozenset(net for nic in self.nics for net in nic.networks)
