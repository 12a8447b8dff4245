"""SVG pictures of the report: allocation bars to scale and each AZ's topology as lanes.

The topology reads like the source documents' figures turned on their side: every network
is a vertical lane (outside networks on the left, the platform's on the right), every host,
host group or gateway is a box in the middle, and each address of a box is a leg from its
line to its network's lane. Overlapping outside networks whose gateways sit next to each
other share a column, one above the other; an exposure is drawn over the adjacency lane
between the gateway that consumes it and the one that publishes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lanes.report.markup import Element, el
from lanes.report.space import Bar, OutsideGroup, Span
from lanes.report.topology import AzView, Lane, Node

__all__ = [
    "Palette",
    "OUTSIDE_COLOUR",
    "colour",
    "bar_svg",
    "space_svg",
    "outside_svg",
    "topology_svg",
]

# network -> its colour: the platform networks' from their kinds (lanes.report.model.Report).
Palette = Mapping[str, str]
OUTSIDE_COLOUR = "#6b6b6b"
OVERLAP_COLOUR = "#c62828"
FONT = "DejaVu Sans, Verdana, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, monospace"
CHAR = 6.4  # average width of an 11 px character, to decide whether a label fits

# Bars
BAR_W = 1320
BAR_X = 10
ROW_H = 26

# Topology
HEAD_H = 62
OUT_COL = 130
BOX_W = 340
LANE_GAP = 130
BOX_HEAD = 38
LINE_H = 15
NODE_GAP = 34


def colour(palette: Palette, network: str) -> str:
    """A platform network's colour; any other network is drawn as an outside one."""
    return palette.get(network, OUTSIDE_COLOUR)


def _text(x: float, y: float, text: str, **attrs: object) -> Element:
    return el("text", {"x": x, "y": y, **attrs}, text)


def _fits(text: str, width: float, char: float = CHAR) -> bool:
    return len(text) * char + 8 <= width


# -- bars ------------------------------------------------------------------------------------


def _span_labels(span: Span) -> list[str]:
    if span.kind == "block":
        return [
            f"{span.label} {span.cidr} · {span.used} used, {span.free} free",
            f"{span.label} {span.cidr} · {span.used} used",
            f"{span.label} · {span.used} used",
            span.label,
        ]
    return [f"{span.label} {span.cidr}", span.label]


def _span_title(span: Span) -> str:
    counts = f": {span.used} host addresses used, {span.free} free" if span.used is not None else ""
    return f"{span.label} {span.cidr}{counts}"


def _span_rect(span: Span, y: float, fill: str) -> list[Element]:
    x = BAR_X + span.start * BAR_W
    w = max(span.width * BAR_W, 2.0)
    parts = [
        el(
            "rect",
            {"x": x, "y": y, "width": w, "height": ROW_H - 4, "fill": fill, "stroke": "#fff"},
        )
    ]
    if span.used:
        share = max(span.used / (span.used + (span.free or 0) + 2) * w, 1.5)
        parts.append(
            el("rect", {"x": x, "y": y, "width": share, "height": ROW_H - 4, "fill": "#1b1b1b"})
        )
    label = next((t for t in _span_labels(span) if _fits(t, w)), None)
    if label:
        parts.append(
            _text(x + 4, y + 15, label, fill="#fff" if span.kind != "reserved" else "#333")
        )
    return [el("g", {"class_": f"span {span.kind}"}, el("title", None, _span_title(span)), *parts)]


def _fill(span: Span, network: str, palette: Palette) -> str:
    if span.kind == "reserved":
        return "#d9d9d9"
    if span.kind in ("network", "outside"):
        return colour(palette, span.label if span.kind == "network" else "outside")
    return colour(palette, network)


def _svg(width: float, height: float, label: str, *children: Element | None) -> Element:
    return el(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": width,
            "height": height,
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "aria-label": label,
            "font-family": FONT,
            "font-size": 11,
        },
        *children,
    )


