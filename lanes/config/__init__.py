"""The stack config schema (config namespace ``lanes``): one set of pydantic models."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import Field, ValidationError
from pydantic_core import ErrorDetails

from lanes.config.apply import Apply
from lanes.config.base import Address, Cidr, HostKey, Model, Name, model_in, show_value
from lanes.config.cluster import Calico, Cluster, Grant, Tenant
from lanes.config.gateway import Consume, Egress, Gateway, IngressRoute, Mapping, Proxy, Publish
from lanes.config.host import K8S_ROLES, ROLE_ZONES, Bond, Host, HostSsh, Nic, Role
from lanes.config.kinds import NETWORK_KINDS, NetworkKind, NetworkKinds
from lanes.config.network import Line, Networks, OutsideNetwork, PlatformNetwork, Zone

__all__ = [
    "NAMESPACE",
    "SECRET_KEYS",
    "SECRET_DESCRIPTIONS",
    "RETIRED_KEYS",
    "ConfigError",
    "StackConfig",
    "JumpHost",
    "Ssh",
    "Apply",
    "parse_stack_config",
    "Address",
    "Cidr",
    "Name",
    "Networks",
    "PlatformNetwork",
    "Zone",
    "OutsideNetwork",
    "Line",
    "NETWORK_KINDS",
    "NetworkKind",
    "NetworkKinds",
    "Host",
    "HostSsh",
    "Nic",
    "Bond",
    "Role",
    "K8S_ROLES",
    "ROLE_ZONES",
    "Gateway",
    "Egress",
    "Mapping",
    "IngressRoute",
    "Publish",
    "Consume",
    "Proxy",
    "Cluster",
    "Calico",
    "Grant",
    "Tenant",
]

NAMESPACE = "lanes"
# Keys held as Pulumi secrets: read by the program with require_secret, never by the planner.
SECRET_KEYS: frozenset[str] = frozenset({"sshPrivateKey", "kubeconfig"})
# What each secret is, for the docs: set with `pulumi config set --secret lanes:<key> < file`.
SECRET_DESCRIPTIONS: dict[str, str] = {
    "sshPrivateKey": "The SSH private key of the `ssh` user (secret); unset, every step "
    "authenticates with the SSH agent `SSH_AUTH_SOCK` names, and the state holds no key.",
    "kubeconfig": "The cluster's admin kubeconfig; until it is set no cluster object is "
    "declared (secret).",
}


class JumpHost(Model):
    """The one jump host (seed 001: 192.168.0.52 <-> 100.64.0.52) Pulumi connects through."""

    address: Address
    port: int = Field(default=22, ge=1, le=65535)
    user: Name = "root"
    host_key: HostKey | None = None


class Ssh(Model):
    """How the stack reaches its hosts; the private key is the secret ``lanes:sshPrivateKey``."""

    user: Name = "root"
    jump: JumpHost | None = None


# Everything under the ``lanes:`` namespace of ``Pulumi.<stack>.yaml``. (No docstring: the JSON
# Schema's root carries no description, and pydantic would make one of it.)
class StackConfig(Model):
    inventory: str | None = Field(
        default=None,
        description="The region file (a path inside the project, e.g. `regions/east.yaml`) "
        "holding every key of the region (all but `az`); an AZ stack then says `az` and little "
        "else, and every AZ stack of the region reads the same inventory.",
    )
    region: Name = Field(description="The region's name (one Kubernetes cluster), a DNS label.")
    environment: Name = Field(description="The environment, e.g. dev or prod, a DNS label.")
    az: Name = Field(description="The AZ this stack manages: one of `azs`.")
    azs: list[Name] = Field(min_length=1, description="The region's AZs, in block order.")
    networks: Networks = Field(
        description="The platform networks, one per network kind; optional `blocks`, "
        "`reserved_blocks` and zone `cidr` are written out for reviewers: the planner checks "
        "them and never uses them."
    )
    outside: list[OutsideNetwork] = Field(
        default_factory=list,
        description="Networks lanes does not own (enterprise, tenant VPCs); they may overlap "
        "each other, never the platform.",
    )
    line: Line | None = Field(
        default=None,
        description="The dedicated line between the AZ routers (a region of more than one AZ "
        "with hosts needs it): every cross-AZ packet takes it, no AZ's layer 2 leaves the AZ.",
    )
    hosts: list[Host] = Field(
        default_factory=list,
        description="The region's inventory; a host keeps its `number` in every network.",
    )
    gateways: list[Gateway] = Field(
        default_factory=list,
        description="Gateway intents: egress SNAT, 1:1 mappings, ingress routes, published "
        "and consumed exposures, proxies.",
    )
    ssh: Ssh = Field(default_factory=Ssh, description="The SSH user and the jump host.")
    cluster: Cluster = Field(
        default_factory=Cluster,
        description="Pod and service ranges, Calico, tenants and their grants.",
    )
    apply: Apply = Field(default_factory=Apply)


class ConfigError(Exception):
    """The config cannot be read as a StackConfig; ``problems`` are ``path: message`` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# Keys the schema had and has no more, by the model that had them, wherever it sits (a stack
