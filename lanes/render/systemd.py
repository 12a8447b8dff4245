"""systemd units that bring a gateway back after a reboot: the lanes table, forwarding, nginx.

``lanes-gateway.service`` loads the table that was last loaded (the state copy, not the config
file: a ruleset the kernel rejected never becomes the boot ruleset) after the distribution's
``nftables.service`` (whose ``flush ruleset`` would wipe it) and before the network comes up,
then turns forwarding on, so nothing is forwarded before the NAT rules exist.
``lanes-gateway-nginx.service`` starts the lanes nginx exactly as the apply script does (same
prefix, config, pid and error log, so a later ``-s reload`` finds it). Each unit runs only while
its file exists: a rollback or a removed proxy leaves a unit that does nothing rather than fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lanes.intents.gateway import GatewayPaths

__all__ = ["Unit", "TABLE_UNIT", "NGINX_UNIT", "unit_dir", "render_units", "start_commands"]

TABLE_UNIT = "lanes-gateway.service"
NGINX_UNIT = "lanes-gateway-nginx.service"
NFT = "/usr/sbin/nft"
SYSCTL = "/usr/sbin/sysctl"
NGINX = "/usr/sbin/nginx"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Unit:
    """A unit file: its name, the target that wants it, its text."""

    name: str
    wanted_by: str
    content: str


def unit_dir(paths: GatewayPaths) -> str:
    return paths.root.rstrip("/") + "/etc/systemd/system"


def _render(sections: list[tuple[str, list[tuple[str, str]]]], comment: str) -> str:
    lines = [f"# {comment}", "# Written by lanes: edit the stack config, not this file."]
    for title, items in sections:
        lines += ["", f"[{title}]", *(f"{key}={value}" for key, value in items)]
    return "\n".join(lines) + "\n"


def _nginx_argv(paths: GatewayPaths, *extra: str) -> str:
    args = [NGINX, "-p", f"{paths.nginx_prefix}/", "-c", paths.nginx_conf, "-e"]
    return " ".join([*args, paths.nginx_error_log, *extra])


def render_units(name: str, paths: GatewayPaths, proxies: bool) -> tuple[Unit, ...]:
    """The gateway's units, in start order (nginx only when it has proxies)."""
    if not _NAME_RE.match(name):
        raise ValueError(f"name: {name!r} is not allowed in a unit")
    loaded = f"{paths.state_dir}/lanes.nft.loaded"
    table = _render(
        [
            (
                "Unit",
                [
                    ("Description", f"lanes gateway {name}: nft table ip lanes and forwarding"),
                    ("DefaultDependencies", "no"),
                    ("Wants", "network-pre.target"),
                    ("Before", "network-pre.target shutdown.target"),
                    ("After", "local-fs.target nftables.service systemd-sysctl.service"),
                    ("Conflicts", "shutdown.target"),
                    ("ConditionPathExists", loaded),
                ],
            ),
            (
                "Service",
                [
                    ("Type", "oneshot"),
                    ("RemainAfterExit", "yes"),
                    ("ExecStart", f"{NFT} -f {loaded}"),
                    ("ExecStart", f"{SYSCTL} -q -p {paths.sysctl_conf}"),
                ],
            ),
            ("Install", [("WantedBy", "sysinit.target")]),
        ],
        f"Gateway {name}: the lanes table, then forwarding, at boot.",
    )
    units = [Unit(TABLE_UNIT, "sysinit.target", table)]
    if proxies:
        nginx = _render(
            [
                (
                    "Unit",
                    [
                        ("Description", f"lanes gateway {name}: the lanes nginx (proxies)"),
                        ("Wants", "network-online.target"),
                        ("After", f"network-online.target {TABLE_UNIT}"),
                        ("ConditionPathExists", paths.nginx_conf),
                    ],
                ),
                (
                    "Service",
                    [
                        ("Type", "forking"),
                        ("PIDFile", paths.nginx_pid),
                        ("ExecStartPre", _nginx_argv(paths, "-t", "-q")),
                        ("ExecStart", _nginx_argv(paths)),
                        ("ExecReload", _nginx_argv(paths, "-s", "reload")),
                        ("ExecStop", _nginx_argv(paths, "-s", "quit")),
                    ],
                ),
                ("Install", [("WantedBy", "multi-user.target")]),
            ],
            f"Gateway {name}: the lanes nginx at boot, as the apply script starts it.",
        )
        units.append(Unit(NGINX_UNIT, "multi-user.target", nginx))
    return tuple(units)


def start_commands(content: str) -> list[list[str]]:
    """The ExecStartPre and ExecStart lines of a unit, in order, as argv lists (what systemd
    runs to start it; the lab runs them to emulate a boot)."""
    commands = []
    for line in content.splitlines():
        key, _, value = line.partition("=")
        if key in ("ExecStartPre", "ExecStart"):
            commands.append(value.lstrip("-@+!").split())
    return commands
