"""The lab's throwaway API server: loopback only, its own CA, the region's Nodes and lanes' CRDs,
and nothing left behind (issue 22). The session's one server (``lab_apiserver``) is checked as
it runs; ``lanes lab cluster`` and a failed start each run one more, briefly."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from lanes.config.stackfile import load_stack
from lanes.lab import apiserver_run
from lanes.lab.apiserver import CONTROLLERS, ControlPlane, Ports, kubeconfig, node_objects
from lanes.lab.apiserver_run import ClusterError, lab_cluster
from lanes.lab.clustertools import KUBERNETES_RELEASE
from lanes.lab.crds import lab_crds
from lanes.lab.procs import alive
from lanes.render.cluster import GATEWAY_NAMESPACE
from lanes.rules import checked_plan
from tests.support.pulumi_run import ROOT


def plans():
    return [checked_plan(load_stack(ROOT, stack)).plan for stack in ("dev", "prod")]


# --- the pure parts -----------------------------------------------------------------------------


def test_every_listener_of_the_layout_is_on_loopback(tmp_path):
    plane = ControlPlane(tmp_path, Ports(2379, 2380, 6443), "100.80.0.0/16", "east")
    binary = Path("/bin/x")
    etcd = " ".join(plane.etcd_args(binary))
    assert "--listen-client-urls=https://127.0.0.1:2379" in etcd
    assert "--listen-peer-urls=https://127.0.0.1:2380" in etcd
    assert "--client-cert-auth" in etcd and "--peer-client-cert-auth" in etcd
    apiserver = plane.apiserver_args(binary)
    assert "--bind-address=127.0.0.1" in apiserver and "--secure-port=6443" in apiserver
    assert "--anonymous-auth=false" in apiserver
    assert "--service-cluster-ip-range=100.80.0.0/16" in apiserver
    manager = plane.controller_manager_args(binary)
    assert "--secure-port=0" in manager  # serves nothing
    assert f"--controllers={','.join(CONTROLLERS)}" in manager
    assert CONTROLLERS == ("garbage-collector-controller", "namespace-controller")


def test_the_kubeconfig_carries_everything_inline():
    text = kubeconfig("east", "https://127.0.0.1:6443", b"CA", b"CERT", b"KEY", "admin")
    doc = yaml.safe_load(text)
    assert doc["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:6443",
        "certificate-authority-data": "Q0E=",
    }
    assert doc["users"][0]["user"] == {
        "client-certificate-data": "Q0VSVA==",
        "client-key-data": "S0VZ",
    }
    assert doc["current-context"] == "east"


def test_the_nodes_are_the_regions_kubernetes_hosts():
    dev, prod = plans()
    names = [n["metadata"]["name"] for n in node_objects([prod])]
    assert names == sorted(
        ["master-1", "master-2", "master-3", "ingress-1", "ingress-2", "ingress-3", "ingress-4"]
        + ["ingress-5", "worker-1", "worker-2", "worker-3", "worker-4", "worker-5", "worker-6"]
    )
    assert [n["metadata"]["name"] for n in node_objects([dev])] == ["master-1", "worker-1"]


# --- the session's server -----------------------------------------------------------------------


def _listening(pid: int) -> list[str]:
    """``address:port`` of every TCP socket ``pid`` listens on (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            if width == 8:
                host = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                host = f"[{address}]"
            found.append(f"{host}:{int(port, 16)}")
    return sorted(found)


def test_nothing_listens_beyond_loopback(lab_apiserver):
    pids = lab_apiserver.pids()
    assert sorted(pids) == ["etcd", "kube-apiserver", "kube-controller-manager"]
    ports = lab_apiserver.plane.ports
    assert _listening(pids["etcd"]) == sorted(
        [f"127.0.0.1:{ports.etcd_client}", f"127.0.0.1:{ports.etcd_peer}"]
    )
    assert _listening(pids["kube-apiserver"]) == [f"127.0.0.1:{ports.apiserver}"]
    assert _listening(pids["kube-controller-manager"]) == []


def test_the_server_is_the_pinned_release_behind_its_own_ca(lab_apiserver):
    plane = lab_apiserver.plane
    assert lab_apiserver.client.get("/version")["gitVersion"] == KUBERNETES_RELEASE
    # The system's trust store does not know the run's CA: its certificate is refused.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(f"{plane.server}/version", timeout=5)
    # The CA alone, without a client certificate: the server refuses anonymous requests.
    context = ssl.create_default_context(cafile=str(plane.cert("ca")))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{plane.server}/version", context=context, timeout=5)
    assert refused.value.code == 401
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in plane.pki.iterdir()} == {
        p.name: "0o600" for p in plane.pki.iterdir()
    }
    assert oct(plane.admin_kubeconfig.stat().st_mode & 0o777) == "0o600"


