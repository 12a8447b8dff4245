"""Shared pydantic base and constrained scalar types of the stack config schema."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, get_args

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
    "show_value",
    "model_in",
    "HostKey",
    "check_host_key",
    "HOST_KEY_TYPES",
    "RESERVED_IFNAMES",
    "NAME_PATTERN",
    "IFNAME_PATTERN",
]

# A DNS label: also safe to interpolate into shell scripts and file names unquoted.
NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
# A Linux interface name (IFNAMSIZ 16 incl. NUL); no leading dash, no shell metacharacters.
IFNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$"

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"
# \Z, not $: "$" also matches before a trailing newline ("100.64.0.2\n" would pass).
_CIDR_RE = re.compile(rf"^{_IPV4}/(3[0-2]|[12]?[0-9])\Z")
_ADDR_RE = re.compile(rf"^{_IPV4}\Z")
# Values shown in a message: short single-line scalars only; anything else may be a private
# key, a token or a kubeconfig pasted in the wrong place (tokens are 36 characters and up).
_SHOWN = 32


def show_value(value: object) -> str:
    """``value`` as a message may show it, or what it is when it must not be shown."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if any(c in value for c in "\n\r\x00"):
            return "a multi-line value"
        if len(value) > _SHOWN:
            return f"a {len(value)}-character value"
        return repr(value)
    return f"a {type(value).__name__}"


class Model(BaseModel):
    """Every config object: unknown keys are errors, values never change after load, and types
    are strict (``true`` is not the number 1, ``"22"`` is not a port)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def model_in(annotation: Any) -> type[Model] | None:
    """The config model a field holds: itself, in a list or dict, or optional (None: a scalar)."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def _check_cidr(value: str) -> str:
    # Syntax only: the boundary is a rule (rules.check_boundaries) so that a value
    # like 100.64.111.0/20 is reported with its path, never masked.
    if not _CIDR_RE.match(value):
        raise ValueError(f"{show_value(value)} is not an IPv4 prefix like 100.64.0.0/16")
    return value


def _check_address(value: str) -> str:
    if not _ADDR_RE.match(value):
        raise ValueError(f"{show_value(value)} is not an IPv4 address like 100.64.0.2")
    return value


# IEEE 802.1Q: 0 means "no VLAN" and 4095 is reserved.
VLAN_RANGE = (1, 4094)
Vlan = Annotated[int, Field(ge=VLAN_RANGE[0], le=VLAN_RANGE[1])]
Port = Annotated[int, Field(ge=1, le=65535)]
# Names the kernel keeps for itself: "lo" is the loopback, and "all" and "default" are the
# sysctl trees (net.ipv4.conf.all.*) a NIC of that name would be confused with.
RESERVED_IFNAMES = frozenset({"lo", "all", "default"})
HOST_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
)
_HOST_KEY_RE = re.compile(rf"^({'|'.join(HOST_KEY_TYPES)}) ([A-Za-z0-9+/]+={{0,3}})\Z")


def _check_ifname(value: str) -> str:
    if value in RESERVED_IFNAMES:
        raise ValueError(f"{value!r} is the kernel's own name (lo, all, default), not a NIC's")
    return value


def check_host_key(value: str) -> str:
    """One OpenSSH public key ``<type> <base64>``: a known type, no comment, no extra
    whitespace, and base64 that decodes to a key blob of that very type (RFC 4253 6.6)."""
    found = _HOST_KEY_RE.match(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(
            "is not one OpenSSH public host key like 'ssh-ed25519 AAAA...' (no comment)"
        )
    kind, text = found.groups()
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"is not a {kind} key: its base64 does not decode") from None
    length = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + length] != kind.encode() or len(blob) <= 4 + length:
        raise ValueError(f"is not a {kind} key: the key inside is of another type")
    return value


Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
IfName = Annotated[str, StringConstraints(pattern=IFNAME_PATTERN), AfterValidator(_check_ifname)]
HostKey = Annotated[str, AfterValidator(check_host_key)]
Cidr = Annotated[str, AfterValidator(_check_cidr)]
Address = Annotated[str, AfterValidator(_check_address)]
