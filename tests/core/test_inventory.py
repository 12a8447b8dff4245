"""One inventory per region: AZ stacks name a region file, and everything reads it the same way."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from lanes.config import ConfigError
from lanes.config.stackfile import load_stack, read_stack_file_values
from lanes.model.cluster import bgp_routers
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT, run_program, stack_values
from tests.support.stacks import read_stack_values

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAlanes-test-key\n-----END OPENSSH PRIVATE KEY-----\n"
SECRETS = {"sshPrivateKey": KEY}
REGION = "regions/east.yaml"


def _project(tmp_path: Path, stack: dict, region: dict | str | None = None) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    config = {f"lanes:{k}": v for k, v in stack.items()}
    (tmp_path / "Pulumi.s.yaml").write_text(yaml.safe_dump({"config": config}))
    if region is not None:
        (tmp_path / "regions").mkdir(exist_ok=True)
        text = region if isinstance(region, str) else yaml.safe_dump(region)
        (tmp_path / "regions" / "r.yaml").write_text(text)
    return tmp_path


def _asset_text(value: object) -> str:
    """A file asset by its content (its repr differs per object)."""
    return getattr(value, "text", None) or repr(value)


def _region_values() -> dict:
    return yaml.safe_load((ROOT / REGION).read_text())


def _problems(project: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_stack(project, "s")
    return caught.value.problems


def test_an_az_stack_file_says_which_az_it_is_and_names_the_region_file():
    assert read_stack_file_values(ROOT, "prod") == {"az": "az-1", "inventory": REGION}


def test_the_region_file_read_through_the_stack_is_the_stack_written_as_one_file(tmp_path):
    one_file = {"az": "az-1", **_region_values()}
    project = _project(tmp_path, one_file)
    assert load_stack(project, "s") == load_stack(ROOT, "prod")
    assert read_stack_values(ROOT, "prod") == one_file


def test_moving_az_1_to_the_region_file_changes_none_of_its_resources():
    """The program reading the region file itself (as under the engine, which passes only the
    stack file's keys) registers exactly what the same stack written as one file registers."""
    layered = run_program("prod", secrets=SECRETS)
    one_file = run_program("prod", values=stack_values("prod"), secrets=SECRETS)

    def resources(run):
        return sorted(
            (r.type, r.name, json.dumps(r.inputs, sort_keys=True, default=_asset_text))
            for r in run.resources
        )

    assert resources(layered) == resources(one_file)
    assert len(layered.resources) > 50
    assert layered.outputs["plan"] == one_file.outputs["plan"]


@pytest.mark.parametrize("key", ["azs", "line", "apply"])
def test_an_az_stack_naming_a_region_file_says_only_its_az(tmp_path, key):
    """Whether the region file gives the key too or not: two AZ stacks of one region could
    otherwise plan different regions (az-2's line here, az-1's there) and each pass its rules."""
    region = _region_values()
    value = {"azs": ["az-1"], "line": {"cidr": "100.68.0.0/29"}, "apply": {}}[key]
    if key == "line":
        del region["line"]  # given by the stack alone: still refused
    stack = {"az": "az-1", "inventory": "regions/r.yaml", key: value}
    project = _project(tmp_path, stack, region)
    (problem,) = _problems(project)
    assert problem == (
        f"{project / 'Pulumi.s.yaml'}: lanes:{key} belongs in the region file "
        f"{project / 'regions/r.yaml'}: an AZ stack that names one holds only lanes:az (its "
        "secrets are set with pulumi config set --secret)"
    )


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("az", "az-1", "az: belongs in each AZ stack's own file, not the region's"),
        ("inventory", "regions/x.yaml", "inventory: belongs in each AZ stack's own file"),
        ("sshPrivateKey", "-----BEGIN KEY-----", "sshPrivateKey: a secret never goes in a file"),
        ("lanes:region", "east", "lanes:region: plain keys here, without a namespace"),
    ],
)
def test_the_region_file_never_holds_stack_keys_secrets_or_namespaces(tmp_path, key, value, says):
    region = _region_values() | {key: value}
    project = _project(tmp_path, {"az": "az-1", "inventory": "regions/r.yaml"}, region)
    problems = _problems(project)
    assert any(says in p for p in problems), problems
    assert all("BEGIN" not in p for p in problems)