def bar_svg(bar: Bar, palette: Palette) -> Element:
    """A network to scale: zones (if any), then AZ blocks and reserved space, used share dark."""
    parts: list[Element] = []
    for i, row in enumerate(bar.rows):
        y = 4 + i * ROW_H
        parts.append(
            el("rect", {"x": BAR_X, "y": y, "width": BAR_W, "height": ROW_H - 4, "fill": "#f0f0f0"})
        )
        opacity = 0.55 if len(bar.rows) > 1 and i == 0 else None
        parts.append(
            el(
                "g",
                {"opacity": opacity},
                *(p for span in row for p in _span_rect(span, y, _fill(span, bar.name, palette))),
            )
        )
    height = 8 + len(bar.rows) * ROW_H
    return _svg(BAR_X * 2 + BAR_W, height, f"{bar.name} {bar.cidr} to scale", *parts)


def space_svg(bar: Bar, palette: Palette) -> Element:
    """100.64.0.0/10 with the platform networks at their place; labels on staggered rows."""
    (row,) = bar.rows
    parts: list[Element] = [
        el("rect", {"x": BAR_X, "y": 4, "width": BAR_W, "height": ROW_H - 4, "fill": "#f0f0f0"})
    ]
    for i, span in enumerate(row):
        parts += _span_rect(span, 4, _fill(span, span.label, palette))
        mid = BAR_X + (span.start + span.width / 2) * BAR_W
        y = ROW_H + 16 + i * 15
        anchor = "end" if mid > BAR_X + BAR_W / 2 else "start"
        parts.append(el("line", {"x1": mid, "y1": ROW_H, "x2": mid, "y2": y - 4, "stroke": "#999"}))
        parts.append(
            _text(
                mid,
                y + 4,
                f"{span.label} {span.cidr}",
                text_anchor=anchor,
                fill=colour(palette, span.label),
            )
        )
    height = ROW_H + 24 + len(row) * 15
    return _svg(BAR_X * 2 + BAR_W, height, f"{bar.cidr} to scale", *parts)


def _hatch(pattern_id: str) -> Element:
    return el(
        "defs",
        None,
        el(
            "pattern",
            {
                "id": pattern_id,
                "width": 6,
                "height": 6,
                "patternUnits": "userSpaceOnUse",
                "patternTransform": "rotate(45)",
            },
            el("rect", {"width": 6, "height": 6, "fill": "#fbe3e3"}),
            el(
                "line",
                {"x1": 0, "y1": 0, "x2": 0, "y2": 6, "stroke": OVERLAP_COLOUR, "stroke-width": 3},
            ),
        ),
    )


def outside_svg(group: OutsideGroup, index: int) -> Element:
    """Outside networks of one cluster on one scale, one row each; overlaps hatched red."""
    pattern = f"overlap-hatch-{index}"
    parts: list[Element] = [_hatch(pattern)]
    rows = len(group.members)
    for i, span in enumerate(group.members):
        y = 4 + i * ROW_H
        parts.append(
            el("rect", {"x": BAR_X, "y": y, "width": BAR_W, "height": ROW_H - 4, "fill": "#f0f0f0"})
        )
        parts += _span_rect(span, y, OUTSIDE_COLOUR)
    for span in group.overlaps:
        x = BAR_X + span.start * BAR_W
        w = max(span.width * BAR_W, 2.0)
        parts.append(
            el(
                "g",
                {"class_": "span overlap"},
                el("title", None, f"overlap: {span.label} {span.cidr}"),
                el(
                    "rect",
                    {
                        "x": x,
                        "y": 2,
                        "width": w,
                        "height": rows * ROW_H,
                        "fill": f"url(#{pattern})",
                        "fill-opacity": 0.45,
                        "stroke": OVERLAP_COLOUR,
                    },
                ),
            )
        )
    height = 8 + rows * ROW_H
    return _svg(BAR_X * 2 + BAR_W, height, f"outside networks in {group.cidr}", *parts)


# -- topology --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    """Where everything of one AZ's topology sits."""

    box_x: float
    lane_x: dict[str, float]
    node_y: tuple[float, ...]
    node_h: tuple[float, ...]
    width: float
    height: float
    palette: Palette

    def leg_y(self, index: int, line: int) -> float:
        return self.node_y[index] + BOX_HEAD + line * LINE_H + 4


