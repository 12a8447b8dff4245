"""How the deploy box reaches each host over SSH, and so the order a site is provisioned in.

The deploy box sits on the outside network where the stack's jump host is mapped in (seed 001:
the dev box on 192.168.0.0/24 reaches the jump host at 192.168.0.52, which the router maps to
100.64.0.52). Every host behind the gateways is reached through the jump host, so its path
exists only once a gateway maps the jump host in and the AZ routers route the management
network. The gateway hosts with an address on that network are therefore reached *directly*
there, from the deploy box, at their first own address on it (the router at 192.168.0.51):
they are provisioned first, on a new site as on every run, and removed last, after every host
that is reached through them. Nothing in the order depends on a path the same run removes.

One answer for the Pulumi program (``components/``), the lab and ``lanes verify``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lanes.model.plan import HostPlan, Plan

__all__ = ["Access", "entry_network", "access", "direct_hosts", "via_hosts"]


@dataclass(frozen=True)
class Access:
    """Where SSH connects for one host, and whether it goes through the stack's jump host.

    ``direct``: a gateway host reached at its own address on the entry network (provisioned
    first, removed last). ``own``: the host's own address the session lands on (for a host
    reached at an address a gateway maps to it, the mapping's inside: its management address).
    """

    host: str
    address: str
    port: int
    via_jump: bool
    direct: bool
    own: str


def entry_network(plan: Plan) -> str | None:
    """The outside network where the deploy box sits: the one a gateway maps the jump host in
    from. None when no gateway maps the jump host (every host is then reached as configured)."""
    jump = plan.ssh.jump
    if jump is None:
        return None
    for gateway in plan.gateways:
        for mapping in gateway.mappings:
            if str(mapping.outside) == jump.address:
                return mapping.network
    return None


def _gateway_hosts(plan: Plan) -> set[str]:
    return {gateway.host for gateway in plan.gateways}


def _direct_address(plan: Plan, host: HostPlan, network: str | None) -> str | None:
    if network is None or host.name not in _gateway_hosts(plan):
        return None
    entry = host.address(network)
    return str(entry.address) if entry is not None else None


def _mapped_inside(plan: Plan, address: str) -> str | None:
    """The host a gateway maps ``address`` to (its management address is the inside)."""
    for gateway in plan.gateways:
        for mapping in gateway.mappings:
            if str(mapping.outside) == address:
                return mapping.host
    return None


def access(plan: Plan, host: HostPlan) -> Access:
    """How the deploy box reaches ``host``: directly (a gateway host on the entry network), or
    at ``HostPlan.ssh_address`` (``ssh.address``, else its first address of the nodes'
    network), through the jump host unless ``ssh.via_jump`` is false or it is the jump host.
    Raises ValueError naming the config path when the host has no address to reach."""
    port = host.ssh.port
    direct = _direct_address(plan, host, entry_network(plan))
    if direct is not None:
        return Access(host.name, direct, port, False, True, direct)
    address = host.ssh_address
    if address is None:
        raise ValueError(
            f"{host.path}.ssh.address: {host.name} has no {plan.kinds.nodes_network} address "
            "to reach"
        )
    jump = plan.ssh.jump
    via_jump = jump is not None and host.ssh.via_jump and jump.address != address
    own = {str(a.address) for a in host.addresses}
    # A mapped address lands on the mapping's inside: the host's nodes' network address.
    inside = host.address(plan.kinds.nodes_network)
    landing = address
    if address not in own and _mapped_inside(plan, address) == host.name and inside:
        landing = str(inside.address)
    return Access(host.name, address, port, via_jump, False, landing)


def direct_hosts(plan: Plan) -> list[HostPlan]:
    """The stack's hosts reached directly: provisioned first, removed last."""
    return [h for h in plan.stack_hosts() if access(plan, h).direct]


def via_hosts(plan: Plan) -> list[HostPlan]:
    """The stack's other hosts: reached through the direct ones' mappings and routes."""
    return [h for h in plan.stack_hosts() if not access(plan, h).direct]
