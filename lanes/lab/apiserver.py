"""A throwaway Kubernetes control plane for the lab, as data: its folder layout, certificates,
command lines, kubeconfig and the Node objects of a region's Kubernetes hosts.

``lanes.lab.apiserver_run`` starts what this describes: etcd, kube-apiserver and
kube-controller-manager on 127.0.0.1 only, with certificates of a CA made for the one run, and
no kubelet. It proves what the API server admits and how objects live and die (the garbage
collector and the namespace controller run, so ``pulumi destroy`` completes); no pod ever runs.

Why these choices:
- Every listener binds 127.0.0.1 (etcd's client and peer ports, the API server's secure port);
  the controller-manager serves nothing (``--secure-port=0``). Ports are picked by the caller.
- etcd speaks TLS with client-certificate authentication on both ports, so another local user
  can read no Secret from it; the API server authenticates clients by certificate (anonymous
  requests are refused) and authorizes with RBAC and the Node authorizer, as kubeadm's does.
- The controller-manager runs the controllers a destroy needs, each with its own service
  account's credentials (``--use-service-account-credentials``, as kubeadm): the garbage
  collector (foreground deletion) and the namespace controller (a deleted namespace's content).
- The service range is the stack's ``cluster.service_cidr``; the API server's certificate
  names its first address, as a real cluster's does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from netaddr import IPNetwork

from lanes.config.host import K8S_ROLES
from lanes.model.plan import Plan

__all__ = [
    "LOOPBACK",
    "ADMIN_USER",
    "CONTROLLERS",
    "Ports",
    "CertSpec",
    "ControlPlane",
    "certificate_specs",
    "kubeconfig",
    "node_objects",
]

LOOPBACK = "127.0.0.1"
CONTROLLERS: tuple[str, ...] = ("garbage-collector-controller", "namespace-controller")
ADMIN_USER = "lanes-lab-admin"


@dataclass(frozen=True)
class Ports:
    """The loopback ports of one control plane."""

    etcd_client: int
    etcd_peer: int
    apiserver: int


@dataclass(frozen=True)
class CertSpec:
    """One certificate signed by the run's CA: subject, names, what it may be used for."""

    name: str
    common_name: str
    organization: str | None = None
    ips: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    server: bool = False
    client: bool = False

    def extensions(self) -> list[str]:
        """``openssl -addext`` values: a leaf (never a CA) for the named uses only."""
        uses = [u for u, on in (("serverAuth", self.server), ("clientAuth", self.client)) if on]
        found = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            f"extendedKeyUsage={','.join(uses)}",
        ]
        names = [f"IP:{ip}" for ip in self.ips] + [f"DNS:{d}" for d in self.dns]
        if names:
            found.append(f"subjectAltName={','.join(names)}")
        return found

    def subject(self) -> str:
        return f"/CN={self.common_name}" + (f"/O={self.organization}" if self.organization else "")


def certificate_specs(service_cidr: str) -> tuple[CertSpec, ...]:
    """The control plane's certificates; the API server's names the service range's first
    address (the ``kubernetes`` Service) besides the loopback it listens on."""
    service_ip = str(IPNetwork(service_cidr)[1])
    return (
        CertSpec("etcd", "lanes-lab-etcd", ips=(LOOPBACK,), server=True, client=True),
        CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client", client=True),
        CertSpec(
            "apiserver",
            "kube-apiserver",
            ips=(LOOPBACK, service_ip),
            dns=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"),
            server=True,
        ),
        CertSpec("admin", ADMIN_USER, organization="system:masters", client=True),
        CertSpec("controller-manager", "system:kube-controller-manager", client=True),
    )


@dataclass(frozen=True)
class ControlPlane:
    """One control plane's folder and ports; every path it names is inside ``root``."""

    root: Path
    ports: Ports
    service_cidr: str
    name: str

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.apiserver}"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.conf"

    @property
    def controller_manager_kubeconfig(self) -> Path:
        return self.root / "controller-manager.conf"

    def cert(self, name: str) -> Path:
        return self.pki / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.pki / f"{name}.key"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def pidfile(self, name: str) -> Path:
        return self.root / "pids" / f"{name}.pid"

    def etcd_args(self, binary: Path) -> list[str]:
        client = f"https://{LOOPBACK}:{self.ports.etcd_client}"
        peer = f"https://{LOOPBACK}:{self.ports.etcd_peer}"
        tls = [f"--cert-file={self.cert('etcd')}", f"--key-file={self.key('etcd')}"]
        peer_tls = [f"--peer-cert-file={self.cert('etcd')}", f"--peer-key-file={self.key('etcd')}"]
        return [
            str(binary),
            f"--name={self.name}",
            f"--data-dir={self.root / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={self.name}={peer}",
            "--initial-cluster-state=new",
            *tls,
            "--client-cert-auth",
            f"--trusted-ca-file={self.cert('ca')}",
            *peer_tls,
            "--peer-client-cert-auth",
            f"--peer-trusted-ca-file={self.cert('ca')}",
            "--log-level=warn",
        ]

    def apiserver_args(self, binary: Path) -> list[str]:
        return [
            str(binary),
            f"--etcd-servers=https://{LOOPBACK}:{self.ports.etcd_client}",
            f"--etcd-cafile={self.cert('ca')}",
            f"--etcd-certfile={self.cert('apiserver-etcd-client')}",
            f"--etcd-keyfile={self.key('apiserver-etcd-client')}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            f"--secure-port={self.ports.apiserver}",
            f"--tls-cert-file={self.cert('apiserver')}",
            f"--tls-private-key-file={self.key('apiserver')}",
            f"--client-ca-file={self.cert('ca')}",
            "--anonymous-auth=false",
            "--authorization-mode=Node,RBAC",
            f"--service-cluster-ip-range={self.service_cidr}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={self.pki / 'sa.pub'}",
            f"--service-account-signing-key-file={self.pki / 'sa.key'}",
            # The kubernetes Service cannot point at a loopback address; nothing here needs it.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=false",
            "--profiling=false",
            "--v=1",
        ]

    def controller_manager_args(self, binary: Path) -> list[str]:
        return [
            str(binary),
            f"--kubeconfig={self.controller_manager_kubeconfig}",
            "--secure-port=0",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--controllers={','.join(CONTROLLERS)}",
            f"--root-ca-file={self.cert('ca')}",
            f"--service-account-private-key-file={self.pki / 'sa.key'}",
            "--profiling=false",
            "--v=1",
        ]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(name: str, server: str, ca: bytes, cert: bytes, key: bytes, user: str) -> str:
    """A kubeconfig with everything inline (what ``lanes:kubeconfig`` holds as one secret)."""
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": _b64(ca)}}
        ],
        "users": [
            {"name": user, "user": {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}}
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
    }
    return yaml.safe_dump(doc, sort_keys=False)


def node_objects(plans: Iterable[Plan]) -> list[dict[str, Any]]:
    """A Node for every Kubernetes host of the plans' regions (one cluster per region), with the
    labels a kubelet gives its own Node; lanes' labels come from its NodePatches."""
    names = sorted({h.name for plan in plans for h in plan.hosts if h.role in K8S_ROLES})
    return [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                },
            },
        }
        for name in names
    ]
