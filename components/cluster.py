"""ClusterNetwork: the cluster objects of lanes.render.cluster, declared through pulumi-kubernetes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lanes.render.cluster import ClusterPlan, HelmRelease, Manifest

__all__ = [
    "ClusterNetworkArgs",
    "ClusterNetwork",
    "declare_cluster",
    "KUBECONFIG_MISSING",
    "FIELD_MANAGER",
]

KUBECONFIG_MISSING = (
    "lanes:kubeconfig is not set: the cluster objects (Calico, node labels, Gateway, tenant "
    "policies) are not declared. Once the cluster runs: "
    "`pulumi config set --secret lanes:kubeconfig < admin.conf`"
)

# Every object is applied (server-side) under one field manager, so `kubectl get
# --show-managed-fields` names lanes as the owner of exactly the fields it sets, on every object
# and Node label, instead of a random pulumi-kubernetes-<suffix> per resource.
FIELD_MANAGER = "lanes"
FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"

# Built-in kinds declared with their typed class; everything else is a CustomResource.
_TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Service"): k8s.core.v1.Service,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
}


@dataclass(frozen=True)
class ClusterNetworkArgs:
    """The stack's cluster plan and the kubeconfig (a secret) to reach the cluster with."""

    cluster: ClusterPlan
    kubeconfig: pulumi.Input[str]


class ClusterNetwork(pulumi.ComponentResource):
    """Calico, node labels, the Gateway and tenant isolation of one stack, from its ClusterPlan.

    Every child uses one explicit ``kubernetes.Provider`` built from the kubeconfig secret, so
    nothing ever falls back to an ambient ~/.kube/config. The Installation and the pod pools
    are protected: dropping them from the program (or the kubeconfig from the stack after they
    exist) fails the update instead of tearing the pod network down.
    """

    TYPE = "lanes:cluster:ClusterNetwork"

    def __init__(
        self, name: str, args: ClusterNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        props = args.cluster.to_dict()
        super().__init__(self.TYPE, name, props, opts)
        self.provider = k8s.Provider(
            f"{name}-provider", kubeconfig=args.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        self.children: dict[str, pulumi.Resource] = {}
        for release in args.cluster.releases:
            self.children[release.role] = self._release(name, release)
        for manifest in args.cluster.manifests:
            self.children[manifest.role] = self._object(name, manifest)
        self.register_outputs(
            {
                "objects": props["objects"],
                "releases": props["releases"],
                "pools": props["pools"],
                "ingress": props["ingress"],
            }
        )

    def _opts(self, after: tuple[str, ...], protect: bool = False) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self,
            provider=self.provider,
            depends_on=[self.children[role] for role in after],
            protect=protect,
        )

    def _release(self, name: str, release: HelmRelease) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            f"{name}-{release.role}",
            k8s.helm.v3.ReleaseArgs(
                name=release.name,
                namespace=release.namespace,
                create_namespace=True,
                chart=release.chart.name,
                version=release.chart.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=release.chart.repository),
                values=release.values,
            ),
            opts=self._opts(release.after),
        )

    def _object(self, name: str, manifest: Manifest) -> pulumi.Resource:
        body = manifest.body
        child = f"{name}-{manifest.role}"
        opts = self._opts(manifest.after, manifest.protect)
        annotations = {**body["metadata"].get("annotations", {})}
        metadata = {**body["metadata"], "annotations": annotations}
        annotations[FIELD_MANAGER_ANNOTATION] = FIELD_MANAGER
        if manifest.patch:
            return k8s.core.v1.NodePatch(child, metadata=metadata, opts=opts)
        typed = _TYPED.get((body["apiVersion"], body["kind"]))
        if typed is not None:
            spec = {"spec": body["spec"]} if "spec" in body else {}
            return typed(child, opts=opts, metadata=metadata, **spec)
        return k8s.apiextensions.CustomResource(
            child,
            api_version=body["apiVersion"],
            kind=body["kind"],
            metadata=metadata,
            spec=body.get("spec"),
            opts=opts,
        )


def declare_cluster(
    cluster: ClusterPlan, kubeconfig: pulumi.Input[str] | None, name: str
) -> ClusterNetwork | None:
    """The stack's ClusterNetwork, or None (with a warning) while no kubeconfig is set.

    Hosts come first and the cluster is bootstrapped on them afterwards, so a stack without a
    kubeconfig is a normal stage, not an error.
    """
    if kubeconfig is None:
        pulumi.log.warn(KUBECONFIG_MISSING)
        return None
    return ClusterNetwork(name, ClusterNetworkArgs(cluster, kubeconfig))
