"""The lab's throwaway Kubernetes control plane, running: certificates made with openssl,
etcd, kube-apiserver and kube-controller-manager started on loopback, the CRDs of the kinds
lanes renders, the namespace the Calico operator would make, and the region's Nodes.

``lab_cluster(plans)`` is the context manager the tests use (everything is removed when it
exits, whatever happened inside); ``start``/``stop`` are what ``lanes lab cluster up|down`` run,
the processes outliving the command and found again by their pidfiles.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanes.lab.apiserver import (
    ADMIN_USER,
    LOOPBACK,
    ControlPlane,
    Ports,
    certificate_specs,
    kubeconfig,
    node_objects,
)
from lanes.lab.clustertools import tool_path
from lanes.lab.crds import lab_crds
from lanes.lab.procs import start_time, stop_processes
from lanes.model.plan import Plan
from lanes.render.cluster import GATEWAY_NAMESPACE

__all__ = [
    "PROCESSES",
    "ClusterError",
    "KubeClient",
    "ApiError",
    "LabCluster",
    "cluster_root",
    "start",
    "stop",
    "status",
    "lab_cluster",
]

_READY_TIMEOUT = 90.0
# The control plane's binaries (make cluster-tools), in start order.
PROCESSES = ("etcd", "kube-apiserver", "kube-controller-manager")


class ClusterError(RuntimeError):
    """The lab cluster could not be started or reached; the message says which part."""


class ApiError(ClusterError):
    """The API server answered a request with an error status."""

    def __init__(self, method: str, path: str, status: int, body: dict[str, Any]):
        self.status = status
        self.body = body
        self.reason = str(body.get("reason", ""))
        self.message = str(body.get("message", body))
        super().__init__(f"{method} {path}: {status} {self.reason}: {self.message}")


def cluster_root(name: str) -> Path:
    """Where ``lanes lab cluster up`` keeps a cluster: the user's own folder under the tmp dir."""
    return Path(tempfile.gettempdir()) / f"lanes-cluster-{os.getuid()}" / name


# --- the REST client ---------------------------------------------------------------------------


class KubeClient:
    """JSON over HTTPS to the API server, as the lab's admin (a client certificate)."""

    def __init__(self, plane: ControlPlane):
        self.server = plane.server
        context = ssl.create_default_context(cafile=str(plane.cert("ca")))
        context.load_cert_chain(str(plane.cert("admin")), str(plane.key("admin")))
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        self._discovered: dict[str, dict[str, tuple[str, bool]]] = {}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        url = self.server + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with self._opener.open(req, timeout=30) as answer:
                text = answer.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {"message": raw.decode(errors="replace")}
            raise ApiError(method, path, exc.code, parsed) from None
        try:
            return json.loads(text) if text else {}
        except ValueError:  # /readyz and /healthz answer in plain text
            return {"text": text.decode(errors="replace")}

    def get(self, path: str, **query: str) -> dict[str, Any]:
        return self.request("GET", path, query=query or None)

    def create(self, path: str, body: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """POST ``body`` to the collection ``path``; ``dry_run``: admitted and validated, kept
        nowhere (what ``pulumi preview`` asks of the server)."""
        query = {"fieldValidation": "Strict", **({"dryRun": "All"} if dry_run else {})}
        return self.request("POST", path, body, query)

    def delete(self, path: str) -> dict[str, Any]:
        return self.request("DELETE", path)

    def collection(self, body: Mapping[str, Any]) -> str:
        """The REST collection of ``body``'s kind (from the server's discovery), in its
        namespace when the kind is namespaced."""
        group_version = str(body["apiVersion"])
        base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        if base not in self._discovered:
            self._discovered[base] = {
                r["kind"]: (r["name"], r["namespaced"])
                for r in self.get(base)["resources"]
                if "/" not in r["name"]  # subresources
            }
        plural, namespaced = self._discovered[base][str(body["kind"])]
        namespace = (body.get("metadata") or {}).get("namespace")
        return f"{base}/namespaces/{namespace}/{plural}" if namespaced else f"{base}/{plural}"

    def object_path(self, body: Mapping[str, Any]) -> str:
        return f"{self.collection(body)}/{body['metadata']['name']}"

    def exists(self, path: str) -> bool:
        try:
            self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True


# --- processes ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _free_ports() -> Ports:
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(_free_port())
    etcd_client, etcd_peer, apiserver = sorted(ports)
    return Ports(etcd_client, etcd_peer, apiserver)


def _recorded(plane: ControlPlane) -> dict[str, int]:
    """name -> pid of each process whose pidfile still names the very process it recorded."""
    found = {}
    for name in PROCESSES:
        try:
            pid_text, start = plane.pidfile(name).read_text().split()
        except (OSError, ValueError):
            continue
        if start_time(int(pid_text)) == start:
            found[name] = int(pid_text)
    return found


def _spawn(plane: ControlPlane, name: str, argv: list[str]) -> subprocess.Popen:
    log = plane.log(name).open("ab")
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `lab cluster up`; never gets the terminal's ^C
            cwd=plane.root,
        )
    finally:
        log.close()
    plane.pidfile(name).write_text(f"{proc.pid} {start_time(proc.pid)}\n")
    return proc


