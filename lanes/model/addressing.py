"""How lanes makes addresses: a parent's n-th subnet, a block's gateway, a host's address.

Each rule is one function that the planner, the rules and the policy pack all call, so a
change to how hosts are numbered is made here and nowhere else.
"""

from __future__ import annotations

from netaddr import IPAddress, IPNetwork

__all__ = [
    "nth_subnet",
    "subnet_count",
    "block_gateway",
    "host_address",
    "host_number",
    "overlaps",
]


def nth_subnet(parent: IPNetwork, prefixlen: int, index: int) -> IPNetwork:
    """The ``index``-th (from 0) subnet of ``prefixlen`` in ``parent``, in address order."""
    size = 1 << (32 - prefixlen)
    return IPNetwork((parent.first + index * size, prefixlen))


def subnet_count(parent: IPNetwork, prefixlen: int) -> int:
    """How many subnets of ``prefixlen`` ``parent`` holds."""
    return 1 << (prefixlen - parent.prefixlen)


def block_gateway(block: IPNetwork) -> IPAddress:
    """A block's gateway: its first usable address (seed 001: 100.64.0.1)."""
    return IPAddress(block.first + 1)


def host_address(block: IPNetwork, number: int) -> IPAddress:
    """Host ``number``'s address in ``block``: the block's first address plus the number, so a
    host keeps its number in every network (seed 001: .2 is 100.64.0.2, 100.64.32.2, ...)."""
    return IPAddress(block.first + number)


def host_number(address: IPAddress, block: IPNetwork) -> int:
    """The inverse of ``host_address``: the number ``address`` stands for in ``block``."""
    return int(address) - block.first


def overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    """The two prefixes share an address."""
    return a.first <= b.last and b.first <= a.last
