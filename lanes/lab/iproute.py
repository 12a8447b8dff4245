"""A host network model as iproute2 commands: how a namespace host of the lab carries it."""

from __future__ import annotations

from lanes.model.hostnet import HostNet

__all__ = ["ip_commands", "rule_argv"]


def ip_commands(net: HostNet, devices: dict[str, str] | None = None) -> list[list[str]]:
    """The model as iproute2 argv lists (addresses, routes, rules), for a namespace host.

    ``devices`` renames the model's devices to the ones that stand in for them (this kernel
    has no bond or VLAN devices: the lab maps ``bond0.200`` to a plain veth). Links are the
    lab's to create; these commands only configure them. Addresses and routes use ``replace``
    and may run again; ``ip rule add`` has no replace, so a re-run deletes the rules first.
    Sysctls are ``net.sysctls`` (per network namespace: apply them with ``sysctl -w``).
    """
    rename = devices or {}

    def dev(name: str) -> str:
        return rename.get(name, name)

    commands = [["ip", "address", "replace", a.cidr, "dev", dev(a.device)] for a in net.addresses]
    for route in net.routes:
        argv = ["ip", "route", "replace", route.to]
        argv += ["via", route.via] if route.via else []
        argv += ["dev", dev(route.device)]
        argv += ["src", route.source] if route.source else []
        argv += ["table", str(route.table)]
        commands.append(argv)
    commands += [rule_argv("add", r.source, r.to, r.table, r.priority) for r in net.rules]
    return commands


def rule_argv(verb: str, source: str, to: str | None, table: int, priority: int) -> list[str]:
    """``ip rule <verb> from <source> [to <to>] table <table> priority <priority>``."""
    argv = ["ip", "rule", verb, "from", source]
    argv += ["to", to] if to else []
    return [*argv, "table", str(table), "priority", str(priority)]
