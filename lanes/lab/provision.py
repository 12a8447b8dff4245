"""A lab site provisioned the way ``pulumi up`` provisions the real one: the same steps, scripts
and order as the components, over real SSH from the deploy box.

Each lab host has its own ``/etc``, ``/var/lib`` and ``/run`` (``lanes.lab.netns``), so every
script runs unmodified: paths under ``/``, the real reload commands (``netplan apply``,
``sysctl --system``, ``systemctl``: the lab's stand-ins where a namespace cannot do the real
thing). Per host, as ``BareMetalHost``: its one step (every file on stdin, staged, armed and
applied), then the confirmation over a fresh session; per gateway, as ``EdgeGateway``: its one
step, then the confirmation through the management path; per AZ router, as ``BgpSpeaker``:
prepare, copy, apply.
In the order of ``lanes.remote.access``: the gateway hosts the deploy box reaches directly first (their
host files, gateways, BGP), then every other host through the jump host.

Where Pulumi keeps state and skips what did not change, the lab runs the step and the host
answers: a host whose files all hold what would be applied says ``unchanged`` and arms nothing
(and is not confirmed), as Pulumi leaves an unchanged host alone.

``base_netplan`` is a bare lab host's own network before lanes (a distribution's netplan file
on a real host): the address SSH reaches it on, and the main-table routes lanes' own model puts
on that device, so lanes' file merges with it and ``pulumi destroy`` returns the host to it.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import yaml

from lanes.intents.gateway import GatewayModel, content_hash
from lanes.lab.netns import LabError, NsHost, SshClient, SshEndpoint
from lanes.model.cluster import BgpRouter, bgp_routers
from lanes.model.hostnet import DEFAULT_MTU, MAIN_TABLE, HostNet
from lanes.model.plan import HostPlan, Plan
from lanes.remote.access import access, direct_hosts
from lanes.remote.confirm import confirm_address
from lanes.render.bird import STAGED_CONF, render_bird, render_bird_apply, render_bird_prepare
from lanes.render.gateway_scripts import render_gateway
from lanes.render.netplan import netplan_document
from lanes.render.scripts import (
    confirm_host_script,
    host_files,
    host_stdin,
    provision_host_script,
    sh_command,
)

__all__ = ["BASE_NETPLAN", "base_netplan", "Provisioner", "provision"]

BASE_NETPLAN = "/etc/netplan/50-lab.yaml"
WORKERS = 8
Progress = Callable[[str], None]
_CHANGE_RE = re.compile(
    r"^lanes: .*\b(changed|loaded table|nginx started|nginx reloaded|no longer rendered)\b", re.M
)


class Lab(Protocol):
    """What sessions need of a lab: its state folder and unique ids (NetLab, AttachedLab)."""

    prefix: str
    state_dir: Path

    def _next_id(self) -> int: ...


class Site(Protocol):
    """What provisioning needs of a lab's site (``lanes.lab.site.SiteModel``)."""

    @property
    def plan(self) -> Plan: ...

    @property
    def nets(self) -> dict[str, HostNet]: ...

    @property
    def models(self) -> tuple[GatewayModel, ...]: ...

    @property
    def region(self) -> bool: ...

    def hosts(self) -> list[HostPlan]: ...


def _az_plan(site: Site, host: HostPlan) -> Plan:
    """The plan as the host's own AZ stack sees it (a region lab holds every AZ)."""
    return dataclasses.replace(site.plan, az=host.az) if site.region else site.plan


def base_netplan(plan: Plan, host: HostPlan, net: HostNet) -> str:
    """A bare lab host's own netplan file (``BASE_NETPLAN``): see the module."""
    landing = access(plan, host).own
    address = next((a for a in net.addresses if a.address == landing), None)
    if address is None:
        raise LabError(f"{host.path}.ssh.address: the lab cannot place {landing} on {host.name}")
    device = address.device
    routes = tuple(r for r in net.routes if r.device == device and r.table == MAIN_TABLE)
    base = dataclasses.replace(
        net,
        links=tuple(dataclasses.replace(link, mtu=DEFAULT_MTU) for link in net.links),
        addresses=(address,),
        routes=routes,
        rules=(),
        tables=(),
        sysctls=(),
    )
    header = (
        f"# {BASE_NETPLAN} of lab host {host.name}: its network before lanes (a distribution's\n"
        "# file on a real host): the address SSH reaches it on and that device's main routes.\n"
    )
    return header + yaml.safe_dump(netplan_document(base), sort_keys=False, width=100)


