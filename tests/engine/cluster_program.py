"""The engine tier's cluster program: a stack's ClusterNetwork alone, as lanes' program declares
it (the same plan, names and parents, so the same URNs), copied into a project folder as its
``__main__.py`` (the stack file beside it is the one read).

Left out, and why:
- the hosts' Commands: the command provider is another tier's (and no host runs here);
- the operator's Helm release: its chart is fetched from docs.tigera.io (no download here), and
  what it runs, the operator's pod, needs a kubelet. The lab cluster holds what the chart and
  the operator would have made first: their CRDs and the Gateways' namespace. The objects that
  waited for the release now wait for nothing.
The harness puts the repo on PYTHONPATH (``tests.engine.kube.use_lab_cluster``).
"""

from pathlib import Path

import pulumi

from components.cluster import declare_cluster
from lanes.config.stackfile import load_stack
from lanes.render.cluster import plan_cluster
from lanes.rules import checked_plan
from tests.engine.kube import without_releases

report = checked_plan(load_stack(Path(__file__).resolve().parent, pulumi.get_stack()))
if not report.ok or report.plan is None:
    raise pulumi.RunError("\n".join(str(v) for v in report.violations))
plan = report.plan
cluster = without_releases(plan_cluster(plan))
declare_cluster(cluster, pulumi.Config("lanes").get_secret("kubeconfig"), f"{plan.region}-cluster")
