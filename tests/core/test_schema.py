"""The schema is generated from the models: JSON Schema for tools, the README's key table."""

from __future__ import annotations

import json

import jsonschema

from lanes.config import NETWORK_KINDS, Networks
from lanes.render.schema import TABLE_BEGIN, TABLE_END, config_schema, config_table
from tests.support.pulumi_run import ROOT, stack_values


def readme_table() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index(TABLE_BEGIN) + len(TABLE_BEGIN) + 1 : text.index(TABLE_END)]


def test_the_readme_table_is_the_generated_one():
    assert readme_table() == config_table(), "run: python -m lanes schema --format markdown"


def test_the_committed_stacks_are_valid_against_the_json_schema():
    schema = config_schema()
    for stack in ("dev", "prod"):
        values = {k: v for k, v in stack_values(stack).items() if k not in ("sshPrivateKey",)}
        jsonschema.validate(values, schema)


def test_the_json_schema_carries_the_static_bounds_and_every_network_kind():
    schema = config_schema()
    defs = schema["$defs"]
    vlan = defs["PlatformNetwork"]["properties"]["vlan"]
    assert (vlan["minimum"], vlan["maximum"]) == (1, 4094)
    networks = defs["Networks"]
    assert networks["required"] == list(NETWORK_KINDS.names)
    assert networks["additionalProperties"] is False
    json.dumps(schema)  # plain JSON, nothing pydantic-specific left in it


def test_a_bad_vlan_is_refused_by_the_json_schema_too():
    values = stack_values("dev")
    values["networks"]["traffic"]["vlan"] = 5000
    try:
        jsonschema.validate(values, config_schema())
    except jsonschema.ValidationError as exc:
        assert list(exc.absolute_path) == ["networks", "traffic", "vlan"]
    else:
        raise AssertionError("VLAN 5000 passed the JSON schema")


def test_the_written_out_networks_are_the_kinds_table_s():
    fields = Networks.model_fields
    assert list(fields) == list(Networks.KINDS.names) == list(NETWORK_KINDS.names)
    assert [f.description for f in fields.values()] == [k.carries for k in NETWORK_KINDS]
    assert all(f.is_required() for f in fields.values())