def test_the_kubeconfig_reaches_the_server_as_an_admin(lab_apiserver):
    doc = yaml.safe_load(lab_apiserver.kubeconfig)
    assert doc["clusters"][0]["cluster"]["server"] == lab_apiserver.plane.server
    review = lab_apiserver.client.request(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "*", "resource": "*", "group": "*"}},
        },
    )
    assert review["status"]["allowed"] is True


def test_the_regions_nodes_and_lanes_crds_are_there(lab_apiserver):
    client = lab_apiserver.client
    nodes = sorted(n["metadata"]["name"] for n in client.get("/api/v1/nodes")["items"])
    assert nodes == [n["metadata"]["name"] for n in node_objects(plans())]
    served = {
        (group["name"], version["version"])
        for group in client.get("/apis")["groups"]
        for version in group["versions"]
    }
    for crd in lab_crds():
        for version in crd["spec"]["versions"]:
            if version["served"]:
                assert (crd["spec"]["group"], version["name"]) in served
    assert ("projectcalico.org", "v3") in served  # the Calico API server's stand-in
    assert client.exists(f"/api/v1/namespaces/{GATEWAY_NAMESPACE}")


# --- more servers: the command and a failed start -----------------------------------------------


def test_a_failed_start_stops_what_it_started_and_removes_its_folder(monkeypatch, tmp_path):
    started: list[int] = []
    roots: set[Path] = set()
    spawn = apiserver_run._spawn

    def recording(plane, name, argv):
        if name == "kube-apiserver":
            argv = [*argv, "--no-such-flag"]  # the API server exits at once
        proc = spawn(plane, name, argv)
        started.append(proc.pid)
        roots.add(plane.root)
        return proc

    monkeypatch.setattr(apiserver_run, "_spawn", recording)
    with pytest.raises(ClusterError, match="kube-apiserver exited with 1; its log ends"):
        with lab_cluster(plans(), "100.80.0.0/16"):
            pytest.fail("the block must not run")
    assert len(started) == 2  # etcd, then the API server that failed
    assert not [pid for pid in started if alive(pid)]
    (root,) = roots
    assert not root.exists() and not root.parent.exists()


def _lanes(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lanes", "lab", "cluster", *args, "--stack", "dev"]
        + ["--project-dir", str(project)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_lab_cluster_up_status_down(tmp_path):
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    try:
        up = _lanes(tmp_path, "up")
        assert up.returncode == 0, up.stderr
        kubeconfig_path = Path(up.stdout.strip())
        assert "pulumi config set --secret lanes:kubeconfig --stack dev <" in up.stderr
        assert "client-key-data" not in up.stdout + up.stderr  # a secret: never printed
        server = yaml.safe_load(kubeconfig_path.read_text())["clusters"][0]["cluster"]["server"]
        status = _lanes(tmp_path, "status")
        assert status.stdout.startswith(f"cluster lab: up at {server}\n"), status.stdout
        pids = [int(line.split()[-1]) for line in status.stdout.splitlines()[1:]]
        assert len(pids) == 3 and all(alive(p) for p in pids)
        again = _lanes(tmp_path, "up")
        assert again.returncode == 0 and "already up" in again.stderr, again.stderr
        down = _lanes(tmp_path, "down")
        assert down.returncode == 0 and "stopped 3 process(es)" in down.stderr, down.stderr
        assert not [p for p in pids if alive(p)]
        assert not kubeconfig_path.parent.exists()
        assert _lanes(tmp_path, "status").stdout == "cluster lab: absent\n"
    finally:
        _lanes(tmp_path, "down")
