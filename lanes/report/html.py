"""The report as one self-contained HTML page: inline SVG and CSS, no script, nothing fetched."""

from __future__ import annotations

from lanes.report.markup import Element, el, raw, serialize
from lanes.report.matrix import Matrix
from lanes.report.model import HostRow, Report
from lanes.report.space import Bar
from lanes.report.svg import Palette, bar_svg, colour, outside_svg, space_svg, topology_svg
from lanes.report.tables import GatewayView, Table
from lanes.report.topology import AzView, ExposurePath

__all__ = ["render_html"]

# The page may load nothing: a reviewer opening a report must not leak the plan anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 0 auto; padding: 0 24px 48px;
  max-width: 1480px; color: #1d1d1d; background: #fff; font-size: 14px; }
h1 { font-size: 24px; margin: 24px 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.lead, p.note { color: #444; margin: 4px 0 10px; }
nav a { margin-right: 14px; color: #2f6fb0; }
.figure { overflow-x: auto; border: 1px solid #e4e4e4; border-radius: 6px; padding: 8px;
  background: #fcfcfc; margin-bottom: 10px; }
.figure svg { display: block; }
table { border-collapse: collapse; margin: 4px 0 14px; font-size: 12.5px; }
th, td { border: 1px solid #d8d8d8; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.mono, .mono { font-family: "DejaVu Sans Mono", Menlo, monospace; }
.usage { font-size: 11.5px; }
.legend span { display: inline-block; margin-right: 16px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
  vertical-align: -1px; border-radius: 2px; }
.path { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin: 6px 0; }
.hop { border: 1px solid #c9b3df; background: #f6f0fb; border-radius: 5px; padding: 3px 8px; }
.hop b { display: block; font-size: 12px; }
.arrow { color: #c62828; font-weight: bold; }
.gateways { display: grid; grid-template-columns: repeat(auto-fill, minmax(640px, 1fr)); gap: 8px 28px; }
table.matrix td, table.matrix th { padding: 2px 5px; text-align: center; font-size: 11.5px; }
table.matrix th.col { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
td.reach { background: #b9e4c4; } td.blocked { background: #c9d3e6; }
td.fail { background: #f29b9b; font-weight: bold; }
caption { text-align: left; font-weight: bold; padding: 2px 0; }
details { margin: 6px 0; } summary { cursor: pointer; font-weight: bold; }
"""


def _swatch(fill: str) -> Element:
    return el("span", {"class_": "swatch", "style": f"background:{fill}"})


def _legend(palette: Palette) -> Element:
    items = list(palette.items())
    items += [
        ("outside", colour(palette, "outside")),
        ("reserved", "#d9d9d9"),
        ("hosts used", "#1b1b1b"),
    ]
    return el("p", {"class_": "legend"}, *(el("span", None, _swatch(c), n) for n, c in items))


def _table(table: Table, class_: str | None = None) -> Element:
    return el(
        "table",
        {"class_": class_},
        el("caption", None, table.title) if table.title else None,
        el("thead", None, el("tr", None, *(el("th", None, h) for h in table.head))),
        el(
            "tbody",
            None,
            *(
                el("tr", None, *(el("td", {"class_": "mono"}, c) for c in row))
                for row in table.rows
            ),
        ),
    )


def _figure(svg: Element) -> Element:
    return el("div", {"class_": "figure"}, svg)


def _usage(bar: Bar) -> Element:
    """The blocks' host counts in words (the bars show them as dark marks)."""
    blocks = [s for s in bar.rows[-1] if s.kind == "block"]
    return el(
        "p",
        {"class_": "note mono usage"},
        "; ".join(
            f"{' '.join(filter(None, (s.zone, s.label)))} {s.cidr}: {s.used} used, {s.free} free"
            for s in blocks
        ),
    )


def _space(report: Report) -> list[Element]:
    parts: list[Element] = [
        el("h2", {"id": "space"}, "Address space, to scale"),
        el(
            "p",
            {"class_": "lead"},
            f"Everything the platform owns is carved from {report.space.cidr} (RFC 6598). "
            "Each bar is drawn to scale; dark marks are host addresses in use.",
        ),
        _legend(report.palette),
        _figure(space_svg(report.space, report.palette)),
    ]
    for bar in report.networks:
        parts.append(
            el(
                "h3",
                {"data-network": bar.name},
                el("span", {"style": f"color:{colour(report.palette, bar.name)}"}, bar.name),
                f" {bar.cidr} ({bar.note})",
            )
        )
        parts.append(_figure(bar_svg(bar, report.palette)))
        parts.append(_usage(bar))
    if report.outside:
        parts.append(el("h3", None, "Outside networks (not the platform's; they may overlap)"))
    for i, group in enumerate(report.outside):
        names = ", ".join(f"{s.label} {s.cidr}" for s in group.members)
        parts.append(
            el(
                "p",
                {"class_": "note"},
                *(el("span", {"data-network": s.label}) for s in group.members),
                f"on the scale of {group.cidr}: {names}",
                f"; overlapping: {', '.join(s.label for s in group.overlaps)}"
                if group.overlaps
                else "",
            )
        )
        parts.append(_figure(outside_svg(group, i)))
    return parts


def _exposure(path: ExposurePath) -> Element:
    hops: list[Element] = []
    for k, (where, address) in enumerate(path.hops()):
        if k:
            hops.append(el("span", {"class_": "arrow"}, "→"))
        hops.append(el("span", {"class_": "hop"}, el("b", None, where), address or None))
    return el(
        "div",
        {"class_": "path", "data-exposure": path.name},
        el("strong", None, f"{path.name} ({path.protocol}/{path.port}):"),
        *hops,
    )


def _view(view: AzView, palette: Palette) -> list[Element]:
    title = f"{view.az} (applied by this stack)" if view.managed else view.az
    note = f"{view.host_count} hosts"
    if view.grouped:
        note += "; hosts are grouped per role and NIC layout (the host table below lists each)"
    parts: list[Element] = [
        el("h3", {"id": f"topology-{view.az}"}, title),
        el("p", {"class_": "note"}, note),
    ]
    if not view.nodes:
        return [*parts, el("p", {"class_": "note"}, "no host in this AZ yet")]
    parts.append(_figure(topology_svg(view, palette)))
    if view.exposures:
        via = view.exposure_network
        parts.append(el("h3", None, f"Exposures through the {via} network ({view.az})"))
        parts += [_exposure(p) for p in view.exposures]
    return parts


def _gateway(view: GatewayView) -> Element:
    return el(
        "section",
        {"class_": "gateway", "data-gateway": view.name},
        el("h3", {"id": f"gateway-{view.name}"}, f"{view.name} on {view.host} ({view.az})"),
        *(_table(t) for t in view.tables),
    )


def _matrix(matrix: Matrix) -> list[Element]:
    head = el(
        "tr",
        None,
        el("th", None, "from \\ to"),
        *(el("th", {"class_": "col"}, t) for t in matrix.targets),
    )
    rows = []
    for source in matrix.sources:
        cells: list[Element] = [el("th", None, source)]
        for target in matrix.targets:
            cell = matrix.cell(source, target)
            if cell is None:
                cells.append(el("td", None))
                continue
            text = f"{len(cell.flows)}" if not cell.failed else f"{cell.failed}✗"
            tip = "\n".join(f.describe() for f in cell.flows)
            cells.append(el("td", {"class_": cell.state, "title": tip}, text))
        rows.append(el("tr", None, *cells))
    summary = (
        f"{matrix.flows - matrix.failed}/{matrix.flows} flows pass, {matrix.failed} fail "
        f"(stack {matrix.stack or '?'}). Cells count the flows from a row to a column: "
    )
    return [
        el("h2", {"id": "matrix"}, "Reachability matrix (lanes lab check)"),
        el(
            "p",
            {"class_": "legend"},
            summary,
            el("span", None, _swatch("#b9e4c4"), "reached as expected"),
            el("span", None, _swatch("#c9d3e6"), "refused as expected"),
            el("span", None, _swatch("#f29b9b"), "failing (✗ count)"),
        ),
        el("div", {"class_": "figure"}, el("table", {"class_": "matrix"}, head, *rows)),
    ]


def _host_rows(rows: list[HostRow]) -> Element:
    networks = list(dict.fromkeys(n for r in rows for n, _ in r.addresses))
    head = el(
        "tr",
        None,
        *(el("th", None, h) for h in ("host", "#", "role")),
        *(el("th", None, n) for n in networks),
    )
    body = []
    for r in rows:
        mine: dict[str, list[str]] = {}
        for network, address in r.addresses:
            mine.setdefault(network, []).append(address)
        body.append(
            el(
                "tr",
                {"data-host": r.name},
                el("td", None, r.name),
                el("td", None, str(r.number)),
                el("td", None, r.role),
                *(el("td", {"class_": "mono"}, " ".join(mine.get(n, []))) for n in networks),
            )
        )
    return el("table", None, el("thead", None, head), el("tbody", None, *body))


def _hosts(report: Report) -> list[Element]:
    parts: list[Element] = [el("h2", {"id": "hosts"}, "Hosts")]
    for az in report.azs:
        rows = [r for r in report.hosts if r.az == az]
        parts.append(
            el(
                "details",
                {"open": "" if az == report.az and len(rows) <= 100 else None},
                el("summary", None, f"{az}: {len(rows)} hosts"),
                _host_rows(rows) if rows else el("p", {"class_": "note"}, "none"),
            )
        )
    return parts


def _header(report: Report) -> list[Element]:
    gateways = len(report.gateways)
    links = [("space", "address space"), *((f"topology-{v.az}", v.az) for v in report.views)]
    links += [("gateways", "gateways"), ("hosts", "hosts")]
    if report.matrix is not None:
        links.append(("matrix", "matrix"))
    return [
        el("h1", None, f"lanes: {report.region} ({report.environment})"),
        el(
            "p",
            {"class_": "lead"},
            f"Stack {report.stack} applies {report.az}; the region has {len(report.azs)} AZ(s) "
            f"({', '.join(report.azs)}), {len(report.hosts)} hosts and {gateways} gateway(s).",
        ),
        el("nav", None, *(el("a", {"href": f"#{anchor}"}, text) for anchor, text in links)),
    ]


def render_html(report: Report) -> str:
    """The whole page; the same report gives the same bytes."""
    body: list[Element] = [*_header(report), *_space(report)]
    body.append(el("h2", {"id": "topology"}, "Topology per AZ"))
    body.append(
        el(
            "p",
            {"class_": "lead"},
            "Networks are lanes (outside on the left, the platform's on the right); every "
            "address of a host is a leg from its line to its network. Gateways are orange.",
        )
    )
    for view in report.views:
        body += _view(view, report.palette)
    body.append(el("h2", {"id": "gateways"}, "Gateways: NAT and proxies"))
    body.append(el("div", {"class_": "gateways"}, *(_gateway(g) for g in report.gateways)))
    if report.matrix is not None:
        body += _matrix(report.matrix)
    body += _hosts(report)
    title = f"lanes report: {report.region} {report.environment} ({report.stack})"
    page = el(
        "html",
        {"lang": "en"},
        el(
            "head",
            None,
            el("meta", {"charset": "utf-8"}),
            el("meta", {"http-equiv": "Content-Security-Policy", "content": CSP}),
            el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
            el("title", None, title),
            el("style", None, raw(STYLE)),
        ),
        el("body", None, *body),
    )
    return serialize([raw("<!DOCTYPE html>\n"), page])