def _geometry(view: AzView, palette: Palette) -> _Geometry:
    outside = [lane for lane in view.lanes if lane.outside]
    columns = max((lane.column for lane in outside), default=-1) + 1
    box_x = 20 + columns * OUT_COL + (30 if columns else 0)
    lane_x: dict[str, float] = {
        lane.network: box_x + BOX_W + 70 + lane.column * LANE_GAP
        for lane in view.lanes
        if not lane.outside
    }
    lane_x.update({lane.network: 20 + lane.column * OUT_COL + OUT_COL / 2 for lane in outside})
    heights = tuple(BOX_HEAD + LINE_H * len(n.lines) + 8 for n in view.nodes)
    ys, y = [], HEAD_H + 20.0
    for h in heights:
        ys.append(y)
        y += h + NODE_GAP
    width = max(lane_x.values(), default=box_x + BOX_W) + 160
    return _Geometry(box_x, lane_x, tuple(ys), heights, width, y + 10, palette)


def _platform_lane(lane: Lane, g: _Geometry) -> Element:
    x = g.lane_x[lane.network]
    c = colour(g.palette, lane.network)
    vlan = f"vlan {lane.vlan}" if lane.vlan is not None else "untagged"  # the line may be
    return el(
        "g",
        {"class_": "lane", "data-network": lane.network},
        el("title", None, f"{lane.network} {lane.cidr} {vlan}"),
        _text(x, 18, lane.network, text_anchor="middle", font_weight="bold", fill=c, font_size=12),
        _text(x, 33, lane.cidr, text_anchor="middle", fill=c),
        _text(x, 47, vlan, text_anchor="middle", fill="#555"),
        el(
            "line",
            {"x1": x, "y1": HEAD_H, "x2": x, "y2": g.height - 10, "stroke": c, "stroke-width": 4},
        ),
    )


def _outside_lane(lane: Lane, g: _Geometry) -> Element:
    x = g.lane_x[lane.network]
    top = g.node_y[lane.first] - 4
    bottom = g.node_y[lane.last] + g.node_h[lane.last] + 4
    c = OVERLAP_COLOUR if lane.overlaps else OUTSIDE_COLOUR
    vlan = f" vlan {lane.vlan}" if lane.vlan is not None else ""
    note = f"; same range as {', '.join(lane.overlaps)}" if lane.overlaps else ""
    return el(
        "g",
        {"class_": "lane outside", "data-network": lane.network},
        el("title", None, f"{lane.network} {lane.cidr}{vlan} (outside{note})"),
        _text(x, top - 18, lane.network, text_anchor="middle", font_weight="bold", fill="#333"),
        _text(x, top - 5, f"{lane.cidr}{vlan}", text_anchor="middle", fill=c, font_size=10),
        el(
            "line",
            {
                "x1": x,
                "y1": top,
                "x2": x,
                "y2": bottom,
                "stroke": c,
                "stroke-width": 4,
                "stroke-dasharray": "10 3" if lane.overlaps else None,
            },
        ),
    )


NODE_STYLE = {
    "gateway": ("#fff4e0", "#b26b00", 2),
    "host": ("#f5f8fc", "#7a8ca3", 1),
    "group": ("#eef6ee", "#4d7f4d", 2),
}


def _node(node: Node, index: int, g: _Geometry) -> Element:
    x, y, h = g.box_x, g.node_y[index], g.node_h[index]
    fill, stroke, width = NODE_STYLE[node.kind]
    parts: list[Element | None] = [
        el(
            "rect",
            {
                "x": x,
                "y": y,
                "width": BOX_W,
                "height": h,
                "rx": 6,
                "fill": fill,
                "stroke": stroke,
                "stroke-width": width,
            },
        ),
        _text(x + 10, y + 16, node.title, font_weight="bold", font_size=13),
        _text(x + 10, y + 30, node.subtitle, fill="#555"),
    ]
    for j, line in enumerate(node.lines):
        ly = g.leg_y(index, j)
        if line.network:
            parts.append(_leg(line.network, x, ly, g))
            parts.append(
                el(
                    "rect",
                    {
                        "x": x + 10,
                        "y": ly - 4,
                        "width": 8,
                        "height": 8,
                        "fill": colour(g.palette, line.network),
                    },
                )
            )
        parts.append(_text(x + 24, ly + 4, line.text, font_family=MONO, fill="#222"))
    attrs: dict[str, object] = {"class_": f"node {node.kind}"}
    if node.kind == "gateway":
        attrs["data-host"] = node.members[0]
        attrs["data-gateway"] = node.gateways[0]
    elif node.kind == "host":
        attrs["data-host"] = node.members[0]
    else:
        attrs["data-group"] = str(len(node.members))
    return el("g", attrs, el("title", None, f"{node.title}: {node.subtitle}"), *parts)