class Provisioner:
    """The deploy box's SSH sessions into a lab's hosts and the components' steps over them."""

    def __init__(self, site: Site, lab: Lab, endpoints: dict[str, dict]):
        self.site = site
        self.lab = lab
        self.deploy = NsHost(lab, "deploy")  # type: ignore[arg-type]
        self.endpoints = endpoints
        self.changes = 0
        self._lock = threading.Lock()
        self._timeout = site.plan.confirm_timeout

    # --- sessions --------------------------------------------------------------------------

    def endpoint(self, name: str, address: str | None = None) -> SshEndpoint:
        e = self.endpoints[name]
        return SshEndpoint(
            address or e["address"],
            e["port"],
            "root",
            self.lab.state_dir / "client_ed25519",
            e["host_key"],
        )

    def _jump(self) -> SshEndpoint | None:
        jump = self.site.plan.ssh.jump
        if jump is None:
            return None
        host = next(
            (h for h in self.site.hosts() if access(self.site.plan, h).address == jump.address),
            None,
        )
        return self.endpoint(host.name, jump.address) if host is not None else None

    def session(self, name: str) -> SshClient:
        """How the deploy box reaches a host (``lanes.remote.access``): a gateway host on its network
        straight at its own address there, any other as the stack says, through the jump host."""
        host = self.site.plan.host(name)
        assert host is not None
        route = access(_az_plan(self.site, host), host)
        proxy = self._jump() if route.via_jump else None
        if route.via_jump and proxy is None:
            raise LabError(f"{host.path}: the lab has no jump host to reach {name} through")
        return SshClient(self.endpoint(name, route.address), self.deploy, proxy)  # type: ignore[arg-type]

    def confirm_session(self, model: GatewayModel) -> SshClient:
        """As EdgeGateway's confirm step: through the jump mapping the gateway carries."""
        host = self.site.plan.host(model.host)
        assert host is not None
        address = confirm_address(_az_plan(self.site, host), model)
        jump = self._jump()
        if address is None or jump is None:
            return self.session(model.host)
        return SshClient(self.endpoint(model.host, address), self.deploy, jump)  # type: ignore[arg-type]

    # --- steps -----------------------------------------------------------------------------

    def run(self, ssh: SshClient, script: str, what: str, stdin: str | None = None) -> str:
        result = ssh.run(sh_command(script), stdin=stdin, timeout=self._timeout + 90)
        if result.exit_code != 0:
            said = result.stderr.strip() or f"ssh exit {result.exit_code}"
            raise LabError(f"{what}: exit {result.exit_code}: {said}")
        with self._lock:
            self.changes += len(_CHANGE_RE.findall(result.stdout))
        return result.stdout

    def _hashes(self, ssh: SshClient, paths: list[str]) -> dict[str, str]:
        quoted = " ".join(shlex.quote(path) for path in paths)
        listing = ssh.run(f"sha256sum -- {quoted} 2>/dev/null || true").stdout
        have = {}
        for line in listing.splitlines():
            digest, _, path = line.partition("  ")
            have[path] = digest
        return have

    def copy(self, ssh: SshClient, files: list[tuple[str, str]]) -> None:
        """CopyToRemote of (content, path) each, for the files the host does not hold yet."""
        have = self._hashes(ssh, [path for _, path in files])
        for content, path in files:
            if have.get(path) != content_hash(content):
                ssh.copy(content, path)

    def host(self, host: HostPlan) -> str:
        """As BareMetalHost: the one step (every file on stdin; staged, armed, applied), then
        the confirmation over a fresh session. A host that says ``unchanged`` armed nothing and
        is not confirmed, as Pulumi runs neither step of an unchanged host."""
        name, ssh = host.name, self.session(host.name)
        files = host_files(self.site.nets[name])
        script = provision_host_script(name, files, self._timeout)
        out = self.run(ssh, script, f"host {name}: apply", host_stdin(files))
        said = [
            line.removeprefix("lanes: ").split(" /", 1)[0]
            for line in out.splitlines()
            if re.match(r"^lanes: [a-z]+: (changed|unchanged|restored|removed) ", line)
        ]
        if f"lanes: {name}: unchanged" in out.splitlines():
            return "unchanged"
        self.run(self.session(name), confirm_host_script(name, files), f"host {name}: confirm")
        return ", ".join(said)

    def gateway(self, model: GatewayModel) -> str:
        """As EdgeGateway: the one step (files on stdin; armed, applied), then the confirmation
        through the management path."""
        ssh = self.session(model.host)
        files = render_gateway(model, timeout=self._timeout)
        out = self.run(ssh, files.provision, f"gateway {model.name}: apply", files.stdin)
        self.run(self.confirm_session(model), files.confirm, f"gateway {model.name}: confirm")
        said = [line for line in out.splitlines() if not re.search(r": armed rollback ", line)]
        return "; ".join(line.removeprefix("lanes: ") for line in said)

    def speaker(self, router: BgpRouter) -> str:
        """As BgpSpeaker: prepare, copy the rendered bird.conf, apply."""
        ssh = self.session(router.host)
        self.run(ssh, render_bird_prepare(), f"bgp {router.host}: prepare")
        self.copy(ssh, [(render_bird(router), STAGED_CONF)])
        out = self.run(ssh, render_bird_apply(), f"bgp {router.host}: apply")
        return out.strip().splitlines()[-1] if out.strip() else "applied"


def _routers(site: Site, names: set[str]) -> list[BgpRouter]:
    found = []
    for host in site.hosts():
        if host.name in names:
            plan = _az_plan(site, host)
            found += [r for r in bgp_routers(plan) if r.host == host.name and r.az == host.az]
    return found


def _first(site: Site) -> set[str]:
    """The hosts reached directly, of every AZ the lab holds."""
    return {h.name for h in site.hosts() if h in direct_hosts(_az_plan(site, h))}


def provision(prov: Provisioner, progress: Progress) -> None:
    """Every host, gateway and AZ router of the lab, in the components' order: the directly
    reached gateway hosts first (their files, then gateways and BGP), then the others."""
    site = prov.site
    first = _first(site)
    for wave in (first, {h.name for h in site.hosts()} - first):
        hosts = [h for h in site.hosts() if h.name in wave]
        # Hosts are independent of each other: provisioned side by side, as Pulumi would.
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for host, said in zip(hosts, pool.map(prov.host, hosts), strict=True):
                progress(f"host {host.name} over ssh: {said}")
        for model in site.models:
            if model.host in wave:
                progress(f"gateway {model.name} on {model.host}: {prov.gateway(model)}")
        for router in _routers(site, wave):
            progress(f"bgp {router.host}: {prov.speaker(router)}")
