"""Generated inventories for the benchmarks: hosts spread over a region's AZs."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

__all__ = ["LAYOUTS", "ROLES", "INGRESS_PER_AZ", "host_key", "generated_hosts", "az_routers"]

# Three NICs, or one management NIC and a bond carrying traffic and storage (the budget layout).
LAYOUTS: list[list[dict[str, Any]]] = [
    [
        {"name": "eno1", "networks": ["management"]},
        {"name": "ens1f0", "networks": ["traffic"]},
        {"name": "ens2f0", "networks": ["storage"]},
    ],
    [
        {"name": "eno1", "networks": ["management"]},
        {
            "name": "bond0",
            "networks": ["traffic", "storage"],
            "bond": {"members": ["ens1f0", "ens2f0"], "primary": "ens1f0"},
        },
    ],
]
ROLES = ["master"] * 3 + ["ingress"] * 3 + ["worker"] * 94
# An AZ's Gateway lists its ingress nodes' addresses, and Gateway API holds 16 (rule
# gateway-addresses): past 15 an AZ's ingress slots are workers.
INGRESS_PER_AZ = 15


def host_key(name: str) -> str:
    """A well-formed ed25519 public key, distinct per host (the rules require pinned keys)."""
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + hashlib.sha256(name.encode()).digest()
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def _role(position: int) -> str:
    """The role of an AZ's ``position``-th generated host."""
    role = ROLES[position % len(ROLES)]
    ingress_before = (position // len(ROLES)) * ROLES.count("ingress")
    return "worker" if role == "ingress" and ingress_before >= INGRESS_PER_AZ else role


def generated_hosts(count: int, azs: list[str], first_number: int) -> list[dict[str, Any]]:
    """``count`` hosts round-robin over ``azs``, numbered from ``first_number`` in each AZ."""
    return [
        {
            "name": f"node-{i:05d}",
            "number": first_number + i // len(azs),
            "role": _role(i // len(azs)),
            "az": azs[i % len(azs)],
            "nics": LAYOUTS[i % len(LAYOUTS)],
            "ssh": {"host_key": host_key(f"node-{i:05d}")},
        }
        for i in range(count)
    ]


def az_routers(azs: list[str], line: str) -> list[dict[str, Any]]:
    """One router per AZ (number 1: it holds the AZ's block gateways), carrying the region's
    ``line``, so that hosts in several AZs reach each other (rule line-missing)."""
    return [
        {
            "name": f"router-{az}",
            "number": 1,
            "role": "gateway",
            "az": az,
            "zones": ["k8s-nodes"],
            "nics": [
                {"name": "eno1", "networks": ["management"]},
                {"name": "ens1f0", "networks": ["traffic", "storage"]},
                {"name": "ens3f0", "networks": [line]},
            ],
            "ssh": {"host_key": host_key(f"router-{az}")},
        }
        for az in azs
    ]
