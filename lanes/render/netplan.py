"""Netplan YAML (networkd renderer) of one host, from the host network model."""

from __future__ import annotations

from typing import Any

import yaml

from lanes.model.hostnet import HostNet, Link, Route, Rule

__all__ = ["NETPLAN_PATH", "netplan_document", "render_netplan"]

# After the distribution's 50-cloud-init.yaml, so lanes' values win where both set one.
NETPLAN_PATH = "/etc/netplan/60-lanes.yaml"
MAIN_TABLE = 254


def _route(route: Route) -> dict[str, Any]:
    entry: dict[str, Any] = {"to": route.to}
    if route.via:
        entry["via"] = route.via
    else:
        entry["scope"] = "link"
    if route.source:
        entry["from"] = route.source
    if route.table != MAIN_TABLE:
        entry["table"] = route.table
    return entry


def _rule(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {"from": rule.source}
    if rule.to is not None:
        entry["to"] = rule.to
    return {**entry, "table": rule.table, "priority": rule.priority}


def _layer3(net: HostNet, link: Link, entry: dict[str, Any]) -> dict[str, Any]:
    addresses = [a.cidr for a in net.addresses_of(link.name)]
    routes = [_route(r) for r in net.routes_of(link.name)]
    rules = [_rule(r) for r in net.rules_of(link.name)]
    if addresses:
        entry["addresses"] = addresses
    if routes:
        entry["routes"] = routes
    if rules:
        entry["routing-policy"] = rules
    return entry


def _ethernet(net: HostNet, link: Link) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if link.macaddress:
        entry["match"] = {"macaddress": link.macaddress}
        entry["set-name"] = link.name
    entry["mtu"] = link.mtu
    return _layer3(net, link, entry)


def _bond(net: HostNet, link: Link) -> dict[str, Any]:
    entry: dict[str, Any] = {"interfaces": list(link.members), "mtu": link.mtu}
    if link.macaddress:
        entry["macaddress"] = link.macaddress
    entry["parameters"] = {
        "mode": "active-backup",
        "primary": link.primary,
        "mii-monitor-interval": link.miimon,
    }
    return _layer3(net, link, entry)


def _vlan(net: HostNet, link: Link) -> dict[str, Any]:
    return _layer3(net, link, {"id": link.vlan, "link": link.parent, "mtu": link.mtu})


def netplan_document(net: HostNet) -> dict[str, Any]:
    """The netplan document as data: ethernets, bonds, vlans in link order."""
    network: dict[str, Any] = {"version": 2, "renderer": "networkd"}
    sections = (
        ("ethernets", "ethernet", _ethernet),
        ("bonds", "bond", _bond),
        ("vlans", "vlan", _vlan),
    )
    for section, kind, build in sections:
        entries = {link.name: build(net, link) for link in net.links if link.kind == kind}
        if entries:
            network[section] = entries
    return {"network": network}


def render_netplan(net: HostNet) -> str:
    """The host's netplan file; byte-identical for the same model."""
    header = (
        f"# {NETPLAN_PATH} for {net.host} ({net.role}), written by lanes: edit the stack config,\n"
        f"# not this file. Default route: {net.default_network or 'none'}; tables: "
        + (", ".join(f"{t.network} {t.id}" for t in net.tables) or "none")
        + ".\n"
    )
    body = yaml.safe_dump(
        netplan_document(net), sort_keys=False, default_flow_style=False, width=100
    )
    return header + body
