"""The nftables ruleset of one gateway: one table owned by lanes, replaced atomically by ``nft -f``.

The file first makes sure the table exists, deletes it and defines it again: ``nft -f`` runs all
of that as one transaction, so the kernel either takes the whole new table or keeps the old one,
and no other table (kube-proxy's, docker's) is touched. Every mapping lives in an nft map, so a
packet costs the same few hash lookups with 10 mappings or 10,000. The maps, DNAT, SNAT and
forward rules of each intent kind come from its module (``lanes.intents``); this module lays
them out.
"""

from __future__ import annotations

from lanes.intents.base import IntentKind, nft_value
from lanes.intents.gateway import GatewayModel, Ifname, MapEntry, SnatStep, nat_maps

__all__ = ["FAMILY", "render_ruleset"]

FAMILY = "ip"
INDENT = "\t"


def _element(parts: tuple) -> str:
    return " . ".join(nft_value(p) for p in parts)


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


def _maps(model: GatewayModel) -> list[list[str]]:
    blocks = []
    if model.outside_interfaces:
        names = ", ".join(nft_value(Ifname(i)) for i in model.outside_interfaces)
        blocks.append(
            [
                f"{INDENT}set outside_interfaces {{",
                f"{INDENT * 2}type ifname",
                f"{INDENT * 2}elements = {{ {names} }}",
                f"{INDENT}}}",
            ]
        )
    maps = nat_maps(model)
    blocks += [
        _map(name, types, maps[name]) for name, types in model.kinds.nat_maps.items() if maps[name]
    ]
    return blocks


def _prerouting(model: GatewayModel) -> list[str]:
    return [
        rule
        for kind in model.kinds
        if (entries := kind.entries(model))
        for rule in kind.prerouting(entries)
    ]


def _snat_rule(model: GatewayModel, step: SnatStep) -> str:
    kind: IntentKind | None = model.kinds.step_kind(step.kind)
    if kind is None:
        raise ValueError(f"no intent kind makes SNAT steps of kind {step.kind!r}")
    return kind.postrouting(step)


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
    for kind in model.kinds.by_rank():
        if entries := kind.entries(model):
            rules += kind.forward(entries)
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
        _chain("postrouting", "postrouting", "srcnat", [_snat_rule(model, s) for s in model.snat]),
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
