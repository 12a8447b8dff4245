"""A key the schema once had is named with what replaced it (issue 23), in a stack file or a
region file, wherever its model sits; never only "unknown key", never with its value."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from lanes.cli.main import main
from lanes.config import RETIRED_KEYS, ConfigError, parse_stack_config
from tests.core.test_inventory import _problems, _project, _region_values
from tests.support.mutate import changed
from tests.support.pulumi_run import ROOT, stack_values

RENAMED = (
    "renamed to `gateway_class` (Gateway API replaced ingress-nginx): the same value, the prefix "
    "of each AZ's GatewayClass and Gateway (<gateway_class>-<az>)"
)
RETIRED = (
    "retired: a gateway is what its intents say (`egress`, `mappings`, `ingress`, `publish`, "
    "`consume`, `proxies`), never a kind; remove the key"
)


def problems(values: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    return caught.value.problems


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("cluster.ingress_class", f"cluster.ingress_class: {RENAMED}"),
        ("gateways[3].kind", f"gateways[3].kind: {RETIRED}"),
    ],
)
def test_a_retired_key_names_its_replacement(path, expected):
    assert problems(changed(stack_values("prod"), path, "SECRET-nginx-value")) == [expected]


def test_the_same_name_elsewhere_is_only_unknown():
    # ``kind`` was a gateway's key, never a host's; ``ingress_class`` the cluster's, not a tenant's
    assert problems(changed(stack_values("prod"), "hosts[0].kind", "x")) == [
        "hosts[0].kind: unknown key"
    ]
    assert problems(changed(stack_values("prod"), "cluster.tenants[0].ingress_class", "x")) == [
        "cluster.tenants[0].ingress_class: unknown key"
    ]


def test_a_retired_key_in_the_region_file_names_that_file(tmp_path: Path):
    region = _region_values()
    region["cluster"]["ingress_class"] = "nginx"
    region["gateways"][0]["kind"] = "nat"
    project = _project(tmp_path, {"az": "az-1", "inventory": "regions/r.yaml"}, region)
    where = project / "regions/r.yaml"
    assert _problems(project) == [
        f"{where}: cluster.ingress_class: {RENAMED}",
        f"{where}: gateways[0].kind: {RETIRED}",
    ]


def test_plan_exits_2_with_the_hint_and_no_value(tmp_path: Path, capsys):
    values = copy.deepcopy(stack_values("dev"))
    values["cluster"] = {**values.get("cluster", {}), "ingress_class": "SECRET-nginx-value"}
    project = _project(tmp_path, values)
    (project / "Pulumi.s.yaml").write_text(
        yaml.safe_dump({"config": {f"lanes:{k}": v for k, v in values.items()}})
    )
    code = main(["plan", "--stack", "s", "--project-dir", str(project)])
    _, err = capsys.readouterr()
    assert code == 2
    assert f"error: cluster.ingress_class: {RENAMED}" in err
    assert "SECRET" not in err


def test_every_retired_key_is_one_the_schema_no_longer_has():
    readme = (ROOT / "README.md").read_text()
    for model, keys in RETIRED_KEYS.items():
        assert not set(keys) & set(model.model_fields), model
        assert all(f"{key}`" in readme for key in keys), keys  # the README lists each
