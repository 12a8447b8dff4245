"""The lab cluster's binaries: etcd, kube-apiserver, kube-controller-manager and the
pulumi-kubernetes plugin, built from the Go modules pinned in ``cluster-tools/`` into a cache
outside the clone, one folder per module keyed by its hash, so a machine builds each once.

``python -m lanes.lab.clustertools`` (``make cluster-tools``) builds what is missing and prints
each binary's folder; ``tool_path(name)`` finds a built binary or says how to build it.

The key of a module's folder is the SHA-256 of its go.mod and go.sum, the recipe below (the
packages, the linker flags, the provider's release) and the Go version: change any of them
and the next build lands in a new folder, while an unchanged clone (or a fresh clone on the
same machine) finds its binaries and builds nothing.

The pulumi-kubernetes module zip lacks the two ``*-embed.json`` files its main package embeds;
the module's own ``generate.go`` writes them from the ``schema.json`` and
``terraform-mapping.json`` it ships, offline, into a build folder beside the binary (never into
the repo or the read-only module cache), beside a copy of its ``main.go`` in a module of that
folder pinned by the same go.mod and go.sum, which is what is built.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CLUSTER_TOOLS",
    "PROVIDER_RELEASE",
    "KUBERNETES_RELEASE",
    "ToolModule",
    "MODULES",
    "ToolsMissing",
    "cache_root",
    "module_key",
    "module_dir",
    "tool_path",
    "tool_paths",
    "missing_tools",
    "build_module",
    "build_all",
]

# The wrapper modules live in the repo (lanes is installed editable from it).
CLUSTER_TOOLS = Path(__file__).resolve().parents[2] / "cluster-tools"
# github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260115033456-f47bc2d6f199 is the code
# of the v4.25.0 release (see cluster-tools/provider/go.mod): stamped so, the engine matches it
# to the pulumi-kubernetes 4.25.0 Python SDK the project pins.
PROVIDER_RELEASE = "4.25.0"
KUBERNETES_RELEASE = "v1.37.2"
PROVIDER_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4"
PROVIDER_MAIN = f"{PROVIDER_MODULE}/cmd/pulumi-resource-kubernetes"
_K8S_LDFLAGS = (
    f"-X k8s.io/component-base/version.gitVersion={KUBERNETES_RELEASE}",
    "-X k8s.io/component-base/version.gitMajor=1",
    "-X k8s.io/component-base/version.gitMinor=37",
    "-X k8s.io/component-base/version.gitTreeState=clean",
)


@dataclass(frozen=True)
class ToolModule:
    """One wrapper module of cluster-tools/: the binaries it builds (name -> Go package)."""

    folder: str
    binaries: tuple[tuple[str, str], ...]
    ldflags: tuple[str, ...] = ()
    embeds: bool = False  # the provider: generate its *-embed.json files first

    @property
    def path(self) -> Path:
        return CLUSTER_TOOLS / self.folder


MODULES: tuple[ToolModule, ...] = (
    ToolModule("etcd", (("etcd", "go.etcd.io/etcd/server/v3"),)),
    ToolModule(
        "kubernetes",
        (
            ("kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"),
            ("kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager"),
        ),
        ldflags=_K8S_LDFLAGS,
    ),
    ToolModule(
        "provider",
        (("pulumi-resource-kubernetes", PROVIDER_MAIN),),
        ldflags=(f"-X {PROVIDER_MODULE}/pkg/version.Version={PROVIDER_RELEASE}",),
        embeds=True,
    ),
)


class ToolsMissing(RuntimeError):
    """A binary the lab cluster needs is not built on this machine."""


def cache_root() -> Path:
    """``$LANES_CLUSTER_TOOLS`` (the Makefile passes it, so the tests run under sudo find what
    the user built), else ``$XDG_CACHE_HOME/lanes/cluster-tools`` (``~/.cache/...``)."""
    if os.environ.get("LANES_CLUSTER_TOOLS"):
        return Path(os.environ["LANES_CLUSTER_TOOLS"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lanes" / "cluster-tools"


def _go() -> str:
    found = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(found).exists():
        raise ToolsMissing("the Go client is needed to build the lab cluster's binaries")
    return found


def _go_version() -> str:
    return subprocess.run(
        [_go(), "env", "GOVERSION"], check=True, capture_output=True, text=True
    ).stdout.strip()


def _recipe(module: ToolModule) -> dict[str, object]:
    return {
        "binaries": [list(b) for b in module.binaries],
        "ldflags": list(module.ldflags),
        "embeds": module.embeds and PROVIDER_RELEASE,
        "flags": ["-trimpath"],
    }


def module_key(module: ToolModule, go_version: str) -> str:
    """The hash a module's binaries are filed under."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update(name.encode() + b"\0" + (module.path / name).read_bytes() + b"\0")
    digest.update(json.dumps(_recipe(module), sort_keys=True).encode())
    digest.update(go_version.encode())
    return digest.hexdigest()[:20]


