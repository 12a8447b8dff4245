"""Shared pydantic base and constrained scalar types of the stack config schema."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Model",
    "Name",
    "IfName",
    "Cidr",
    "Address",
    "Vlan",
    "Port",
    "VLAN_RANGE",
    "NAME_PATTERN",
    "IFNAME_PATTERN",
]

# A DNS label: also safe to interpolate into shell scripts and file names unquoted.
NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
# A Linux interface name (IFNAMSIZ 16 incl. NUL); no leading dash, no shell metacharacters.
IFNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$"

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"
_CIDR_RE = re.compile(rf"^{_IPV4}/(3[0-2]|[12]?[0-9])$")
_ADDR_RE = re.compile(rf"^{_IPV4}$")


class Model(BaseModel):
    """Every config object: unknown keys are errors, values never change after load."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def _check_cidr(value: str) -> str:
    # Syntax only: the boundary is a rule (rules.check_boundaries) so that a value
    # like 100.64.111.0/20 is reported with its path, never masked.
    if not _CIDR_RE.match(value):
        raise ValueError(f"{value!r} is not an IPv4 prefix like 100.64.0.0/16")
    return value


def _check_address(value: str) -> str:
    if not _ADDR_RE.match(value):
        raise ValueError(f"{value!r} is not an IPv4 address like 100.64.0.2")
    return value


# IEEE 802.1Q: 0 means "no VLAN" and 4095 is reserved.
VLAN_RANGE = (1, 4094)
Vlan = Annotated[int, Field(ge=VLAN_RANGE[0], le=VLAN_RANGE[1])]
Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
IfName = Annotated[str, StringConstraints(pattern=IFNAME_PATTERN)]
Cidr = Annotated[str, AfterValidator(_check_cidr)]
Address = Annotated[str, AfterValidator(_check_address)]
