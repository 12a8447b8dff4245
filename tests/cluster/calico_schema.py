"""The field names (and enums) lanes may use in Calico 3.31 objects, as closed JSON Schemas.

Sources, Calico 3.31 (tigera-operator v1.40, chart v3.31.3):
- projectcalico.org/v3 IPPool: docs.tigera.io, calico 3.31 reference/resources/ippool
  (tigera/docs calico_versioned_docs/version-3.31/reference/resources/ippool.mdx), "Spec" table.
- operator.tigera.io/v1 Installation, APIServer: calico 3.31 reference/installation/api
  (tigera/docs calico_versioned_docs/version-3.31/reference/installation/_api.mdx): InstallationSpec,
  CNISpec, IPAMSpec, CalicoNetworkSpec, NodeAddressAutodetection, APIServerSpec.
Only the fields of those tables are listed; ``additionalProperties: false`` everywhere, so a
misspelt or invented field fails. Fields lanes does not set are listed where cheap, so the
schema reads as the version's API, not as a copy of lanes' output.
"""

from __future__ import annotations

from typing import Any

import jsonschema

__all__ = ["CALICO_VERSION", "SCHEMAS", "validate_calico"]

CALICO_VERSION = "3.31"

_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}
_ENABLED = {"enum": ["Enabled", "Disabled"]}


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


_METADATA = _closed(
    {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    ["name"],
)


def _kind(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return _closed(
        {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
        },
        ["apiVersion", "kind", "metadata", "spec"],
    )


_MODE = {"enum": ["Never", "Always", "CrossSubnet"]}

IPPOOL = _kind(
    "projectcalico.org/v3",
    "IPPool",
    _closed(
        {
            "cidr": _STR,
            "blockSize": {"type": "integer", "minimum": 20, "maximum": 32},
            "ipipMode": _MODE,
            "vxlanMode": _MODE,
            "natOutgoing": _BOOL,
            "disabled": _BOOL,
            "disableBGPExport": _BOOL,
            "nodeSelector": _STR,
            "allowedUses": {
                "type": "array",
                "items": {"enum": ["Workload", "Tunnel", "LoadBalancer"]},
            },
            "assignmentMode": {"enum": ["Automatic", "Manual"]},
        },
        ["cidr"],
    ),
)

_AUTODETECTION = _closed(
    {
        "firstFound": _BOOL,
        "kubernetes": {"enum": ["NodeInternalIP"]},
        "interface": _STR,
        "skipInterface": _STR,
        "canReach": _STR,
        "cidrs": {"type": "array", "items": _STR, "minItems": 1},
    }
)

INSTALLATION = _kind(
    "operator.tigera.io/v1",
    "Installation",
    _closed(
        {
            "variant": {"enum": ["Calico", "TigeraSecureEnterprise"]},
            "registry": _STR,
            "imagePath": _STR,
            "imagePrefix": _STR,
            "kubernetesProvider": _STR,
            "cni": _closed(
                {
                    "type": {"enum": ["Calico", "GKE", "AmazonVPC", "AzureVNET"]},
                    "ipam": _closed(
                        {"type": {"enum": ["Calico", "HostLocal", "AmazonVPC", "AzureVNET"]}},
                        ["type"],
                    ),
                    "binDir": _STR,
                    "confDir": _STR,
                },
                ["type"],
            ),
            "calicoNetwork": _closed(
                {
                    "linuxDataplane": {"enum": ["Iptables", "BPF", "VPP", "Nftables"]},
                    "bgp": _ENABLED,
                    "ipPools": {"type": "array"},
                    "mtu": _INT,
                    "nodeAddressAutodetectionV4": _AUTODETECTION,
                    "nodeAddressAutodetectionV6": _AUTODETECTION,
                    "hostPorts": _ENABLED,
                    "multiInterfaceMode": {"enum": ["None", "Multus"]},
                    "containerIPForwarding": _ENABLED,
                    "linuxPolicySetupTimeoutSeconds": _INT,
                }
            ),
        }
    ),
)

APISERVER = _kind(
    "operator.tigera.io/v1",
    "APIServer",
    _closed(
        {
            "logging": {"type": "object"},
            "apiServerDeployment": {"type": "object"},
        }
    ),
)

SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("projectcalico.org/v3", "IPPool"): IPPOOL,
    ("operator.tigera.io/v1", "Installation"): INSTALLATION,
    ("operator.tigera.io/v1", "APIServer"): APISERVER,
}


def validate_calico(body: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless ``body`` uses only Calico 3.31's fields."""
    schema = SCHEMAS[(body["apiVersion"], body["kind"])]
    jsonschema.Draft202012Validator(schema).validate(body)
