"""Drift: the live network state of a host or gateway against what its config renders.

Pure: this module says what to expect (``expected_targets``), writes the one POSIX sh script
that collects the live state over SSH (``collect_script``, read-only), reads its output
(``parse_live``) and compares (``compare``). ``lanes.remote.verify_run`` connects and runs it.

What is compared, per target (every host of the stack's AZ; a gateway host also gets its
gateway's items):

- ``link <dev>``: every layer-3 device of the model exists and is administratively up.
- ``address <cidr> on <dev>``: the IPv4 addresses of those devices, exactly (missing and
  extra). Devices the model does not name (lo, Calico's, a container runtime's) are not ours.
- ``route ...``: the lanes tables (101..104) exactly, and in the main table the routes a
  config installs (protocol ``static``, networkd's, or ``boot``, iproute2's) on the model's
  devices; kernel-connected routes and other daemons' routes (Calico's BIRD, DHCP) are theirs.
- ``rule ...``: the policy rules at lanes' priorities or pointing at lanes' tables, exactly.
- ``sysctl <key>``: every key of the rendered drop-ins, by value.
- ``file <path>``: every rendered file by SHA-256 (and files lanes must not have, by absence).
- ``nft table ip <table>``: the live table against the rendered ruleset loaded by the remote's
  own nft in a throwaway network namespace (``unshare -n``), both listed with ``nft -s``: the
  same tool and version normalise both sides, so formatting never counts as drift.
- ``nginx``: the lanes nginx runs when the gateway has proxies, with the rendered config as the
  one it last (re)loaded; it does not run when there are none.

Bond membership, VLAN ids and MTUs are not compared yet (the namespace lab has no bond or VLAN
devices to compare them on).
"""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lanes.intents.gateway import GatewayModel, GatewayPaths, content_hash, derive_gateways
from lanes.model.hostnet import (
    MAIN_TABLE,
    POD_RULE_PRIORITIES,
    RULE_PRIORITY_BASE,
    HostNet,
    build_host_net,
)
from lanes.model.plan import Plan
from lanes.render.gateway_scripts import render_gateway
from lanes.render.nftables import FAMILY
from lanes.render.scripts import check_path, check_value, host_files

__all__ = [
    "Drift",
    "GatewayExpect",
    "Target",
    "Live",
    "expected_targets",
    "collect_script",
    "parse_live",
    "compare",
    "format_drift",
]

CONFIG_PROTOCOLS = frozenset({"static", "boot"})
MARK = "@@lanes "
ABSENT = "!absent"
GATEWAY_SYSCTLS = (("net.ipv4.ip_forward", "1"),)

_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_/-]+)+$")


@dataclass(frozen=True, order=True)
class Drift:
    """One difference: the target (host), the item, and what is wrong with it."""

    host: str
    item: str
    message: str

    def __str__(self) -> str:
        return f"{self.host}: {self.item}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"host": self.host, "item": self.item, "message": self.message}


@dataclass(frozen=True)
class GatewayExpect:
    """A gateway's part of a target: its model and its rendered files at the target's root."""

    model: GatewayModel
    ruleset: str
    ruleset_path: str
    nginx_conf: str | None  # None: the gateway has no proxies, so no lanes nginx
    nginx_conf_path: str
    nginx_pid: str
    nginx_loaded: str  # the copy the apply script keeps of what nginx last (re)loaded
    sysctl_path: str


@dataclass(frozen=True)
class Target:
    """What one host must carry: its network model, sysctls and files (path -> content)."""

    name: str
    path: str  # the config path of the host, for messages: hosts[3]
    net: HostNet
    sysctls: tuple[tuple[str, str], ...]
    files: tuple[tuple[str, str | None], ...]  # None: lanes must not have this file
    gateways: tuple[GatewayExpect, ...]
    tables: frozenset[int]  # every routing table lanes owns (one per network kind)


def _join(root: str, path: str) -> str:
    return root.rstrip("/") + path


def _gateway_expect(model: GatewayModel, root: str) -> GatewayExpect:
    paths = GatewayPaths(root)
    files = render_gateway(model, paths)
    return GatewayExpect(
        model=model,
        ruleset=files.ruleset,
        ruleset_path=paths.ruleset,
        nginx_conf=files.nginx,
        nginx_conf_path=paths.nginx_conf,
        nginx_pid=paths.nginx_pid,
        nginx_loaded=f"{paths.state_dir}/nginx.conf.loaded",
        sysctl_path=paths.sysctl_conf,
    )


