"""The nftables ruleset of one gateway: one table owned by lanes, replaced atomically by ``nft -f``.

The file first makes sure the table exists, deletes it and defines it again: ``nft -f`` runs all
of that as one transaction, so the kernel either takes the whole new table or keeps the old one,
and no other table (kube-proxy's, docker's) is touched. Every mapping lives in an nft map, so a
packet costs the same few hash lookups with 10 mappings or 10,000.
"""

from __future__ import annotations

from typing import Any

from lanes.gateway import NAT_MAPS, GatewayModel, Ifname, MapEntry, SnatStep, nat_maps

__all__ = ["FAMILY", "render_ruleset"]

FAMILY = "ip"
INDENT = "\t"


def _value(part: Any) -> str:
    return f'"{part}"' if isinstance(part, Ifname) else str(part)


def _element(parts: tuple[Any, ...]) -> str:
    return " . ".join(_value(p) for p in parts)


def _map(name: str, types: tuple[str, str], entries: list[MapEntry]) -> list[str]:
    items = sorted({(_element(e.key), _element(e.value)) for e in entries})
    return [
        f"{INDENT}map {name} {{",
        f"{INDENT * 2}type {types[0]} : {types[1]}",
        f"{INDENT * 2}elements = {{",
        *(f"{INDENT * 3}{k} : {v}," for k, v in items),
        f"{INDENT * 2}}}",
        f"{INDENT}}}",
    ]


def _quote(ifname: str) -> str:
    return _value(Ifname(ifname))


def _maps(model: GatewayModel) -> list[list[str]]:
    blocks = []
    if model.outside_interfaces:
        names = ", ".join(_quote(i) for i in model.outside_interfaces)
        blocks.append(
            [
                f"{INDENT}set outside_interfaces {{",
                f"{INDENT * 2}type ifname",
                f"{INDENT * 2}elements = {{ {names} }}",
                f"{INDENT}}}",
            ]
        )
    maps = nat_maps(model)
    blocks += [_map(name, types, maps[name]) for name, types in NAT_MAPS.items() if maps[name]]
    return blocks


def _prerouting(model: GatewayModel) -> list[str]:
    rules = []
    if model.mappings:
        rules.append("dnat ip to iifname . ip daddr map @mapping_dnat")
    if model.ingress:
        rules.append("dnat ip to ip saddr . ip daddr . tcp dport map @ingress_dnat")
    if model.exposures:
        rules.append("dnat ip to iifname . ip daddr . meta l4proto . th dport map @exposure_dnat")
    return rules


def _snat_rule(step: SnatStep) -> str:
    exempt = f"ip daddr != {step.exempt} " if step.exempt is not None else ""
    if step.kind == "ingress-reply":
        return f"{exempt}snat ip to ip saddr . ip daddr map @ingress_snat"
    if step.kind == "exposure":
        return (
            f"ct status dnat {exempt}snat ip to ct original ip daddr . oifname map @exposure_snat"
        )
    if step.kind == "mapping":
        return f"{exempt}snat ip to oifname . ip saddr map @mapping_snat"
    assert step.egress is not None
    egress = step.egress
    sources = ", ".join(str(s) for s in egress.sources)
    return f"oifname {_quote(egress.interface)} ip saddr {{ {sources} }} {exempt}snat ip to {egress.to}"


def _forward(model: GatewayModel) -> list[str]:
    # An outside network is reached only by what this table translates (DNAT in, SNAT out) and
    # reaches inside only through a DNAT; replies pass. Platform networks route among themselves.
    if not model.outside_interfaces:
        return []
    rules = [
        "ct state established,related accept",
        "ct status dnat accept",
        "iifname @outside_interfaces drop",
    ]
    if model.ingress:
        rules.append("ip saddr . ip daddr @ingress_snat accept")
    if model.mappings:
        rules.append("oifname . ip saddr @mapping_snat accept")
    for egress in model.egress:
        sources = ", ".join(str(s) for s in egress.sources)
        rules.append(
            f"oifname {_quote(egress.interface)} ip saddr {{ {sources} }} "
            f"ip daddr != {egress.exempt} accept"
        )
    return rules + ["oifname @outside_interfaces drop"]


def _chain(name: str, hook: str, priority: str, rules: list[str], kind: str = "nat") -> list[str]:
    return [
        f"{INDENT}chain {name} {{",
        f"{INDENT * 2}type {kind} hook {hook} priority {priority}; policy accept;",
        *(f"{INDENT * 2}{rule}" for rule in rules),
        f"{INDENT}}}",
    ]


def render_ruleset(model: GatewayModel) -> str:
    """The ``nft -f`` file of one gateway; byte-identical for the same model."""
    table = f"table {FAMILY} {model.table}"
    blocks = _maps(model) + [
        _chain("prerouting", "prerouting", "dstnat", _prerouting(model)),
        _chain("postrouting", "postrouting", "srcnat", [_snat_rule(s) for s in model.snat]),
        _chain("forward", "forward", "filter", _forward(model), kind="filter"),
    ]
    body = "\n\n".join("\n".join(block) for block in blocks)
    header = [
        f"# Gateway {model.name} on {model.host}: written by lanes, do not edit.",
        f"# One transaction: create {table} if missing, delete it, define it again.",
        "# No other table is touched.",
        table,
        f"delete {table}",
        f"{table} {{",
    ]
    return "\n".join(header) + "\n" + body + "\n}\n"