def _log_tail(plane: ControlPlane, name: str, lines: int = 15) -> str:
    try:
        text = plane.log(name).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _wait(plane: ControlPlane, name: str, ready: Callable[[], bool], proc: subprocess.Popen):
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ClusterError(
                f"{name} exited with {proc.returncode}; its log ends:\n{_log_tail(plane, name)}"
            )
        if ready():
            return
        time.sleep(0.2)
    raise ClusterError(
        f"{name} was not ready in {_READY_TIMEOUT:.0f} s; its log ends:\n{_log_tail(plane, name)}"
    )


# --- certificates ------------------------------------------------------------------------------


def _openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if done.returncode:
        raise ClusterError(f"openssl {args[0]}: {done.stderr.strip()}")


def _make_pki(plane: ControlPlane) -> None:
    """A CA for this run only, the leaf certificates, the service-account key pair (mode 600)."""
    pki = plane.pki
    pki.mkdir(mode=0o700)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", str(plane.key("ca")), "-out", str(plane.cert("ca")),
        "-days", "2", "-subj", f"/CN=lanes-lab-ca-{plane.name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    for spec in certificate_specs(plane.service_cidr):
        extensions = [arg for ext in spec.extensions() for arg in ("-addext", ext)]
        _openssl(
            "req", "-x509", *ec, "-keyout", str(plane.key(spec.name)),
            "-out", str(plane.cert(spec.name)), "-days", "2", "-subj", spec.subject(),
            "-CA", str(plane.cert("ca")), "-CAkey", str(plane.key("ca")), *extensions,
        )  # fmt: skip
    _openssl(
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        str(pki / "sa.key"),
    )
    _openssl("pkey", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
    for path in pki.iterdir():
        path.chmod(0o600)


def _write_kubeconfigs(plane: ControlPlane) -> None:
    for path, cert, user in (
        (plane.admin_kubeconfig, "admin", ADMIN_USER),
        (
            plane.controller_manager_kubeconfig,
            "controller-manager",
            "system:kube-controller-manager",
        ),
    ):
        text = kubeconfig(
            plane.name,
            plane.server,
            plane.cert("ca").read_bytes(),
            plane.cert(cert).read_bytes(),
            plane.key(cert).read_bytes(),
            user,
        )
        path.touch(mode=0o600)
        path.write_text(text)


# --- the cluster -------------------------------------------------------------------------------


@dataclass
class LabCluster:
    """A running control plane: its layout, an admin client and the admin kubeconfig."""

    plane: ControlPlane
    client: KubeClient

    @property
    def kubeconfig(self) -> str:
        return self.plane.admin_kubeconfig.read_text()

    def pids(self) -> dict[str, int]:
        return _recorded(self.plane)


def _plane_file(root: Path) -> Path:
    return root / "plane.json"


def _load_plane(root: Path) -> ControlPlane | None:
    try:
        data = json.loads(_plane_file(root).read_text())
    except (OSError, ValueError):
        return None
    return ControlPlane(root, Ports(**data["ports"]), data["service_cidr"], data["name"])


def _healthy(client: KubeClient, path: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            client.request("GET", path)
        except (ClusterError, OSError):
            return False
        return True

    return ready


def _etcd_ready(plane: ControlPlane) -> Callable[[], bool]:
    context = ssl.create_default_context(cafile=str(plane.cert("ca")))
    context.load_cert_chain(
        str(plane.cert("apiserver-etcd-client")), str(plane.key("apiserver-etcd-client"))
    )
    url = f"https://{LOOPBACK}:{plane.ports.etcd_client}/health"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(url, context=context, timeout=2) as answer:
                return json.loads(answer.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    return ready


def _install_crds(client: KubeClient) -> None:
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    names = []
    for crd in lab_crds():
        client.create(path, crd)
        names.append(crd["metadata"]["name"])
    deadline = time.monotonic() + _READY_TIMEOUT
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            conditions = (client.get(f"{path}/{name}").get("status") or {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                pending.discard(name)
        time.sleep(0.1)
    if pending:
        raise ClusterError(f"CRDs not established in {_READY_TIMEOUT:.0f} s: {sorted(pending)}")


def _populate(client: KubeClient, plans: Iterable[Plan]) -> None:
    """The CRDs of the kinds lanes renders, the namespace the Calico operator makes for the
    Gateways (no operator runs here), and a Node per Kubernetes host of the regions."""
    _install_crds(client)
    client.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": GATEWAY_NAMESPACE}})  # fmt: skip
    for node in node_objects(plans):
        client.create("/api/v1/nodes", node)


def start(root: Path, name: str, service_cidr: str, plans: Iterable[Plan]) -> LabCluster:
    """Start a control plane in ``root`` (which must not exist) and populate it. On failure
    everything started is stopped and ``root`` removed before the error propagates."""
    root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    root.mkdir(mode=0o700)
    try:
        plane = ControlPlane(root, _free_ports(), service_cidr, name)
        for sub in ("logs", "pids"):
            (root / sub).mkdir()
        _make_pki(plane)
        _write_kubeconfigs(plane)
        data = {"ports": plane.ports.__dict__, "service_cidr": service_cidr, "name": name}
        _plane_file(root).write_text(json.dumps(data) + "\n")
        client = KubeClient(plane)
        etcd = _spawn(plane, "etcd", plane.etcd_args(tool_path("etcd")))
        _wait(plane, "etcd", _etcd_ready(plane), etcd)
        apiserver = _spawn(
            plane, "kube-apiserver", plane.apiserver_args(tool_path("kube-apiserver"))
        )
        _wait(plane, "kube-apiserver", _healthy(client, "/readyz"), apiserver)
        kcm = plane.controller_manager_args(tool_path("kube-controller-manager"))
        manager = _spawn(plane, "kube-controller-manager", kcm)
        _populate(client, plans)
        if manager.poll() is not None:
            raise ClusterError(
                "kube-controller-manager exited; its log ends:\n"
                + _log_tail(plane, "kube-controller-manager")
            )
        return LabCluster(plane, client)
    except BaseException:
        stop(root)
        raise


def stop(root: Path) -> list[str]:
    """Stop every process the cluster in ``root`` recorded and remove ``root``; return what ran."""
    plane = _load_plane(root) or ControlPlane(root, Ports(0, 0, 0), "", "")
    running = _recorded(plane)
    # The controller-manager and the API server first, etcd (their store) last.
    for name in reversed(PROCESSES):
        if name in running:
            stop_processes([running[name]], term_grace=10.0, kill_grace=5.0)
    shutil.rmtree(root, ignore_errors=True)
    if root.parent.name.startswith("lanes-cluster-"):
        with contextlib.suppress(OSError):  # the user's folder of clusters, once it is empty
            root.parent.rmdir()
    return sorted(running)


def status(root: Path) -> dict[str, Any]:
    """What exists of the cluster in ``root``: its server, kubeconfig and live processes."""
    plane = _load_plane(root)
    if plane is None:
        return {"exists": root.exists(), "server": None, "processes": {}}
    return {
        "exists": True,
        "server": plane.server,
        "kubeconfig": str(plane.admin_kubeconfig),
        "processes": _recorded(plane),
    }


@contextmanager
def lab_cluster(
    plans: Iterable[Plan], service_cidr: str, name: str = "lab"
) -> Iterator[LabCluster]:
    """A control plane in a fresh tmp folder for the duration of the block; its processes are
    stopped and the folder removed when the block exits, however it exits."""
    root = Path(tempfile.mkdtemp(prefix="lanes-cluster-")) / "cluster"
    try:
        yield start(root, name, service_cidr, list(plans))
    finally:
        stop(root)
        shutil.rmtree(root.parent, ignore_errors=True)