def expected_targets(plan: Plan, root_of: Callable[[str], str] = lambda name: "/") -> list[Target]:
    """Every host of the stack's AZ with what it must carry; ``root_of(host)`` prefixes paths
    ("/" on real hosts; the lab keeps each host's files under its own directory)."""
    models = derive_gateways(plan)
    targets = []
    for host in plan.stack_hosts():
        root = root_of(host.name)
        net = build_host_net(host, plan)
        gateways = tuple(_gateway_expect(m, root) for m in models if m.host == host.name)
        files: list[tuple[str, str | None]] = [
            (_join(root, f.path), f.content) for f in host_files(net)
        ]
        sysctls = list(net.sysctls)
        for g in gateways:
            files.append((g.ruleset_path, g.ruleset))
            files.append((g.nginx_conf_path, g.nginx_conf))
            files.append((g.sysctl_path, "".join(f"{k} = {v}\n" for k, v in GATEWAY_SYSCTLS)))
            sysctls += GATEWAY_SYSCTLS
        tables = frozenset(k.table for k in plan.kinds)
        targets.append(
            Target(host.name, host.path, net, tuple(sysctls), tuple(files), gateways, tables)
        )
    return targets


# --- collecting the live state (one read-only script per target) -------------------------------


def _section(name: str, *lines: str) -> list[str]:
    return [f"printf '%s\\n' {shlex.quote(MARK + name)}", *lines]


def collect_script(target: Target) -> str:
    """The POSIX sh script that prints the target's live state in ``@@lanes <section>`` parts.

    It changes nothing. The rendered ruleset of each of the target's gateways travels in the
    script (a quoted here-document), and the remote's nft loads it where it touches nothing.
    """
    keys = " ".join(shlex.quote(check_value(_KEY_RE, k, "sysctl")) for k, _ in target.sysctls)
    paths = " ".join(shlex.quote(check_path(p, "file")) for p, _ in target.files)
    lines = [
        "set -u",
        "export LC_ALL=C",
        *_section("links", "ip -j link show"),
        *_section("addresses", "ip -j -4 address show"),
        *_section("routes", "ip -j -4 route show table all"),
        *_section("rules", "ip -j -4 rule show"),
        *_section(
            "sysctls",
            f"for key in {keys}; do",
            f'  printf \'%s=%s\\n\' "$key" "$(sysctl -n "$key" 2>/dev/null || echo {ABSENT})"',
            "done",
        ),
        *_section(
            "files",
            f"for path in {paths}; do",
            '  if [ -f "$path" ]; then sum=$(sha256sum < "$path" | cut -d " " -f 1)',
            f"  else sum={ABSENT}; fi",
            '  printf \'%s %s\\n\' "$sum" "$path"',
            "done",
        ),
    ]
    for g in target.gateways:
        table = shlex.quote(g.model.table)
        listing = f"nft -s list table {FAMILY} {table}"
        end = f"LANES_RULESET_{content_hash(g.ruleset)[:16]}"
        pid = shlex.quote(g.nginx_pid)
        loaded = shlex.quote(g.nginx_loaded)
        lines += [
            *_section(f"nft-live {g.model.table}", f"{listing} 2>/dev/null || echo {ABSENT}"),
            # The rendered file, loaded by this host's own nft where it touches nothing.
            *_section(
                f"nft-rendered {g.model.table}",
                f"unshare -n sh -c {shlex.quote(f'nft -f - && {listing}')} 2>&1 <<'{end}' "
                f"|| echo '!rejected'",
                *_heredoc(g.ruleset, end),
            ),
            *_section(
                f"nginx {g.model.table}",
                f'if [ -f {pid} ] && kill -0 "$(cat {pid})" 2>/dev/null; then echo running;'
                " else echo stopped; fi",
                f"if [ -f {loaded} ]; then sha256sum < {loaded} | cut -d ' ' -f 1;"
                f" else echo {ABSENT}; fi",
            ),
        ]
    return "\n".join(lines) + "\n"


def _heredoc(text: str, end: str) -> list[str]:
    body = text.splitlines()
    if end in body:
        raise ValueError(f"the rendered ruleset holds the line {end!r}")
    return [*body, end]


@dataclass(frozen=True)
class Live:
    """The sections of one target's collect output."""

    sections: dict[str, str]

    def json(self, name: str) -> list[dict[str, Any]]:
        text = self.sections.get(name, "").strip()
        return json.loads(text) if text else []

    def pairs(self, name: str, sep: str) -> dict[str, str]:
        found = {}
        for line in self.sections.get(name, "").splitlines():
            key, _, value = line.partition(sep)
            found[key] = value
        return found


