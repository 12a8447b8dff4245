"""Rendered custom objects checked against their CRDs, read from the modules schemas/go.mod pins.

The modules are fetched (``go mod download``, into GOMODCACHE, each checked against
``schemas/go.sum``) and their CRDs found by ``lanes.lab.crds``, which the lab cluster installs
too. ``python -m tests.cluster.crd_schema`` does the download alone (``make schemas``).

How a CRD's ``openAPIV3Schema`` becomes a JSON Schema the way the API server reads it:
- an object with ``properties`` is closed (``additionalProperties: false``) unless it says
  ``x-kubernetes-preserve-unknown-fields``: the API server prunes, or with strict field
  validation refuses, a field its schema does not know, so a misspelt field must fail here;
- ``nullable`` admits null, ``x-kubernetes-int-or-string`` an integer or a string;
- ``x-kubernetes-list-type: map`` lists have unique ``x-kubernetes-list-map-keys`` and
  ``set`` lists unique items (checked beside the schema, as the API server does);
- ``metadata`` (a bare ``object`` in every CRD) is the part of ObjectMeta lanes writes.
CEL rules (``x-kubernetes-validations``) are not evaluated here; the lab cluster's API server
evaluates them (``tests/kube``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import jsonschema

from lanes.lab.crds import (
    GATEWAY_API,
    OPERATOR,
    SCHEMAS_DIR,
    SOURCES,
    Source,
    crd_document,
    download_module,
    module_dirs,
    required_modules,
)

__all__ = [
    "SCHEMAS_DIR",
    "OPERATOR",
    "GATEWAY_API",
    "Source",
    "SOURCES",
    "required_modules",
    "download_module",
    "module_dirs",
    "crd_schema",
    "validate_object",
]


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


def _version(source: Source) -> dict[str, Any]:
    served = [
        v
        for v in crd_document(source)["spec"]["versions"]
        if v["name"] == source.version and v["served"]
    ]
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
