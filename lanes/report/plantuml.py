"""The topology as C4-PlantUML, one diagram per AZ, for the stdlib C4 of Debian's plantuml.

Uses only macros that PlantUML's bundled C4 library has had for years (no URL include):
``System_Ext`` for outside networks, ``System`` for platform networks, ``Container`` for
hosts and host groups, ``Boundary`` for the AZ and for outside networks whose ranges overlap
(drawn side by side), ``Rel`` for a leg, and one ``Rel`` chain per exposure through the
adjacency network.
"""

from __future__ import annotations

import itertools
import re

from lanes.report.model import Report
from lanes.report.topology import AzView, Node

__all__ = ["render_plantuml"]

_ID = re.compile(r"[^A-Za-z0-9_]")


def _id(*parts: str) -> str:
    return "_".join(_ID.sub("_", p) for p in parts)


def _quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def _vlan(vlan: int | None) -> str:
    return f"vlan {vlan}" if vlan is not None else "untagged"


def _legs(node: Node) -> dict[str, str]:
    """network -> its legs in a few words: ``eno1.100: 100.64.0.1/20, 100.64.64.1/20``."""
    per: dict[str, dict[str, list[str]]] = {}
    for line in node.lines:
        if line.network and line.device:
            per.setdefault(line.network, {}).setdefault(line.device, []).append(line.address or "")
    return {
        network: "; ".join(
            f"{device}: {', '.join(addresses)}" for device, addresses in devices.items()
        )
        for network, devices in per.items()
    }


def _node(node: Node, view: AzView) -> str:
    """A host, group or gateway host; a gateway's label is its host, its type the gateway."""
    name = node.members[0] if node.kind == "gateway" else node.title
    if node.kind == "gateway":
        kind = f"gateway {', '.join(node.gateways)}"
    elif node.kind == "group":
        kind = node.subtitle
    else:
        kind = node.role
    details = "; ".join(line.text for line in node.lines if not line.network)
    return f"Container({_id(view.az, node.key)}, {_quote(name)}, {_quote(kind)}, {_quote(details)})"


def _outside(view: AzView) -> list[str]:
    """Outside networks; overlapping ones inside one boundary, laid out side by side."""
    lanes = [lane for lane in view.lanes if lane.outside]
    out: list[str] = []
    done: set[str] = set()
    for lane in lanes:
        if lane.network in done:
            continue
        group = [
            lane,
            *(o for o in lanes if o.network in lane.overlaps and o.network not in done),
        ]
        done.update(g.network for g in group)
        items = [
            f"System_Ext({_id(view.az, g.network)}, {_quote(g.network)}, {_quote(f'{g.cidr} vlan {g.vlan}')})"
            for g in group
        ]
        if len(group) == 1:
            out += items
            continue
        out.append(
            f"Boundary({_id(view.az, 'overlap', lane.network)}, {_quote(f'overlapping {lane.cidr}')}) {{"
        )
        out += [f"  {item}" for item in items]
        out += [
            f"  Lay_R({_id(view.az, a.network)}, {_id(view.az, b.network)})"
            for a, b in itertools.pairwise(group)
        ]
        out.append("}")
    return out


def _diagram(report: Report, view: AzView) -> str:
    lines = [
        f"@startuml {report.environment}-{view.az}",
        "!include <C4/C4_Container>",
        "left to right direction",
        f"title lanes {report.region} ({report.environment}): {view.az}",
        *_outside(view),
    ]
    platform = [lane for lane in view.lanes if not lane.outside]
    outside = {lane.network for lane in view.lanes if lane.outside}
    lines.append(f'Boundary({_id(view.az)}, {_quote(view.az)}, "AZ") {{')
    lines += [
        f"  System({_id(view.az, lane.network)}, {_quote(lane.network)}, {_quote(f'{lane.cidr} {_vlan(lane.vlan)}')})"
        for lane in platform
    ]
    lines += [f"  {_node(node, view)}" for node in view.nodes]
    lines.append("}")
    for node in view.nodes:
        for network, legs in sorted(_legs(node).items()):
            a, b = _id(view.az, node.key), _id(view.az, network)
            # Outside networks to the left of their gateways, the platform's to the right.
            ends = (b, a) if network in outside else (a, b)
            lines.append(f"Rel({ends[0]}, {ends[1]}, {_quote(legs)})")
    gateways = {name: n for n in view.nodes for name in n.gateways}
    for path in view.exposures:
        hops = []
        if path.consumer_network and path.consumer_gateway in gateways:
            hops.append(
                (path.consumer_network, gateways[path.consumer_gateway].key, path.consumer_address)
            )
        if path.publisher_gateway in gateways and path.service_network:
            hops.append(
                (gateways[path.publisher_gateway].key, path.service_network, path.service_address)
            )
        if len(hops) == 2:
            (net, consumer, listen), (publisher, service, target) = hops
            lines += [
                f"Rel({_id(view.az, net)}, {_id(view.az, consumer)}, {_quote(f'{path.name}: {listen}')})",
                f"Rel({_id(view.az, consumer)}, {_id(view.az, publisher)}, {_quote(f'{path.name} via {path.via} {path.adjacency_address}')})",
                f"Rel({_id(view.az, publisher)}, {_id(view.az, service)}, {_quote(f'{path.name}: {target}')})",
            ]
    lines.append("LAYOUT_WITH_LEGEND()")
    lines.append("@enduml")
    return "\n".join(lines) + "\n"


def render_plantuml(report: Report) -> str:
    """Every AZ's diagram, in AZ order, in one file (plantuml writes one SVG per diagram)."""
    return "\n".join(_diagram(report, view) for view in report.views if view.nodes)
