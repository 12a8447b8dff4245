"""The lab's ``netplan apply``: netplan's own compiler and merge, then the namespace converged.

A namespace has no networkd. This stand-in does what ``netplan apply`` does up to networkd: the
real ``netplan get all`` parses every file of ``/etc/netplan`` with netplan's own parser (a file
netplan rejects fails the apply, as on a real host) and merges them (the lab's base file, like a
distribution's, and lanes' ``60-lanes.yaml``), and the namespace is converged on the result with
the same ``ip`` commands as ``lanes.lab.iproute``: links' MTU, addresses, routes, policy rules.
A device the files name that the namespace lacks (a wrong VLAN id, a wrong NIC) becomes a
stand-in (one end of a veth pair, as this kernel has no dummy, bond or VLAN devices): up,
addressed, and connected to nothing, like a VLAN no switch port carries; stand-ins the files no
longer name are deleted; addresses, routes and rules the files do not hold go away (connected
and local routes are the kernel's, and routes of routing daemons, BIRD's, are theirs).

Run inside a lab host's view: ``netplan apply`` (the shim), or
``python -m lanes.lab.standins netplan apply``; ``converge(doc)`` for a document in hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import yaml

__all__ = ["wanted", "converge", "merged_config", "main"]

NETPLAN = "/usr/sbin/netplan"
MAIN = 254
_KEEP_PRIORITIES = {0, 32766, 32767}
_SECTIONS = ("ethernets", "bonds", "vlans")
# Routes other tools own: the kernel's, and routing daemons' (BIRD's learnt pod blocks).
_OURS = {None, "boot", "static"}
STAND_IN = "lanes-netplan-stand-in"  # the ifalias that marks the devices this module made

Route = tuple[str, str | None, str, str | None, int]  # to, via, dev, src, table
RuleKey = tuple[str | None, str | None, int, int]  # from (None: all), to, table, priority


def wanted(
    doc: dict[str, Any],
) -> tuple[list[str], set[tuple[str, str]], list[Route], list[RuleKey], dict[str, int]]:
    """Devices, (device, cidr) addresses, routes, rules and MTUs a netplan document declares."""
    network = doc.get("network") or {}
    devices: list[str] = []
    addresses: set[tuple[str, str]] = set()
    routes: list[Route] = []
    rules: list[RuleKey] = []
    mtus: dict[str, int] = {}
    for section in _SECTIONS:
        for name, conf in (network.get(section) or {}).items():
            conf = conf or {}
            devices.append(name)
            if conf.get("mtu") is not None:
                mtus[name] = int(conf["mtu"])
            addresses |= {(name, cidr) for cidr in conf.get("addresses") or []}
            for r in conf.get("routes") or []:
                to = "default" if r["to"] in ("default", "0.0.0.0/0") else r["to"]
                routes.append((to, r.get("via"), name, r.get("from"), int(r.get("table", MAIN))))
            rules += [
                (_host(p["from"]), _host(p.get("to")), int(p["table"]), int(p["priority"]))
                for p in conf.get("routing-policy") or []
            ]
    return devices, addresses, routes, rules, mtus


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


def _live_routes() -> list[Route]:
    found: list[Route] = []
    for r in _ip_json("-4", "route", "show", "table", "all"):
        table = _table(r.get("table"))
        if table is None or r.get("protocol") not in _OURS or r.get("type", "unicast") != "unicast":
            continue
        found.append((r["dst"], r.get("gateway"), r.get("dev", ""), r.get("prefsrc"), table))
    return found


def _route_argv(verb: str, route: Route) -> list[str]:
    to, via, dev, src, table = route
    argv = ["ip", "route", verb, to]
    argv += ["via", via] if via else []
    argv += ["dev", dev]
    argv += ["src", src] if src else []
    return [*argv, "table", str(table)]


def _rule_argv(verb: str, source: str, to: str | None, table: int, priority: int) -> list[str]:
    argv = ["ip", "rule", verb, "from", source]
    argv += ["to", to] if to else []
    return [*argv, "table", str(table), "priority", str(priority)]


def converge(doc: dict[str, Any]) -> list[list[str]]:
    """The ip commands that make this namespace what ``doc`` says; runs them, returns them."""
    devices, addresses, routes, rules, mtus = wanted(doc)
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
        if name in mtus and links.get(name, {}).get("mtu") != mtus[name]:
            commands.append(["ip", "link", "set", name, "mtu", str(mtus[name])])
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
    for key in _live_routes():
        if key not in routes:
            commands.append(_route_argv("del", key))
    commands += [_route_argv("replace", r) for r in routes]
    live_rules = {
        (_selector(r, "src"), _selector(r, "dst"), _table(r.get("table")), r["priority"])
        for r in _ip_json("-4", "rule", "show")
        if r["priority"] not in _KEEP_PRIORITIES
    }
    for source, to, table, priority in sorted(live_rules - set(rules), key=str):
        commands.append(_rule_argv("del", source or "all", to, table or MAIN, priority))
    for source, to, table, priority in rules:
        if (source, to, table, priority) not in live_rules:
            commands.append(_rule_argv("add", source or "all", to, table, priority))
    for argv in commands:
        # A route whose device or source went away with an address is gone already.
        subprocess.run(argv, capture_output=True, check=not argv[2] == "del")
    return commands


def _is_peer(link: dict[str, Any]) -> bool:
    """The far end of a stand-in: never a device of the file, gone with its stand-in."""
    return str(link["ifname"]).startswith("lz") and "ifalias" not in link


def merged_config() -> dict[str, Any]:
    """Every file of /etc/netplan parsed and merged by netplan itself (its parser refuses what
    ``netplan apply`` refuses). Raises ValueError with netplan's own message."""
    get = subprocess.run([NETPLAN, "get", "all"], capture_output=True, text=True)
    if get.returncode != 0:
        said = [line for line in get.stderr.splitlines() if not line.startswith(("Traceback", " "))]
        raise ValueError("\n".join(said[-3:]) or f"netplan get: exit {get.returncode}")
    return yaml.safe_load(get.stdout) or {}


def main(argv: list[str]) -> int:
    if argv != ["apply"]:
        print("usage: netplan apply (the lab's stand-in)", file=sys.stderr)
        return 2
    try:
        doc = merged_config()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    converge(doc)
    return 0
