"""Each gateway's NAT and proxies as tables: interfaces, SNAT steps in kernel order, nft maps."""

from __future__ import annotations

from dataclasses import dataclass

from lanes.intents.gateway import GatewayModel, nat_maps

__all__ = ["Table", "GatewayView", "gateway_view"]


@dataclass(frozen=True)
class Table:
    title: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class GatewayView:
    name: str
    host: str
    az: str
    tables: tuple[Table, ...]


def _cell(value: object) -> str:
    if isinstance(value, tuple | list):
        return " . ".join(_cell(v) for v in value)
    return str(value)


def _snat_table(model: GatewayModel) -> Table:
    rows = []
    for i, step in enumerate(model.snat, 1):
        e = step.egress
        what = (
            f"{', '.join(str(s) for s in e.sources)} -> {e.to} on {e.interface}"
            if e
            else "per map (below)"
        )
        rows.append((str(i), step.kind, what, str(step.exempt) if step.exempt else "-"))
    return Table(
        "SNAT, in the order the kernel tries it",
        ("#", "kind", "translates", "never to"),
        tuple(rows),
    )


def _map_tables(model: GatewayModel) -> list[Table]:
    types = model.kinds.nat_maps
    return [
        Table(
            f"map {name}",
            (f"key ({types[name][0]})", f"value ({types[name][1]})", "from"),
            tuple((_cell(m.key), _cell(m.value), m.path) for m in entries),
        )
        for name, entries in nat_maps(model).items()
        if entries
    ]


def _proxy_table(model: GatewayModel) -> Table:
    return Table(
        "proxies (nginx)",
        ("name", "mode", "listen", "upstream", "from"),
        tuple(
            (
                p.name,
                p.mode,
                f"{p.listen}:{p.port}",
                f"{p.upstream}:{p.upstream_port}",
                str(p.source),
            )
            for p in model.proxies
        ),
    )


def gateway_view(model: GatewayModel) -> GatewayView:
    """The tables of one gateway; empty ones left out."""
    tables = [
        Table("interfaces", ("network", "interface"), tuple(model.interfaces)),
        _snat_table(model),
        *_map_tables(model),
    ]
    if model.proxies:
        tables.append(_proxy_table(model))
    return GatewayView(model.name, model.host, model.az, tuple(t for t in tables if t.rows))
