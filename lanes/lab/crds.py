"""The CRDs of the custom kinds lanes renders, read from the Go modules ``schemas/go.mod`` pins.

The CRDs are never copied into the repo: each module of ``schemas/go.mod`` is fetched through
the Go module proxy with ``go mod download -json MODULE@VERSION`` (into GOMODCACHE, outside the
repo), its hash is compared with ``schemas/go.sum``, and the CRD YAML is read from the module's
folder. The cluster tests check rendered objects against these CRDs
(``tests/cluster/crd_schema.py``); the lab cluster installs them (``lab_crds``).

``projectcalico.org/v3`` (IPPool, BGPConfiguration, BGPPeer) is served in a real cluster by the
Calico API server, an aggregated API server that the operator runs and that stores the objects
as ``crd.projectcalico.org/v1`` ones, with the schema of those CRDs. The lab runs no operator
(no pod runs there), so it serves ``projectcalico.org/v3`` from a twin of each
``crd.projectcalico.org`` CRD: the same schema under the v3 group and version. The API server
then judges v3 objects by the schema Calico stores them under; Calico's own validators (in its
API server) do not run.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "SCHEMAS_DIR",
    "OPERATOR",
    "GATEWAY_API",
    "NO_SUMDB",
    "Source",
    "SOURCES",
    "required_modules",
    "download_module",
    "module_dirs",
    "crd_document",
    "lab_crds",
]

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
OPERATOR = "github.com/tigera/operator"
GATEWAY_API = "sigs.k8s.io/gateway-api"
# The proxy's checksum database has no entry for these; schemas/go.sum pins their hash instead.
NO_SUMDB = (OPERATOR,)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Source:
    """Where one kind's CRD lives: a module, a file in it, the CRD's kind and version."""

    module: str
    path: str
    kind: str
    version: str

    def describe(self) -> str:
        return f"{self.module}/{self.path} {self.kind} {self.version}"


def _operator_crd(plural: str, kind: str) -> Source:
    return Source(OPERATOR, f"pkg/crds/operator/operator.tigera.io_{plural}.yaml", kind, "v1")


def _calico_crd(plural: str, kind: str) -> Source:
    return Source(OPERATOR, f"pkg/crds/calico/crd.projectcalico.org_{plural}.yaml", kind, "v1")


def _gateway_crds(plural: str, kind: str, version: str) -> tuple[Source, ...]:
    """The pinned Gateway API release, and the CRDs Calico's operator installs by itself
    (crdManagement PreferExisting) when the cluster has none: an object must fit both."""
    return (
        Source(
            GATEWAY_API,
            f"config/crd/standard/gateway.networking.k8s.io_{plural}.yaml",
            kind,
            version,
        ),
        Source(OPERATOR, "pkg/render/gatewayapi/gateway_api_resources.yaml", kind, version),
    )


# (apiVersion, kind) of a rendered object -> the CRDs it is checked against. projectcalico.org/v3
# is served by the Calico API server with the schema of the crd.projectcalico.org/v1 CRD.
SOURCES: dict[tuple[str, str], tuple[Source, ...]] = {
    ("projectcalico.org/v3", "IPPool"): (_calico_crd("ippools", "IPPool"),),
    ("projectcalico.org/v3", "BGPConfiguration"): (
        _calico_crd("bgpconfigurations", "BGPConfiguration"),
    ),
    ("projectcalico.org/v3", "BGPPeer"): (_calico_crd("bgppeers", "BGPPeer"),),
    ("operator.tigera.io/v1", "Installation"): (_operator_crd("installations", "Installation"),),
    ("operator.tigera.io/v1", "APIServer"): (_operator_crd("apiservers", "APIServer"),),
    ("operator.tigera.io/v1", "GatewayAPI"): (_operator_crd("gatewayapis", "GatewayAPI"),),
    ("gateway.networking.k8s.io/v1", "Gateway"): _gateway_crds("gateways", "Gateway", "v1"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): _gateway_crds("httproutes", "HTTPRoute", "v1"),
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"): _gateway_crds(
        "referencegrants", "ReferenceGrant", "v1beta1"
    ),
}


# --- the modules --------------------------------------------------------------------------------


def _go() -> str:
    found = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(found).exists():
        raise RuntimeError("the Go client is needed to fetch the CRD modules (schemas/go.mod)")
    return found


def _go_env() -> dict[str, str]:
    env = dict(os.environ, GOWORK="off", GOFLAGS="-mod=mod")
    env["GONOSUMDB"] = ",".join(filter(None, [env.get("GONOSUMDB"), *NO_SUMDB]))
    return env


def required_modules() -> list[tuple[str, str]]:
    """The ``require`` lines of schemas/go.mod, as ``(path, version)``."""
    out = subprocess.run(
        [_go(), "mod", "edit", "-json", str(SCHEMAS_DIR / "go.mod")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [(r["Path"], r["Version"]) for r in json.loads(out)["Require"] or []]


def _pinned_sums() -> dict[tuple[str, str], str]:
    sums = {}
    for line in (SCHEMAS_DIR / "go.sum").read_text().splitlines():
        path, version, digest = line.split()
        sums[(path, version)] = digest
    return sums


def download_module(path: str, version: str) -> Path:
    """The module's folder in GOMODCACHE, fetched if needed; its hash must be schemas/go.sum's."""
    with tempfile.TemporaryDirectory() as outside:  # no go.mod around: nothing lands in the repo
        done = subprocess.run(
            [_go(), "mod", "download", "-json", f"{path}@{version}"],
            cwd=outside,
            env=_go_env(),
            capture_output=True,
            text=True,
        )
    info = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode or info.get("Error"):
        raise RuntimeError(f"go mod download {path}@{version}: {info.get('Error') or done.stderr}")
    pinned = _pinned_sums().get((path, version))
    if info["Sum"] != pinned:
        raise RuntimeError(
            f"{path}@{version}: downloaded {info['Sum']}, schemas/go.sum pins {pinned}"
        )
    return Path(info["Dir"])


@functools.cache
def module_dirs() -> dict[str, Path]:
    """Every module of schemas/go.mod -> its folder."""
    return {path: download_module(path, version) for path, version in required_modules()}


# --- the CRDs ----------------------------------------------------------------------------------


@functools.cache
def _documents(file: Path) -> tuple[dict[str, Any], ...]:
    with file.open() as stream:
        return tuple(d for d in yaml.load_all(stream, Loader=_LOADER) if d)


def crd_document(source: Source) -> dict[str, Any]:
    """The one CustomResourceDefinition of ``source``'s kind in its file (shared: copy to edit)."""
    file = module_dirs()[source.module] / source.path
    crds = [
        d
        for d in _documents(file)
        if d.get("kind") == "CustomResourceDefinition" and d["spec"]["names"]["kind"] == source.kind
    ]
    if len(crds) != 1:
        raise LookupError(f"{source.describe()}: {len(crds)} CRDs of that kind in the file")
    return crds[0]


