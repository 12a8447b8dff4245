"""The lab's ``netplan apply``: make a namespace's addresses, routes and rules a netplan file's.

A namespace has no networkd, so ``lab up`` configures hosts from the model with iproute2 and
its netplan reload is a no-op. Safe-apply rehearsals need a reload that really changes the
network (and cuts the host off when the file is wrong), and a rollback that really brings it
back: this reads the file and converges the namespace on it with the same ``ip`` commands as
``hostnet.ip_commands``. A device the file names that the namespace lacks (a wrong VLAN id, a
wrong NIC) becomes a stand-in (one end of a veth pair, as this kernel has no dummy, bond or
VLAN devices): up, addressed, and connected to nothing, like a VLAN no switch port carries;
stand-ins the file no longer names are deleted; addresses, routes and rules
the file does not hold go away (connected and local routes are the kernel's).

Run inside the namespace: ``python -m lanes.lab.netplan_apply FILE``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from lanes.lab.iproute import rule_argv

__all__ = ["wanted", "converge", "main"]

MAIN = 254
_KEEP_PRIORITIES = {0, 32766, 32767}
_SECTIONS = ("ethernets", "bonds", "vlans")
STAND_IN = "lanes-netplan-stand-in"  # the ifalias that marks the devices this module made

Route = tuple[str, str | None, str, str | None, int]  # to, via, dev, src, table
RuleKey = tuple[str | None, str | None, int, int]  # from (None: all), to, table, priority


def wanted(
    doc: dict[str, Any],
) -> tuple[list[str], set[tuple[str, str]], list[Route], list[RuleKey]]:
    """Devices, (device, cidr) addresses, routes and rules a netplan document declares."""
    network = doc.get("network") or {}
    devices: list[str] = []
    addresses: set[tuple[str, str]] = set()
    routes: list[Route] = []
    rules: list[RuleKey] = []
    for section in _SECTIONS:
        for name, conf in (network.get(section) or {}).items():
            conf = conf or {}
            devices.append(name)
            addresses |= {(name, cidr) for cidr in conf.get("addresses") or []}
            for r in conf.get("routes") or []:
                to = r["to"]
                routes.append((to, r.get("via"), name, r.get("from"), int(r.get("table", MAIN))))
            rules += [
                (_host(p["from"]), _host(p.get("to")), int(p["table"]), int(p["priority"]))
                for p in conf.get("routing-policy") or []
            ]
    return devices, addresses, routes, rules


def _host(prefix: str | None) -> str | None:
    """A rule's selector as ``ip -j rule`` spells it: a /32 is the bare address."""
    return prefix[: -len("/32")] if prefix and prefix.endswith("/32") else prefix


def _selector(rule: dict[str, Any], key: str) -> str | None:
    value = rule.get(key)
    if value is None or value == "all":
        return None
    length = rule.get(f"{key}len")
    return value if length in (None, 32) else f"{value}/{length}"


def _ip_json(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out or "[]")


def _table(value: Any) -> int | None:
    if value in (None, "main"):
        return MAIN
    return int(value) if str(value).isdigit() else None  # local, default: not ours


def _live_routes() -> list[tuple[Route, str]]:
    found: list[tuple[Route, str]] = []
    for r in _ip_json("-4", "route", "show", "table", "all"):
        table = _table(r.get("table"))
        if table is None or r.get("protocol") == "kernel" or r.get("type", "unicast") != "unicast":
            continue
        to = r["dst"]
        key = (to, r.get("gateway"), r.get("dev", ""), r.get("prefsrc"), table)
        found.append((key, to))
    return found


def _route_argv(verb: str, route: Route) -> list[str]:
    to, via, dev, src, table = route
    argv = ["ip", "route", verb, to]
    argv += ["via", via] if via else []
    argv += ["dev", dev]
    argv += ["src", src] if src else []
    return [*argv, "table", str(table)]


def converge(doc: dict[str, Any]) -> list[list[str]]:
    """The ip commands that make this namespace what ``doc`` says; runs them, returns them."""
    devices, addresses, routes, rules = wanted(doc)
    links = {link["ifname"]: link for link in _ip_json("link", "show") if link["ifname"] != "lo"}
    links = {name: link for name, link in links.items() if not _is_peer(link)}
    commands: list[list[str]] = []
    for name, link in links.items():
        if name not in devices and link.get("ifalias") == STAND_IN:
            commands.append(["ip", "link", "del", name])
    for n, name in enumerate(devices):
        if name not in links:
            peer = f"lz{n}{os.getpid() % 100000}"
            commands += [
                ["ip", "link", "add", name, "type", "veth", "peer", "name", peer],
                ["ip", "link", "set", name, "alias", STAND_IN],
                ["ip", "link", "set", peer, "up"],
            ]
        commands.append(["ip", "link", "set", name, "up"])
    live_addresses = {
        (a["ifname"], f"{i['local']}/{i['prefixlen']}")
        for a in _ip_json("-4", "address", "show")
        for i in a.get("addr_info", [])
        if a["ifname"] != "lo"
    }
    for dev, cidr in sorted(live_addresses - addresses):
        commands.append(["ip", "address", "del", cidr, "dev", dev])
    commands += [["ip", "address", "replace", cidr, "dev", dev] for dev, cidr in sorted(addresses)]
    for key, _ in _live_routes():
        if key not in routes:
            commands.append(_route_argv("del", key))
    commands += [_route_argv("replace", r) for r in routes]
    live_rules = {
        (_selector(r, "src"), _selector(r, "dst"), _table(r.get("table")), r["priority"])
        for r in _ip_json("-4", "rule", "show")
        if r["priority"] not in _KEEP_PRIORITIES
    }
    for source, to, table, priority in sorted(live_rules - set(rules), key=str):
        commands.append(rule_argv("del", source or "all", to, table or MAIN, priority))
    for source, to, table, priority in rules:
        if (source, to, table, priority) not in live_rules:
            commands.append(rule_argv("add", source or "all", to, table, priority))
    for argv in commands:
        # A route whose device or source went away with an address is gone already.
        subprocess.run(argv, capture_output=True, check=not argv[2] == "del")
    return commands


def _is_peer(link: dict[str, Any]) -> bool:
    """The far end of a stand-in: never a device of the file, gone with its stand-in."""
    return str(link["ifname"]).startswith("lz") and "ifalias" not in link


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m lanes.lab.netplan_apply FILE", file=sys.stderr)
        return 2
    path = Path(argv[0])
    converge(yaml.safe_load(path.read_text()) or {})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
