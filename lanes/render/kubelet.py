"""The kubelet systemd drop-in pinning ``--node-ip`` to the host's management address."""

from __future__ import annotations

from lanes.model.hostnet import HostNet

__all__ = ["KUBELET_PATH", "render_kubelet"]

KUBELET_PATH = "/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf"


def render_kubelet(net: HostNet) -> str | None:
    """The drop-in for a Kubernetes node (master, worker, ingress); None for other roles.

    kubeadm's 10-kubeadm.conf passes ``$KUBELET_EXTRA_ARGS`` to the kubelet; a value set in
    /etc/default/kubelet would override this one, so that file must not set it.
    """
    if net.node_ip is None:
        return None
    return (
        f"# {KUBELET_PATH} for {net.host} ({net.role}), written by lanes:\n"
        "# kubelet and etcd talk on the management (k8s-nodes) address, never on traffic.\n"
        "[Service]\n"
        f'Environment="KUBELET_EXTRA_ARGS=--node-ip={net.node_ip}"\n'
    )
