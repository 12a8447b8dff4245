"""Rendered custom objects checked against their CRDs, read from the modules schemas/go.mod pins.

The CRDs are never copied into the repo: each module of ``schemas/go.mod`` is fetched through
the Go module proxy with ``go mod download -json MODULE@VERSION`` (into GOMODCACHE, outside the
repo), its hash is compared with ``schemas/go.sum``, and the CRD YAML is read from the module's
folder. ``python -m tests.cluster.crd_schema`` does the download alone (``make schemas``).

How a CRD's ``openAPIV3Schema`` becomes a JSON Schema the way the API server reads it:
- an object with ``properties`` is closed (``additionalProperties: false``) unless it says
  ``x-kubernetes-preserve-unknown-fields``: the API server prunes, or with strict field
  validation refuses, a field its schema does not know, so a misspelt field must fail here;
- ``nullable`` admits null, ``x-kubernetes-int-or-string`` an integer or a string;
- ``x-kubernetes-list-type: map`` lists have unique ``x-kubernetes-list-map-keys`` and
  ``set`` lists unique items (checked beside the schema, as the API server does);
- ``metadata`` (a bare ``object`` in every CRD) is the part of ObjectMeta lanes writes.
CEL rules (``x-kubernetes-validations``) are not evaluated; the tests check the ones lanes
relies on (listener names and hostnames) themselves.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

__all__ = [
    "SCHEMAS_DIR",
    "Source",
    "SOURCES",
    "required_modules",
    "download_module",
    "module_dirs",
    "crd_schema",
    "validate_object",
]

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
OPERATOR = "github.com/tigera/operator"
GATEWAY_API = "sigs.k8s.io/gateway-api"
# The proxy's checksum database has no entry for these; schemas/go.sum pins their hash instead.
NO_SUMDB = (OPERATOR,)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Source:
    """Where one kind's CRD lives: a module, a file in it, the CRD's kind and version."""

    module: str
    path: str
    kind: str
    version: str

    def describe(self) -> str:
        return f"{self.module}/{self.path} {self.kind} {self.version}"


def _operator_crd(plural: str, kind: str) -> Source:
    return Source(OPERATOR, f"pkg/crds/operator/operator.tigera.io_{plural}.yaml", kind, "v1")


def _calico_crd(plural: str, kind: str) -> Source:
    return Source(OPERATOR, f"pkg/crds/calico/crd.projectcalico.org_{plural}.yaml", kind, "v1")


def _gateway_crds(plural: str, kind: str, version: str) -> tuple[Source, ...]:
    """The pinned Gateway API release, and the CRDs Calico's operator installs by itself
    (crdManagement PreferExisting) when the cluster has none: an object must fit both."""
    return (
        Source(
            GATEWAY_API,
            f"config/crd/standard/gateway.networking.k8s.io_{plural}.yaml",
            kind,
            version,
        ),
        Source(OPERATOR, "pkg/render/gatewayapi/gateway_api_resources.yaml", kind, version),
    )


# (apiVersion, kind) of a rendered object -> the CRDs it is checked against. projectcalico.org/v3
# is served by the Calico API server with the schema of the crd.projectcalico.org/v1 CRD.
SOURCES: dict[tuple[str, str], tuple[Source, ...]] = {
    ("projectcalico.org/v3", "IPPool"): (
        Source(OPERATOR, "pkg/crds/calico/crd.projectcalico.org_ippools.yaml", "IPPool", "v1"),
    ),
    ("projectcalico.org/v3", "BGPConfiguration"): (
        _calico_crd("bgpconfigurations", "BGPConfiguration"),
    ),
    ("projectcalico.org/v3", "BGPPeer"): (_calico_crd("bgppeers", "BGPPeer"),),
    ("operator.tigera.io/v1", "Installation"): (_operator_crd("installations", "Installation"),),
    ("operator.tigera.io/v1", "APIServer"): (_operator_crd("apiservers", "APIServer"),),
    ("operator.tigera.io/v1", "GatewayAPI"): (_operator_crd("gatewayapis", "GatewayAPI"),),
    ("gateway.networking.k8s.io/v1", "Gateway"): _gateway_crds("gateways", "Gateway", "v1"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): _gateway_crds("httproutes", "HTTPRoute", "v1"),
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"): _gateway_crds(
        "referencegrants", "ReferenceGrant", "v1beta1"
    ),
}


# --- the modules --------------------------------------------------------------------------------


def _go() -> str:
    found = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(found).exists():
        raise RuntimeError("the Go client is needed to fetch the CRD modules (schemas/go.mod)")
    return found


def _go_env() -> dict[str, str]:
    env = dict(os.environ, GOWORK="off", GOFLAGS="-mod=mod")
    env["GONOSUMDB"] = ",".join(filter(None, [env.get("GONOSUMDB"), *NO_SUMDB]))
    return env


def required_modules() -> list[tuple[str, str]]:
    """The ``require`` lines of schemas/go.mod, as ``(path, version)``."""
    out = subprocess.run(
        [_go(), "mod", "edit", "-json", str(SCHEMAS_DIR / "go.mod")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [(r["Path"], r["Version"]) for r in json.loads(out)["Require"] or []]


def _pinned_sums() -> dict[tuple[str, str], str]:
    sums = {}
    for line in (SCHEMAS_DIR / "go.sum").read_text().splitlines():
        path, version, digest = line.split()
        sums[(path, version)] = digest
    return sums


def download_module(path: str, version: str) -> Path:
    """The module's folder in GOMODCACHE, fetched if needed; its hash must be schemas/go.sum's."""
    with tempfile.TemporaryDirectory() as outside:  # no go.mod around: nothing lands in the repo
        done = subprocess.run(
            [_go(), "mod", "download", "-json", f"{path}@{version}"],
            cwd=outside,
            env=_go_env(),
            capture_output=True,
            text=True,
        )
    info = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode or info.get("Error"):
        raise RuntimeError(f"go mod download {path}@{version}: {info.get('Error') or done.stderr}")
    pinned = _pinned_sums().get((path, version))
    if info["Sum"] != pinned:
        raise RuntimeError(
            f"{path}@{version}: downloaded {info['Sum']}, schemas/go.sum pins {pinned}"
        )
    return Path(info["Dir"])


@functools.cache
def module_dirs() -> dict[str, Path]:
    """Every module of schemas/go.mod -> its folder."""
    return {path: download_module(path, version) for path, version in required_modules()}


# --- CRD -> JSON Schema ------------------------------------------------------------------------

_METADATA = {
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
            "maxLength": 253,
        },
        "namespace": {
            "type": "string",
            "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
            "maxLength": 63,
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["name"],
    "additionalProperties": False,
}


_COMBINATORS = ("oneOf", "anyOf", "allOf", "not")


def _to_json_schema(node: Any, structural: bool = True) -> Any:
    """``structural`` is False under oneOf/anyOf/allOf/not, whose ``properties`` only constrain
    values (structural schemas): closing those would refuse what the API server accepts."""
    if isinstance(node, list):
        return [_to_json_schema(n, structural) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v, structural and k not in _COMBINATORS) for k, v in node.items()}
    if structural and "properties" in out and "additionalProperties" not in out:
        if not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if out.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return out


@functools.cache
def _documents(file: Path) -> tuple[dict[str, Any], ...]:
    with file.open() as stream:
        return tuple(d for d in yaml.load_all(stream, Loader=_LOADER) if d)


def _version(source: Source) -> dict[str, Any]:
    file = module_dirs()[source.module] / source.path
    crds = [
        d
        for d in _documents(file)
        if d.get("kind") == "CustomResourceDefinition" and d["spec"]["names"]["kind"] == source.kind
    ]
    if len(crds) != 1:
        raise LookupError(f"{source.describe()}: {len(crds)} CRDs of that kind in the file")
    served = [v for v in crds[0]["spec"]["versions"] if v["name"] == source.version and v["served"]]
    if not served:
        raise LookupError(f"{source.describe()}: the CRD does not serve {source.version}")
    return served[0]


@functools.cache
def crd_schema(source: Source) -> dict[str, Any]:
    """The served version's openAPIV3Schema as a closed JSON Schema."""
    schema = _to_json_schema(_version(source)["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = _METADATA
    return schema


# --- lists the API server keeps unique ---------------------------------------------------------


def _list_errors(schema: Any, value: Any, where: str) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            sub = (schema.get("properties") or {}).get(key)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            yield from _list_errors(sub, item, f"{where}.{key}")
    elif isinstance(value, list):
        kind = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen: set[str] = set()
        for i, item in enumerate(value):
            ident = json.dumps(
                [item.get(k) for k in keys] if kind == "map" else item, sort_keys=True
            )
            if kind in ("map", "set") and ident in seen:
                yield f"{where}[{i}]: duplicate {'key ' + ident if kind == 'map' else 'item'}"
            seen.add(ident)
            yield from _list_errors(schema.get("items"), item, f"{where}[{i}]")


def validate_object(body: dict[str, Any]) -> tuple[Source, ...]:
    """Raise jsonschema.ValidationError unless ``body`` fits every CRD of its kind; return them."""
    sources = SOURCES.get((body.get("apiVersion"), body.get("kind")))
    if sources is None:
        raise jsonschema.ValidationError(
            f"no CRD source for {body.get('apiVersion')} {body.get('kind')}"
        )
    for source in sources:
        schema = crd_schema(source)
        try:
            jsonschema.Draft7Validator(schema).validate(body)
        except jsonschema.ValidationError as exc:
            exc.message = f"{exc.message} (CRD {source.describe()})"
            raise
        for error in _list_errors(schema, body, body["kind"]):
            raise jsonschema.ValidationError(f"{error} (CRD {source.describe()})")
    return sources


if __name__ == "__main__":
    for module, folder in sorted(module_dirs().items()):
        print(f"{module}: {folder}")