@pytest.mark.parametrize(
    "name",
    [
        "../Pulumi.yaml",
        "/etc/passwd.yaml",
        "regions/../x.yaml",
        "regions/.hidden.yaml",
        "x.json",
        7,
    ],
)
def test_a_region_file_path_must_be_a_plain_yaml_path_inside_the_project(tmp_path, name):
    project = _project(tmp_path, {"az": "az-1", "inventory": name}, _region_values())
    (problem,) = _problems(project)
    assert problem.startswith(f"{project / 'Pulumi.s.yaml'}: lanes:inventory: ")


def test_a_region_file_symlinked_out_of_the_project_is_refused(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(yaml.safe_dump(_region_values()))
    (tmp_path / "p").mkdir()
    project = _project(tmp_path / "p", {"az": "az-1", "inventory": "regions/r.yaml"})
    (project / "regions").mkdir()
    os.symlink(outside, project / "regions" / "r.yaml")
    (problem,) = _problems(project)
    assert "leads outside the project" in problem


def test_a_missing_region_file_is_named(tmp_path):
    project = _project(tmp_path, {"az": "az-1", "inventory": "regions/r.yaml"})
    assert _problems(project) == [f"{project / 'regions/r.yaml'}: no such file"]


def test_a_bad_value_in_the_region_file_names_that_file_and_the_path(tmp_path):
    region = _region_values()
    region["networks"]["storage"]["vlan"] = 5000
    project = _project(tmp_path, {"az": "az-1", "inventory": "regions/r.yaml"}, region)
    problems = _problems(project)
    (problem,) = problems
    assert problem.startswith(f"{project / 'regions/r.yaml'}: networks.storage.vlan: 5000")


def test_a_bad_az_in_the_stack_file_is_named_as_the_stacks(tmp_path):
    project = _project(tmp_path, {"az": "AZ 9", "inventory": "regions/r.yaml"}, _region_values())
    (problem,) = _problems(project)
    assert problem.startswith("az: ")


def test_every_az_stack_of_the_region_plans_the_same_region():
    plans = {}
    for stack in ("prod", "prod-az-2", "prod-az-3"):
        report = checked_plan(load_stack(ROOT, stack))
        assert report.ok, report.violations
        plans[stack] = report.plan.to_dict()  # type: ignore[union-attr]
    azs = {stack: plan.pop("az") for stack, plan in plans.items()}
    assert azs == {"prod": "az-1", "prod-az-2": "az-2", "prod-az-3": "az-3"}
    assert plans["prod"] == plans["prod-az-2"] == plans["prod-az-3"]


# --- the region's AZ stacks under the SDK's mocks ------------------------------------------------

STACKS = ("prod", "prod-az-2", "prod-az-3")
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"
# What every AZ stack declares for its own AZ; everything else of the cluster is region-wide.
PER_AZ_KINDS = {
    "kubernetes:core/v1:NodePatch",
    "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    "pulumi:providers:kubernetes",
}


@pytest.fixture(scope="module")
def az_runs():
    return {s: run_program(s, secrets=SECRETS | {"kubeconfig": KUBECONFIG}) for s in STACKS}


def test_each_az_stack_declares_only_its_own_azs_hosts_gateways_and_speaker(az_runs):
    plan = checked_plan(load_stack(ROOT, "prod")).plan
    assert plan is not None
    seen: list[str] = []
    for stack, run in az_runs.items():
        az = read_stack_file_values(ROOT, stack)["az"]
        hosts = [r.name for r in run.of_type("lanes:host:BareMetalHost")]
        assert sorted(hosts) == sorted(h.name for h in plan.hosts if h.az == az)
        gateways = {r.name for r in run.of_type("lanes:gateway:EdgeGateway")}
        mine = {g.name for g in plan.gateways if plan.host(g.host).az == az}  # type: ignore[union-attr]
        assert gateways == mine and mine
        (speaker,) = run.of_type("lanes:gateway:BgpSpeaker")
        router = next(r.host for r in bgp_routers(plan) if r.az == az)
        assert speaker.name.startswith(router), (speaker.name, router)  # the AZ's own router
        seen += hosts
    assert sorted(seen) == sorted(h.name for h in plan.hosts)  # each host in exactly one stack


def test_exactly_one_az_stack_owns_the_region_wide_cluster_objects(az_runs):
    def region_wide(run):
        return sorted(
            r.name
            for r in run.resources
            if r.type.startswith("kubernetes:") and r.type not in PER_AZ_KINDS
        )

    owners = {stack: region_wide(run) for stack, run in az_runs.items() if region_wide(run)}
    assert list(owners) == ["prod"]  # cluster.region_az defaults to the first AZ
    assert "east-cluster-ippool-az-3" in owners["prod"]
    for stack, run in az_runs.items():
        az = read_stack_file_values(ROOT, stack)["az"]
        (gateway,) = run.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
        assert gateway.name == f"east-cluster-gateway-{az}"


def _region_project(tmp_path: Path, region: dict) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for stack in STACKS:
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    (tmp_path / "regions").mkdir()
    (tmp_path / REGION).write_text(yaml.safe_dump(region))
    return tmp_path


@pytest.mark.parametrize(
    ("what", "change", "expected"),
    [
        (
            "edge-3 (az-3) holds edge-1's (az-1) enterprise address",
            lambda r: r["hosts"][18]["outside"]["enterprise"].__setitem__(0, "10.0.1.1"),
            "hosts[18]: edge-3 enterprise address 10.0.1.1 is also held by edge-1 [address-unique]",
        ),
        (
            "the pod range (and so the pools of every AZ) over the storage blocks",
            lambda r: r["cluster"].update(pod_cidr="100.66.0.0/15", pool_prefix=17),
            "cluster.pod_cidr: 100.66.0.0/15 overlaps the storage network 100.66.0.0/16 "
            "(networks.storage.cidr) [cluster-overlap]",
        ),
    ],
)
def test_a_cross_az_mistake_fails_every_az_stack_naming_both_places(
    tmp_path, what, change, expected
):
    region = _region_values()
    change(region)
    project = _region_project(tmp_path, region)
    for stack in STACKS:
        report = checked_plan(load_stack(project, stack))
        assert not report.ok
        assert expected in [str(v) for v in report.violations], (stack, report.violations)


def test_a_new_host_in_az_2_changes_only_the_az_2_stacks_resources():
    def resources(stack, values=None):
        run = run_program(stack, values=values, secrets=SECRETS | {"kubeconfig": KUBECONFIG})
        return {
            (r.type, r.name): json.dumps(r.inputs, sort_keys=True, default=_asset_text)
            for r in run.resources
        }

    worker = {
        "name": "worker-7",
        "number": 22,
        "role": "worker",
        "az": "az-2",
        "nics": [
            {"name": "eno1", "networks": ["management"]},
            {"name": "ens1f0", "networks": ["traffic"]},
            {"name": "ens2f0", "networks": ["storage"]},
        ],
        "ssh": {"host_key": _region_values()["hosts"][16]["ssh"]["host_key"]},
    }
    changed = {}
    for stack in STACKS:
        values = stack_values(stack)
        values["hosts"].append(worker)
        before, after = resources(stack), resources(stack, values)
        changed[stack] = sorted(
            name
            for key in before.keys() | after.keys()
            if before.get(key) != after.get(key)
            for name in [key[1]]
        )
    assert changed["prod"] == [] and changed["prod-az-3"] == []
    assert changed["prod-az-2"], changed
    # The host's own resources, its node's labels, and its AZ router's BGP speaker (one more
    # neighbour) with the cluster component that lists the stack's nodes: nothing else.
    expected = ("worker-7", "east-cluster-node-worker-7", "edge-2-bgp")
    others = [n for n in changed["prod-az-2"] if not n.startswith(expected)]
    assert others == ["east-cluster"], changed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "region: east\nregion: west\n",
            "regions/r.yaml:2:1: duplicate key 'region' (first at line 1)",
        ),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
                for p, c in zip("abcdefg", "bcdefgh", strict=True)
            )
            + "region: east\n",
            "values (aliases): refused",
        ),
        ("\xff\xfe r\x00", "not UTF-8"),
    ],
)
def test_a_hostile_region_file_is_refused_as_a_stack_file_is(tmp_path, text, says):
    project = _project(tmp_path, {"az": "az-1", "inventory": "regions/r.yaml"})
    (project / "regions").mkdir()
    (project / "regions" / "r.yaml").write_bytes(text.encode("latin-1"))
    (problem,) = _problems(project)
    assert problem.startswith(str(project / "regions/r.yaml")), problem
    assert says in problem, problem


def test_a_region_file_that_is_a_fifo_or_a_symlink_loop_is_refused_never_waited_on(tmp_path):
    project = _project(tmp_path, {"az": "az-1", "inventory": "regions/r.yaml"})
    (project / "regions").mkdir()
    os.mkfifo(project / "regions" / "r.yaml")
    assert _problems(project) == [
        f"{project / 'regions/r.yaml'}: not a regular file (a FIFO, socket or device)"
    ]
    (project / "regions" / "r.yaml").unlink()
    os.symlink("r.yaml", project / "regions" / "r.yaml")
    (problem,) = _problems(project)
    assert problem.endswith("lanes:inventory: 'regions/r.yaml': a symlink loop"), problem
