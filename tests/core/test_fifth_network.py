"""A fifth network kind, in a table of this test alone, goes everywhere a network goes.

The kinds table (lanes.config.kinds) is the one place a network's identity lives: a table with
``backup``, handed in with a schema that has its key and a component class of its own, must be
enough for it to be planned, given a VLAN device and netplan, its own routing table and policy
rules, shown in ``lanes plan``, checked by the rules and declared as a component.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import pytest
from pydantic import Field

from components.network import NETWORK_COMPONENTS, PlatformNetworkResource, declare_networks
from lanes.config import (
    NETWORK_KINDS,
    NetworkKind,
    NetworkKinds,
    Networks,
    PlatformNetwork,
    StackConfig,
    parse_stack_config,
)
from lanes.model.hostnet import build_host_net
from lanes.render.netplan import render_netplan
from lanes.render.plan import render_text
from lanes.report.html import render_html
from lanes.report.model import build_report
from lanes.rules import checked_plan
from tests.host.test_netplan_generate import generate, routes, rules
from tests.support.mutate import changed
from tests.support.pulumi_run import run_declarations, stack_values

BACKUP = NetworkKind(
    "backup",
    "nightly backups to the tape library",
    table=105,
    default_rank=9,
    component="BackupNetwork",
    heading="backup",
    shares_nic=False,
    colour="#a01010",
)


class BackupNetworks(Networks):
    KINDS: ClassVar[NetworkKinds] = NetworkKinds((*NETWORK_KINDS, BACKUP))

    backup: PlatformNetwork = Field(description=BACKUP.carries)


class BackupStack(StackConfig):
    networks: BackupNetworks


class BackupNetwork(PlatformNetworkResource):
    """Nightly backups to the tape library."""

    TYPE = BACKUP.type_token


def backup_config(values: dict) -> StackConfig:
    return parse_stack_config(values, BackupStack)


def with_backup(values: dict) -> dict:
    """The dev stack with a backup network and worker-1 on it (a fourth NIC, VLAN 50)."""
    values = copy.deepcopy(values)
    values["networks"]["backup"] = {
        "cidr": "100.64.96.0/21",
        "vlan": 50,
        "block_prefix": 21,
        "blocks": {"az-1": "100.64.96.0/21"},
    }
    worker = next(h for h in values["hosts"] if h["name"] == "worker-1")
    worker["nics"].append({"name": "eth3", "networks": ["backup"]})
    return values


def test_without_the_kind_the_network_is_an_unknown_key():
    values = with_backup(stack_values("dev"))
    with pytest.raises(Exception, match=r"networks\.backup: unknown key"):
        parse_stack_config(values)


def test_a_table_holds_a_kind_once():
    with pytest.raises(ValueError, match=r"^backup: name, table or component already taken"):
        NetworkKinds((*NETWORK_KINDS, BACKUP, BACKUP))


def test_a_fifth_kind_is_planned_rendered_routed_and_shown(tmp_path):
    report = checked_plan(backup_config(with_backup(stack_values("dev"))))
    assert report.ok, [str(v) for v in report.violations]
    plan = report.plan
    backup = plan.network("backup")
    assert [str(b.cidr) for b in backup.blocks()] == ["100.64.96.0/21"]
    worker = plan.host("worker-1")
    assert str(worker.address("backup").address) == "100.64.96.3"  # block + number 3

    net = build_host_net(worker, plan)
    link = net.link("eth3.50")
    assert (link.kind, link.parent, link.vlan) == ("vlan", "eth3", 50)
    assert ("backup", 105) in {(t.network, t.id) for t in net.tables}
    assert "eth3.50" in render_netplan(net)
    files = generate(tmp_path, net)  # netplan's own compiler
    backup_leg = files["10-netplan-eth3.50.network"]
    assert ("100.64.96.0/21", "-", "100.64.96.3", "105", "link") in routes(backup_leg)
    assert ("100.64.96.3", "-", "105", "1105") in rules(backup_leg)

    text = render_text(plan)
    header = next(line for line in text.splitlines() if "management" in line and "#" in line)
    assert "backup" in header
    assert "100.64.96.3" in text

    page = render_html(build_report(plan, "dev", None))
    assert "#a01010" in page and "100.64.96.0/21" in page  # its own lane and colour


def test_the_rules_judge_the_fifth_kind():
    values = changed(with_backup(stack_values("dev")), "networks.backup.vlan", 20)
    values = changed(values, "networks.backup.cidr", "100.64.32.0/21")
    values = changed(values, "networks.backup.blocks", {})
    found = {str(v) for v in checked_plan(backup_config(values)).violations}
    assert "networks.backup.vlan: 20 is already the VLAN of traffic [vlan-distinct]" in found
    assert any(v.startswith("networks.backup.cidr: 100.64.32.0/21 overlaps") for v in found)


def test_the_fifth_kind_is_declared_as_its_own_component():
    plan = checked_plan(backup_config(with_backup(stack_values("dev")))).plan
    components = (*NETWORK_COMPONENTS, BackupNetwork)
    run = run_declarations(lambda: declare_networks(plan, components), "dev")
    (component,) = run.of_type("lanes:network:BackupNetwork")
    assert component.name == "lab-backup"
    assert component.inputs["cidr"] == "100.64.96.0/21"