def module_dir(module: ToolModule, go_version: str | None = None) -> Path:
    """Where the module's binaries are (or will be) for this clone and Go."""
    key = module_key(module, go_version or _go_version())
    return cache_root() / f"{module.folder}-{key}"


def tool_paths() -> dict[str, Path]:
    """Every binary's path for this clone (built or not)."""
    version = _go_version()
    return {
        name: module_dir(module, version) / name
        for module in MODULES
        for name, _ in module.binaries
    }


def missing_tools(names: tuple[str, ...] | None = None) -> list[str]:
    """The binaries (default: all) not built for this clone."""
    paths = tool_paths()
    wanted = names or tuple(paths)
    return sorted(name for name in wanted if not os.access(paths[name], os.X_OK))


def tool_path(name: str) -> Path:
    """A built binary, or ToolsMissing naming the command that builds it."""
    path = tool_paths()[name]
    if not os.access(path, os.X_OK):
        raise ToolsMissing(
            f"{name} is not built for this clone ({path} is missing): run `make cluster-tools`"
        )
    return path


def _go_env() -> dict[str, str]:
    env = dict(os.environ, GOWORK="off", GOFLAGS="-mod=readonly -buildvcs=false")
    shared = CLUSTER_TOOLS.parent.parent / "shared" / "goproxy"
    if shared.is_dir() and "GOPROXY" not in os.environ:
        # The machines' on-disk proxy (two Pulumi modules) first, then the ordinary proxy.
        env["GOPROXY"] = f"file://{shared.resolve()},https://proxy.golang.org,direct"
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(["nice", "-n", "10", *args], cwd=cwd, env=env, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} (in {cwd}) failed with exit {done.returncode}")


def _provider_main(module: ToolModule, build: Path, env: dict[str, str]) -> Path:
    """The provider's main package, copied beside its *-embed.json files (written by the
    module's own generate.go) into a module of the build folder pinned by our go.mod and go.sum:
    a package in GOMODCACHE can neither be written to nor overlaid."""
    source = Path(
        subprocess.run(
            [_go(), "list", "-m", "-f", "{{.Dir}}", PROVIDER_MODULE],
            cwd=module.path,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    ) / "cmd" / "pulumi-resource-kubernetes"
    main = build / "main"
    main.mkdir()
    for name in ("go.mod", "go.sum"):
        shutil.copyfile(module.path / name, main / name)
    for name in ("main.go", "schema.json", "terraform-mapping.json"):
        shutil.copyfile(source / name, main / name)
    generator = build / "generate"
    _run([_go(), "build", "-o", str(generator), str(source / "generate.go")], module.path, env)
    _run([str(generator)], main, dict(env, VERSION=PROVIDER_RELEASE))
    return main


def build_module(module: ToolModule, say: Callable[[str], None] = print) -> Path:
    """Build the module's binaries into their cache folder (nothing if they are there)."""
    target = module_dir(module)
    names = [name for name, _ in module.binaries]
    if all(os.access(target / n, os.X_OK) for n in names):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    env = _go_env()
    started, before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        flags = ["-trimpath", "-ldflags", " ".join(("-s", "-w", *module.ldflags))]
        out = work / "bin"
        out.mkdir()
        for name, package in module.binaries:  # the second reuses the first's compiled packages
            if module.embeds:
                where, package = _provider_main(module, work, env), "."
            else:
                where = module.path
            _run([_go(), "build", *flags, "-o", str(out / name), package], where, env)
        try:
            out.rename(target)
        except OSError:
            if not all(os.access(target / n, os.X_OK) for n in names):
                raise  # not another build finishing first: a real failure
    finally:
        shutil.rmtree(work, ignore_errors=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    say(
        f"{module.folder}: built {', '.join(names)} in {time.monotonic() - started:.0f} s "
        f"({cpu / 60:.1f} CPU-minutes, peak {after.ru_maxrss / 1024:.0f} MB RSS of one process, "
        f"{sum(f.stat().st_size for f in target.iterdir()) / 1e6:.0f} MB) -> {target}"
    )
    return target


def build_all(say: Callable[[str], None] = print) -> dict[str, Path]:
    """Build every missing module; return every binary's path."""
    for module in MODULES:
        build_module(module, say)
    return tool_paths()


if __name__ == "__main__":
    try:
        paths = build_all()
    except (RuntimeError, ToolsMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    for folder in sorted({p.parent for p in paths.values()}):
        print(folder)
