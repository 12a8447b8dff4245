"""``lanes report``: the plan as a page to look at (HTML with inline SVG) and as C4-PlantUML.

- ``model``: what the report shows, read from the plan, host and gateway models, arranged by
  ``space`` (bars to scale), ``topology`` (per-AZ lanes and boxes) and ``tables`` (NAT, proxies);
- ``markup``: elements built as data and serialized once;
- ``svg``: allocation bars to scale and each AZ's topology as lanes;
- ``html``: the self-contained page; ``plantuml``: the topology as C4-PlantUML;
- ``matrix``: the lab's reachability matrix (``lanes lab check --format json``);
- the command is ``lanes.cli.report``.
"""

from __future__ import annotations

from lanes.report.html import render_html
from lanes.report.matrix import Matrix, MatrixError, load_matrix, matrix_from_dict
from lanes.report.model import Report, build_report
from lanes.report.plantuml import render_plantuml
from lanes.report.topology import GROUP_THRESHOLD

__all__ = [
    "GROUP_THRESHOLD",
    "Matrix",
    "MatrixError",
    "Report",
    "build_report",
    "load_matrix",
    "matrix_from_dict",
    "render_html",
    "render_plantuml",
]
