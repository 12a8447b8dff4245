"""Render the region's address plan as JSON, CSV and text tables (for people and for diffs)."""

from __future__ import annotations

import csv
import io
import json

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from lanes.model.plan import HostPlan, Plan

__all__ = [
    "TEXT_WIDTH",
    "CSV_COLUMNS",
    "plan_rows",
    "render_json",
    "render_csv",
    "plan_tables",
    "render_text",
    "render_files",
]

CSV_COLUMNS = ("kind", "network", "zone", "az", "cidr", "size", "gateway", "host", "role", "number")
TEXT_WIDTH = 140


def render_json(plan: Plan) -> str:
    """The whole plan as JSON, in the plan's own (sorted) order."""
    return json.dumps(plan.to_dict(), indent=2) + "\n"


def plan_rows(plan: Plan) -> list[dict[str, str]]:
    """One row per allocation: networks, zones, AZ blocks, reserved blocks, outsides, the line,
    host addresses."""
    rows: list[dict[str, str]] = []

    def add(kind: str, **values: object) -> None:
        rows.append(
            {col: "" if values.get(col) is None else str(values[col]) for col in CSV_COLUMNS}
            | {"kind": kind}
        )

    for net in plan.networks:
        add("network", network=net.name, cidr=net.cidr, size=net.cidr.size)
        for zone in net.zones:
            if zone.reserved:
                add(
                    "reserved",
                    network=net.name,
                    zone=zone.name,
                    cidr=zone.cidr,
                    size=zone.cidr.size,
                )
                continue
            if zone.name is not None:
                add("zone", network=net.name, zone=zone.name, cidr=zone.cidr, size=zone.cidr.size)
            for block in zone.blocks:
                add(
                    "block",
                    network=net.name,
                    zone=zone.name,
                    az=block.az,
                    cidr=block.cidr,
                    size=block.size,
                    gateway=block.gateway,
                )
            for cidr in zone.reserved_blocks:
                add("reserved", network=net.name, zone=zone.name, cidr=cidr, size=cidr.size)
        for cidr in net.reserved:
            add("reserved", network=net.name, cidr=cidr, size=cidr.size)
    for out in plan.outside:
        add("outside", network=out.name, cidr=out.cidr, size=out.cidr.size, gateway=out.gateway)
    if plan.line is not None:
        add("line", network=plan.line.name, cidr=plan.line.cidr, size=plan.line.cidr.size)
    for host in plan.hosts:
        for entry in host.addresses:
            add(
                "address",
                network=entry.network,
                zone=entry.zone,
                az=host.az,
                cidr=entry.interface,
                gateway=entry.gateway,
                host=host.name,
                role=host.role,
                number=host.number,
            )
    return rows


def render_csv(plan: Plan) -> str:
    """``plan_rows`` as CSV with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(plan_rows(plan))
    return buffer.getvalue()


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for col in columns:
        table.add_column(
            col, no_wrap=True, justify="right" if col in {"size", "#", "vlan", "mtu"} else "left"
        )
    return table


def _host_cell(host: HostPlan, network: str) -> str:
    return (
        "\n".join(
            f"{a.address}" + (f" ({a.zone})" if a.zone else "")
            for a in host.addresses
            if a.network == network
        )
        or "-"
    )


def _outside_cell(host: HostPlan, plan: Plan) -> str:
    """The host's outside addresses, then its address on the line (an AZ router)."""
    lines = []
    names = [out.name for out in plan.outside] + ([plan.line.name] if plan.line else [])
    for name in names:
        addresses = [str(a.address) for a in host.addresses if a.network == name]
        lines += [f"{name if i == 0 else ' ' * len(name)} {a}" for i, a in enumerate(addresses)]
    return "\n".join(lines) or "-"


def plan_tables(plan: Plan) -> Group:
    """The plan as rich tables: networks (outside ones and the line too), blocks (AZ and
    reserved), hosts."""
    heading = Text(
        f"Region {plan.region} ({plan.environment}), AZs {', '.join(plan.azs)}; this stack: {plan.az}\n"
    )
    networks = _table("Networks", "network", "cidr", "size", "vlan", "mtu")
    for seg in plan.segments:
        networks.add_row(
            seg.name if seg.scope == "platform" else f"{seg.name} ({seg.scope})",
            str(seg.cidr),
            f"{seg.cidr.size:,}",
            str(seg.vlan or "-"),
            str(seg.mtu or "-"),
        )
    line = plan.line
    blocks = _table("Blocks", "network", "zone", "az", "cidr", "size", "gateway")
    for row in plan_rows(plan):
        if row["kind"] in {"zone", "block", "reserved"}:
            az = row["az"] or ("reserved" if row["kind"] == "reserved" else "(zone)")
            size = f"{int(row['size']):,}"
            blocks.add_row(
                row["network"], row["zone"] or "-", az, row["cidr"], size, row["gateway"] or "-"
            )
    columns = [(net.name, plan.kinds.kind(net.name)) for net in plan.networks]
    headings = [row.heading if row else name for name, row in columns]
    last = "outside, line" if line is not None else "outside"
    hosts = _table("Hosts", "host", "az", "role", "#", *headings, last)
    for host in plan.hosts:
        hosts.add_row(
            host.name,
            host.az,
            host.role,
            str(host.number),
            *(_host_cell(host, name) for name, _ in columns),
            _outside_cell(host, plan),
        )
    return Group(heading, networks, blocks, hosts)


def render_text(plan: Plan, width: int = TEXT_WIDTH) -> str:
    """``plan_tables`` as plain text (no colour), the same bytes on every machine."""
    console = Console(
        width=width, record=True, color_system=None, force_terminal=False, file=io.StringIO()
    )
    console.print(plan_tables(plan))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def render_files(plan: Plan) -> dict[str, str]:
    """The files ``plan --out`` writes, name -> content."""
    return {
        "plan.json": render_json(plan),
        "plan.csv": render_csv(plan),
        "plan.txt": render_text(plan),
    }
