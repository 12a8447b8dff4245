"""Every rendered netplan file through the real compiler; the networkd files it writes, asserted."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

from lanes.config.stackfile import load_stack
from lanes.model.hostnet import HostNet, build_host_net
from lanes.render.netplan import NETPLAN_PATH, render_netplan
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT

NETPLAN = shutil.which("netplan") or "/usr/sbin/netplan"
Section = tuple[str, dict[str, list[str]]]


@functools.cache
def models(stack: str) -> dict[str, HostNet]:
    plan = checked_plan(load_stack(ROOT, stack)).plan
    return {h.name: build_host_net(h, plan) for h in plan.stack_hosts()}


def parse_unit(text: str) -> list[Section]:
    """A systemd unit file as (section, key -> values) in file order; sections may repeat."""
    sections: list[Section] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            sections.append((line.strip("[]"), {}))
        else:
            key, _, value = line.partition("=")
            sections[-1][1].setdefault(key, []).append(value)
    return sections


def generate(tmp_path: Path, net: HostNet) -> dict[str, list[Section]]:
    """netplan generate --root-dir on the rendered file; the networkd files by name."""
    target = tmp_path / NETPLAN_PATH.lstrip("/")
    target.parent.mkdir(parents=True)
    target.write_text(render_netplan(net))
    target.chmod(0o600)
    proc = subprocess.run(
        [NETPLAN, "generate", "--root-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "run/systemd/network"
    return {p.name: parse_unit(p.read_text()) for p in sorted(out.iterdir())}


def single(sections: list[Section], name: str) -> dict[str, list[str]]:
    found = [body for section, body in sections if section == name]
    assert len(found) == 1, (name, sections)
    return found[0]


def routes(sections: list[Section]) -> set[tuple[str, ...]]:
    return {
        (
            b["Destination"][0],
            b.get("Gateway", ["-"])[0],
            b.get("PreferredSource", ["-"])[0],
            b.get("Table", ["main"])[0],
            b.get("Scope", ["global"])[0],
        )
        for s, b in sections
        if s == "Route"
    }


def rules(sections: list[Section]) -> set[tuple[str, ...]]:
    """(from, to or "-", table, priority) of each RoutingPolicyRule."""
    return {
        (b["From"][0], b.get("To", ["-"])[0], b["Table"][0], b["Priority"][0])
        for s, b in sections
        if s == "RoutingPolicyRule"
    }


def test_seed_001_master_answers_storage_through_the_storage_gateway(tmp_path):
    files = generate(tmp_path, models("dev")["master-1"])
    storage = files["10-netplan-eth2.network"]
    assert single(storage, "Network")["Address"] == ["100.64.64.2/21"]
    assert rules(storage) == {("100.64.64.2", "-", "103", "1103")}
    assert routes(storage) == {
        ("100.64.64.0/21", "-", "100.64.64.2", "103", "link"),
        ("0.0.0.0/0", "100.64.64.1", "100.64.64.2", "103", "global"),
    }
    # The main default route is on the traffic NIC (pods' egress), nowhere else.
    assert ("0.0.0.0/0", "100.64.32.1", "-", "main", "global") in routes(
        files["10-netplan-eth1.network"]
    )
    assert not any(
        r[3] == "main" for r in routes(storage) | routes(files["10-netplan-eth0.network"])
    )


def test_prod_worker_bond_vlan_and_supernet_routes(tmp_path):
    files = generate(tmp_path, models("prod")["worker-1"])
    bond = files["10-netplan-bond0.netdev"]
    assert single(bond, "NetDev") == {"Name": ["bond0"], "MTUBytes": ["9000"], "Kind": ["bond"]}
    assert single(bond, "Bond") == {"Mode": ["active-backup"], "MIIMonitorSec": ["100ms"]}
    primary = single(files["10-netplan-ens1f0.network"], "Network")
    assert primary["Bond"] == ["bond0"] and primary["PrimarySlave"] == ["true"]
    assert "PrimarySlave" not in single(files["10-netplan-ens2f0.network"], "Network")
    vlan = files["10-netplan-bond1.300.netdev"]
    assert single(vlan, "NetDev")["Kind"] == ["vlan"] and single(vlan, "VLAN") == {"Id": ["300"]}
    assert single(files["10-netplan-bond1.network"], "Network")["VLAN"] == ["bond1.300"]
    storage = files["10-netplan-bond1.300.network"]
    assert single(storage, "Network")["Address"] == ["100.66.0.21/20"]
    assert ("100.66.0.0/16", "100.66.0.1", "-", "main", "global") in routes(storage)
    assert rules(storage) == {("100.66.0.21", "-", "103", "1103")}


def expected_files(net: HostNet) -> dict[str, dict]:
    """What the networkd files must say for each device, from the model."""
    want: dict[str, dict] = {}
    for link in net.links:
        want[link.name] = {
            "mtu": str(link.mtu),
            "addresses": [a.cidr for a in net.addresses_of(link.name)],
            "routes": {
                (
                    "0.0.0.0/0" if r.to == "default" else r.to,
                    r.via or "-",
                    r.source or "-",
                    "main" if r.table == 254 else str(r.table),
                    r.scope,
                )
                for r in net.routes_of(link.name)
            },
            "rules": {
                (r.source, r.to or "-", str(r.table), str(r.priority))
                for r in net.rules_of(link.name)
            },
            "vlans": sorted(v.name for v in net.links if v.parent == link.name),
            "bond": link.bond,
        }
    return want


def all_hosts() -> list[tuple[str, str]]:
    return [(stack, host) for stack in ("dev", "prod") for host in models(stack)]


@pytest.mark.parametrize(("stack", "host"), all_hosts())
def test_every_host_compiles_to_the_model(tmp_path, stack, host):
    net = models(stack)[host]
    files = generate(tmp_path, net)
    for name, want in expected_files(net).items():
        sections = files[f"10-netplan-{name}.network"]
        network = single(sections, "Network")
        assert single(sections, "Link")["MTUBytes"] == [want["mtu"]], name
        assert network.get("Address", []) == want["addresses"], name
        assert routes(sections) == want["routes"], name
        assert rules(sections) == want["rules"], name
        assert sorted(network.get("VLAN", [])) == want["vlans"], name
        assert network.get("Bond", [None]) == [want["bond"]], name
    for link in net.links:
        if link.kind in ("bond", "vlan"):
            netdev = single(files[f"10-netplan-{link.name}.netdev"], "NetDev")
            assert netdev["Kind"] == [link.kind]
    assert {f.removesuffix(".network") for f in files if f.endswith(".network")} == {
        f"10-netplan-{link.name}" for link in net.links
    }