def _twin(crd: dict[str, Any], group: str, version: str, served: str) -> dict[str, Any]:
    """``crd``'s ``served`` version's schema served as ``group/version`` (the Calico API server's
    stand-in: projectcalico.org/v3 with the crd.projectcalico.org/v1 schema)."""
    (source,) = [v for v in crd["spec"]["versions"] if v["name"] == served]
    twin = copy.deepcopy(crd)
    plural = twin["spec"]["names"]["plural"]
    twin["metadata"] = {"name": f"{plural}.{group}"}
    twin["spec"]["group"] = group
    twin["spec"]["versions"] = [dict(copy.deepcopy(source), name=version, served=True, storage=True)]
    return twin


def lab_crds() -> list[dict[str, Any]]:
    """The CRDs a lab cluster serves: one per group and kind lanes renders, from its first source
    (the pinned Gateway API release before the operator's copy); a v3 twin for projectcalico.org."""
    found: dict[str, dict[str, Any]] = {}
    for (api_version, _), sources in sorted(SOURCES.items()):
        group, version = api_version.split("/")
        crd = crd_document(sources[0])
        if crd["spec"]["group"] != group:
            crd = _twin(crd, group, version, sources[0].version)
        found.setdefault(crd["metadata"]["name"], crd)
    return [found[name] for name in sorted(found)]