def parse_live(output: str) -> Live:
    """Split the collect output into its sections; raises ValueError when it is not one."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith(MARK):
            current = sections.setdefault(line[len(MARK) :], [])
        elif current is not None:
            current.append(line)
    missing = {"links", "addresses", "routes", "rules", "sysctls", "files"} - set(sections)
    if missing:
        raise ValueError(f"the collect output lacks section(s) {', '.join(sorted(missing))}")
    return Live({name: "\n".join(lines) + "\n" for name, lines in sections.items()})


# --- comparing ----------------------------------------------------------------------------------


def _table_id(value: Any) -> int | str:
    if value in (None, "main"):
        return MAIN_TABLE
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    return str(value)


RouteKey = tuple[str, str, str, str, int | str]


def _route_text(key: RouteKey) -> str:
    to, via, device, source, table = key
    text = f"{to}" + (f" via {via}" if via != "-" else "") + f" dev {device}"
    text += f" src {source}" if source != "-" else ""
    return text + (f" table {table}" if table != MAIN_TABLE else "")


def _compare_set(
    host: str, kind: str, want: set, have: set, text: Callable[[Any], str]
) -> list[Drift]:
    drifts = [Drift(host, f"{kind} {text(k)}", "missing") for k in sorted(want - have, key=str)]
    drifts += [
        Drift(host, f"{kind} {text(k)}", "not in the config") for k in sorted(have - want, key=str)
    ]
    return drifts


def _links(target: Target, live: Live) -> list[Drift]:
    links = {link["ifname"]: link for link in live.json("links")}
    drifts = []
    for device in target.net.layer3():
        link = links.get(device)
        if link is None:
            drifts.append(Drift(target.name, f"link {device}", "missing"))
        elif "UP" not in link.get("flags", []):
            drifts.append(Drift(target.name, f"link {device}", "down"))
    return drifts


def _addresses(target: Target, live: Live) -> list[Drift]:
    devices = set(target.net.layer3())
    want = {(a.cidr, a.device) for a in target.net.addresses}
    have = {
        (f"{info['local']}/{info['prefixlen']}", link["ifname"])
        for link in live.json("addresses")
        if link["ifname"] in devices
        for info in link.get("addr_info", [])
        if info.get("family", "inet") == "inet"
    }
    return _compare_set(target.name, "address", want, have, lambda k: f"{k[0]} on {k[1]}")


def _routes(target: Target, live: Live) -> list[Drift]:
    lanes_tables = target.tables
    devices = set(target.net.layer3())
    want: set[RouteKey] = {
        (r.to, r.via or "-", r.device, r.source or "-", r.table) for r in target.net.routes
    }
    every: set[RouteKey] = set()
    owned: set[RouteKey] = set()
    for r in live.json("routes"):
        table = _table_id(r.get("table"))
        if table not in lanes_tables and table != MAIN_TABLE:
            continue
        if r.get("type", "unicast") != "unicast":
            continue
        key = (r["dst"], r.get("gateway", "-"), r.get("dev", "-"), r.get("prefsrc", "-"), table)
        every.add(key)
        if table in lanes_tables or (
            r.get("dev") in devices and r.get("protocol") in CONFIG_PROTOCOLS
        ):
            owned.add(key)
    drifts = [
        Drift(target.name, f"route {_route_text(k)}", "missing")
        for k in sorted(want - every, key=str)
    ]
    drifts += [
        Drift(target.name, f"route {_route_text(k)}", "not in the config")
        for k in sorted(owned - want, key=str)
    ]
    return drifts


def _selector(rule: dict[str, Any], key: str) -> str:
    value = rule.get(key, "all")
    if f"{key}len" in rule and rule[f"{key}len"] != 32:
        value = f"{value}/{rule[f'{key}len']}"
    return value


def _rule_text(key: tuple[str, str, int, int]) -> str:
    to = "" if key[1] == "all" else f" to {key[1]}"
    return f"from {key[0]}{to} table {key[2]} priority {key[3]}"


def _rules(target: Target, live: Live) -> list[Drift]:
    want = {(r.source, r.to or "all", r.table, r.priority) for r in target.net.rules}
    have = set()
    lanes_tables = target.tables
    priorities = {RULE_PRIORITY_BASE + t for t in lanes_tables} | set(POD_RULE_PRIORITIES)
    for r in live.json("rules"):
        table = _table_id(r.get("table"))
        if r.get("priority") in priorities or table in lanes_tables:
            have.add((_selector(r, "src"), _selector(r, "dst"), table, r.get("priority")))
    return _compare_set(target.name, "rule", want, have, _rule_text)


def _sysctls(target: Target, live: Live) -> list[Drift]:
    have = live.pairs("sysctls", "=")
    drifts = []
    for key, value in target.sysctls:
        got = have.get(key, ABSENT).strip()
        if got == ABSENT:
            drifts.append(Drift(target.name, f"sysctl {key}", f"missing, config says {value}"))
        elif got.split() != value.split():
            drifts.append(Drift(target.name, f"sysctl {key}", f"{got}, config says {value}"))
    return drifts


def _files(target: Target, live: Live) -> list[Drift]:
    have = {path: digest for digest, path in (x.split(" ", 1) for x in _lines(live, "files"))}
    drifts = []
    for path, content in target.files:
        got = have.get(path, ABSENT)
        if content is None:
            if got != ABSENT:
                drifts.append(Drift(target.name, f"file {path}", "present, config has none"))
        elif got == ABSENT:
            drifts.append(Drift(target.name, f"file {path}", "missing"))
        elif got != content_hash(content):
            drifts.append(Drift(target.name, f"file {path}", "differs from the rendered file"))
    return drifts


def _lines(live: Live, section: str) -> list[str]:
    return [line for line in live.sections.get(section, "").splitlines() if line.strip()]


def _nft(target: Target, g: GatewayExpect, live: Live) -> list[Drift]:
    item = f"nft table {FAMILY} {g.model.table}"
    have = _lines(live, f"nft-live {g.model.table}")
    want = _lines(live, f"nft-rendered {g.model.table}")
    if want[-1:] == ["!rejected"] or not want:
        return [Drift(target.name, item, "this host's nft rejects the rendered ruleset")]
    if have == [ABSENT]:
        return [Drift(target.name, item, "missing")]
    want_items, have_items = _nft_items(want), _nft_items(have)
    drifts = []
    for what, items, other in (
        ("missing", want_items, have_items),
        ("not in the config", have_items, want_items),
    ):
        left = Counter(other)
        for block, text in items:
            if left[block, text] > 0:
                left[block, text] -= 1
                continue
            where = f" ({block})" if block else ""
            drifts.append(Drift(target.name, item, f"{what}{where}: {text}"))
    return drifts


def _nft_items(lines: list[str]) -> list[tuple[str, str]]:
    """``nft list`` lines as (chain or map, statement) items; a map's or set's elements one per
    item, however nft wraps them, so one changed element is one drift."""
    items: list[tuple[str, str]] = []
    block, in_elements = "", False
    for line in lines:
        text = line.strip()
        if text.startswith(("chain ", "map ", "set ")):
            block = text.rstrip(" {")
        if text.startswith("elements = {"):
            in_elements, text = True, text.removeprefix("elements = {")
        if in_elements:
            in_elements = not text.endswith("}")
            entries = text.rstrip("}").split(",")
            items += [(block, f"element {e.strip()}") for e in entries if e.strip()]
            continue
        items.append((block, text))
    return items


def _nginx(target: Target, g: GatewayExpect, live: Live) -> list[Drift]:
    state, loaded = (_lines(live, f"nginx {g.model.table}") + ["", ""])[:2]
    if g.nginx_conf is None:
        if state == "running":
            return [Drift(target.name, "nginx", "running, config has no proxies")]
        return []
    if state != "running":
        return [Drift(target.name, "nginx", "not running")]
    if loaded != content_hash(g.nginx_conf):
        return [Drift(target.name, "nginx", "last loaded another config than the rendered one")]
    return []


def compare(target: Target, live: Live) -> list[Drift]:
    """Every drift of one target, in a stable order: links, addresses, routes, rules, sysctls,
    files, then each gateway's table and nginx."""
    drifts = [
        *_links(target, live),
        *_addresses(target, live),
        *_routes(target, live),
        *_rules(target, live),
        *_sysctls(target, live),
        *_files(target, live),
    ]
    for g in target.gateways:
        drifts += _nft(target, g, live) + _nginx(target, g, live)
    return drifts


def format_drift(drifts: list[Drift]) -> str:
    return "".join(f"{d}\n" for d in drifts)