def _leg(network: str, box_x: float, y: float, g: _Geometry) -> Element:
    lane = g.lane_x[network]
    start = box_x + BOX_W if lane > box_x else box_x
    c = colour(g.palette, network)
    return el(
        "g",
        {"class_": "leg"},
        el("line", {"x1": start, "y1": y, "x2": lane, "y2": y, "stroke": c, "stroke-width": 1.5}),
        el("circle", {"cx": lane, "cy": y, "r": 4.5, "fill": c, "stroke": "#fff"}),
    )


def _leg_index(node: Node, network: str) -> int | None:
    return next((j for j, line in enumerate(node.lines) if line.network == network), None)


def _highlight(x1: float, y1: float, x2: float, y2: float) -> Element:
    return el(
        "line",
        {
            "x1": x1,
            "y1": y1,
            "x2": x2,
            "y2": y2,
            "stroke": OVERLAP_COLOUR,
            "stroke-width": 9,
            "stroke-opacity": 0.35,
            "stroke-linecap": "round",
        },
    )


def _exposure_legs(node: Node, index: int, networks: list[str | None], g: _Geometry) -> list:
    """The legs an exposure takes at one gateway, as highlight segments from box to lane."""
    found = []
    for network in networks:
        j = _leg_index(node, network) if network else None
        if j is None or network not in g.lane_x:
            continue
        lane, y = g.lane_x[network], g.leg_y(index, j)
        found.append(_highlight(g.box_x + BOX_W if lane > g.box_x else g.box_x, y, lane, y))
    return found


def _exposures(view: AzView, g: _Geometry) -> list[Element]:
    """Each paired exposure: the consumers' leg, the adjacency lane between the two gateways,
    the service's leg, highlighted in red."""
    where = {name: i for i, n in enumerate(view.nodes) for name in n.gateways}
    via = view.exposure_network
    x = g.lane_x.get(via)
    found = []
    for path in view.exposures:
        at_consumer = where.get(path.consumer_gateway or "")
        at_publisher = where.get(path.publisher_gateway or "")
        if x is None or at_consumer is None or at_publisher is None:
            continue
        consumer, publisher = view.nodes[at_consumer], view.nodes[at_publisher]
        leg_consumer, leg_publisher = _leg_index(consumer, via), _leg_index(publisher, via)
        if leg_consumer is None or leg_publisher is None:
            continue
        y1, y2 = g.leg_y(at_consumer, leg_consumer), g.leg_y(at_publisher, leg_publisher)
        label = f"{path.name}: {path.consumer_address} → {path.adjacency_address} → {path.service_address}"
        found.append(
            el(
                "g",
                {"class_": "exposure", "data-exposure": path.name},
                el("title", None, label),
                _highlight(x, y1, x, y2),
                *_exposure_legs(consumer, at_consumer, [path.consumer_network, via], g),
                *_exposure_legs(publisher, at_publisher, [via, path.service_network], g),
                _text(x + 10, (y1 + y2) / 2, path.name, fill=OVERLAP_COLOUR, font_weight="bold"),
                _text(x + 10, (y1 + y2) / 2 + 13, path.adjacency_address, fill=OVERLAP_COLOUR),
            )
        )
    return found


def topology_svg(view: AzView, palette: Palette) -> Element:
    """One AZ: lanes, boxes with a leg per address, exposures over the adjacency lane."""
    g = _geometry(view, palette)
    lanes = [
        _outside_lane(lane, g) if lane.outside else _platform_lane(lane, g) for lane in view.lanes
    ]
    nodes = [_node(node, i, g) for i, node in enumerate(view.nodes)]
    return _svg(g.width, g.height, f"topology of {view.az}", *lanes, *nodes, *_exposures(view, g))