# file, a region file, any depth): a file that still holds one is told what replaced it, never
# only "unknown key". From the history of lanes/config and the README.
RETIRED_KEYS: dict[type[Model], dict[str, str]] = {
    Cluster: {
        "ingress_class": "renamed to `gateway_class` (Gateway API replaced ingress-nginx): "
        "the same value, the prefix of each AZ's GatewayClass and Gateway (<gateway_class>-<az>)",
    },
    Gateway: {
        "kind": "retired: a gateway is what its intents say (`egress`, `mappings`, `ingress`, "
        "`publish`, `consume`, `proxies`), never a kind; remove the key",
    },
}


def format_loc(loc: tuple[Any, ...]) -> str:
    """('hosts', 3, 'nics', 1, 'vlan') -> 'hosts[3].nics[1].vlan'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def _model_at(schema: type[StackConfig], loc: tuple[Any, ...]) -> type[Model] | None:
    """The config model at ``loc`` (the parent of an unknown key); None: no model is there."""
    model: type[Model] | None = schema
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = model_in(field.annotation) if field is not None else None
        if model is None:
            return None
    return model


def _fields_at(schema: type[StackConfig], loc: tuple[Any, ...]) -> list[str]:
    """The keys ``schema`` allows at ``loc`` (the parent of an unknown key)."""
    model = _model_at(schema, loc)
    return list(model.model_fields) if model is not None else []


def _suggest(schema: type[StackConfig], key: str, loc: tuple[Any, ...]) -> str:
    """ " (did you mean `x`?)" from the keys allowed there and the secret keys at the top."""
    known = _fields_at(schema, loc[:-1])
    secrets = sorted(SECRET_KEYS) if len(loc) <= 2 else []
    folded = {k.lower().replace("_", "").replace("-", ""): k for k in [*known, *secrets]}
    exact = folded.get(key.lower().replace("_", "").replace("-", ""))
    close = exact or next(iter(difflib.get_close_matches(key, [*known, *secrets], 1, 0.75)), None)
    if close is None:
        return ""
    if close in SECRET_KEYS:
        return (
            f" (did you mean `{close}`? it is a secret: pulumi config set --secret lanes:{close})"
        )
    return f" (did you mean `{close}`?)"


def _retired(schema: type[StackConfig], key: str, loc: tuple[Any, ...]) -> str | None:
    """What replaced ``key`` when the model at its place once had it."""
    model = _model_at(schema, loc[:-1])
    for owner, keys in RETIRED_KEYS.items():
        if model is not None and issubclass(model, owner) and key in keys:
            return keys[key]
    return None


def _describe(schema: type[StackConfig], error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1]) if error["loc"] else ""
        retired = _retired(schema, key, tuple(error["loc"]))
        if retired is not None:
            return retired
        return "unknown key" + _suggest(schema, key, tuple(error["loc"]))  # never its value
    if kind == "missing":
        return "required key is missing"
    shown = show_value(error.get("input"))
    if kind == "string_pattern_mismatch":
        return f"{shown} is not allowed here: {error['msg'].lower()}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{shown}: {message}" if "input" in error and kind != "value_error" else message


def parse_stack_config(
    values: dict[str, Any], schema: type[StackConfig] = StackConfig
) -> StackConfig:
    """Validate the ``lanes:`` keys (without prefix) into a StackConfig or raise ConfigError.

    ``schema`` is the stack config with the network kinds' table its ``networks`` carry (a test
    with a kind of its own hands in a subclass with that kind's key)."""
    if not isinstance(values, dict):
        raise ConfigError(["<root>: expected a mapping of lanes:<key> values"])
    plain = {key: value for key, value in values.items() if key not in SECRET_KEYS}
    try:
        return schema.model_validate(plain)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: format_loc(e["loc"]))
        problems = [f"{format_loc(e['loc'])}: {_describe(schema, e)}" for e in errors]
        raise ConfigError(problems) from None
