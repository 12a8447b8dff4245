"""A stack's site materialised in network namespaces: bring it up, re-apply, probe, take it down.

One namespace per host of the stack's AZ (gateway hosts included), one bridge per network
segment, and a ``deploy`` namespace standing in for the box Pulumi runs on, on the outside
network the gateway maps into, and a namespace per outside party of the gateway intents (the
front load balancer, a proxy's upstream, a published service, a consumer: ``derive_parties``) on
its outside network. The lab is provisioned the way ``pulumi up`` provisions the real
site: sshd in every host, then every gateway's and every host's rendered files copied over SFTP
and applied by the very scripts the Commands run, from the deploy box and through the jump host.
Differences, each forced by the namespace, and nothing else:

- Every file goes under ``<state dir>/roots/<host>`` (never this machine's /etc): the namespaces
  share one filesystem.
- There is no systemd or networkd in a namespace: the lab applies the host model the netplan file
  is rendered from (``ip_commands``) with iproute2 before sshd starts, the netplan "reload" is a
  no-op, the sysctl reload loads the rendered drop-in with ``sysctl -p`` (sysctls are per
  namespace), the kubelet reload is a no-op.
- This kernel has no bond or VLAN devices: every layer-3 device of the model (``eth0``,
  ``bond0.200``) is a plain veth of that name on its network's bridge.
- Bootstrap: the jump host is reached through the gateway's 1:1 mapping, so the gateways are
  applied first, from the deploy box straight to the gateway host's outside address; then the
  hosts, through the jump host as the stack's ssh settings say.
- sshd logs in as root with the lab's own throwaway keys, pinned per host.

The region lab (``region_site_model``, ``lab up --region``) builds every AZ of the region at
once: one segment per platform network per AZ (``management-az-1``; layer 2 never leaves an AZ),
one for the line between the AZ routers, and the outside networks as above (every AZ's edge on
the one enterprise segment). It is provisioned the same way: the gateways from the deploy box,
then every host through the jump host, which reaches the other AZs' hosts through its AZ's
router and the line. Its matrix adds the cells between AZs (``lanes.lab.crossaz``).

State lives in ``/run/lanes-lab/<prefix>/`` (``site.json`` once the lab is complete). The prefix
is derived from the project directory and the stack (``lab_prefix``), so two stacks or two
checkouts never share a lab, and ``take_down`` finds everything by it, also after a failed up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanes.intents.gateway import GatewayModel, GatewayPaths, content_hash, derive_gateways
from lanes.lab.crossaz import (
    CrossCell,
    derive_cross_cells,
    derive_l2_flows,
    region_azs,
    segment_key,
)
from lanes.lab.iproute import ip_commands
from lanes.lab.l2probe import probe_l2
from lanes.lab.matrix import (
    DEPLOY,
    PROBE_PORT,
    Deploy,
    Flow,
    Party,
    deploy_of,
    derive_flows,
    derive_parties,
    listeners,
)
from lanes.lab.netns import (
    _NAME_RE,
    STATE_ROOT,
    LabError,
    LabResources,
    NetLab,
    NsHost,
    SshClient,
    SshEndpoint,
    cleanup_stale,
    list_resources,
)
from lanes.lab.probe import Ask, seen_many, serve
from lanes.model.flows import L2_KINDS
from lanes.model.hostnet import HostNet, build_host_net
from lanes.model.plan import PLATFORM_SPACE, HostPlan, Plan
from lanes.render.gateway_scripts import render_gateway
from lanes.render.scripts import (
    apply_script,
    host_files,
    prepare_script,
    sh_command,
)
from lanes.render.sysctl import SYSCTL_PATH

__all__ = [
    "SiteOptions",
    "SiteModel",
    "Probe",
    "UpResult",
    "lab_prefix",
    "site_model",
    "region_site_model",
    "stack_site",
    "az_plans",
    "bring_up",
    "check_prefix",
    "take_down",
    "lab_status",
    "run_check",
    "AttachedLab",
    "Provisioner",
    "read_state",
]

STATE_FILE = "site.json"
PROVISION_WORKERS = 8
_LAB_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,11}-$")
Progress = Callable[[str], None]
_CHANGE_RE = re.compile(r"^lanes: .*\b(changed|loaded table|nginx started|nginx reloaded)\b", re.M)


@dataclass(frozen=True)
class SiteOptions:
    """What a lab may leave out, to show that a probe fails without it."""

    policy_routing: bool = True
    line_routes: bool = True  # the AZ routers' routes over the line (a region lab's)


@dataclass(frozen=True)
class SiteModel:
    """Everything the lab builds, derived from the plan: hosts, segments, gateways, flows."""

    stack: str
    plan: Plan
    nets: dict[str, HostNet]
    models: tuple[GatewayModel, ...]
    deploy: Deploy
    segments: dict[str, str]  # network -> segment name (networks sharing a device share one)
    flows: tuple[Flow, ...]
    options: SiteOptions
    parties: tuple[Party, ...] = ()
    region: bool = False  # every AZ of the region, not the stack's alone
    cross: tuple[CrossCell, ...] = ()  # the region lab's cross-AZ cells and the routes they use

    def hosts(self) -> list[HostPlan]:
        """The plan's hosts this lab builds, in plan order."""
        return [h for h in self.plan.hosts if h.name in self.nets]

    def segment_of(self, host: str | None, network: str) -> str:
        """The segment ``host`` (None: the deploy box, a party) has ``network`` on."""
        az = self.plan.host(host).az if self.region and host in self.nets else None  # type: ignore[union-attr]
        return self.segments[segment_key(network, az, self.plan.kinds.names)]

    def fingerprint(self) -> str:
        data = {
            # A region lab is the region's, whichever of its AZ stacks brought it up.
            "stack": f"region {self.plan.region}" if self.region else self.stack,
            "nets": {name: net.to_dict() for name, net in sorted(self.nets.items())},
            "gateways": [m.to_dict() for m in self.models],
            "deploy": dataclasses.asdict(self.deploy),
            "parties": [dataclasses.asdict(p) for p in self.parties],
            "listeners": listeners(self.flows),
            "options": dataclasses.asdict(self.options),
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Probe:
    flow: Flow
    answer: str | None
    ok: bool


@dataclass(frozen=True)
class UpResult:
    prefix: str
    created: bool
    changes: int
    lab: NetLab | None  # the live handle when this process created the lab


def lab_prefix(project_dir: Path, stack: str, region: str | None = None) -> str:
    """``l<stack letters><6 hex of project dir and stack>-``: the "-" ends it, so no lab's
    prefix starts another's. (A lab found with another config is refused, never re-used.)
    A region lab's (``region``: the region's name) is the region's, the same from any of its
    AZ stacks: ``r<region letters><6 hex>-``."""
    name = stack if region is None else f"region\0{region}"
    letters = re.sub(r"[^a-z0-9]", "", (stack if region is None else region).lower())[:5]
    digest = hashlib.sha256(f"{Path(project_dir).resolve()}\0{name}".encode()).hexdigest()[:6]
    return f"{'l' if region is None else 'r'}{letters}{digest}-"


def _segments(
    nets: dict[str, HostNet],
    deploy: Deploy,
    parties: tuple[Party, ...],
    platform: tuple[str, ...],
    azs: dict[str, str] | None = None,
) -> dict[str, str]:
    """segment key -> segment: networks one device carries untagged share one L2 segment."""
    segment: dict[str, str] = {}
    for net in nets.values():
        az = azs[net.host] if azs is not None else None
        for device in net.layer3():
            keys = [segment_key(n, az, platform) for n in net.link(device).networks]  # type: ignore[union-attr]
            name = next((segment[k] for k in keys if k in segment), keys[0])
            if not _NAME_RE.match(name):
                raise LabError(f"{net.path}.az: {az!r} makes the segment name {name!r} too long")
            for key in keys:
                if segment.get(key, name) != name:
                    raise LabError(
                        f"{net.path}.nics: {device} joins {key} to {name}, "
                        "which other hosts keep apart: the lab cannot wire that"
                    )
                segment[key] = name
    for network in [deploy.network, *(p.network for p in parties)]:
        segment.setdefault(network, network)
    return dict(sorted(segment.items()))


def site_model(plan: Plan, stack: str, options: SiteOptions | None = None) -> SiteModel:
    """The lab of a checked plan. Raises LabError when the stack cannot be a lab."""
    return _model(plan, stack, {plan.az: plan}, options or SiteOptions(), region=False)


def _model(
    plan: Plan, stack: str, plans: dict[str, Plan], options: SiteOptions, region: bool
) -> SiteModel:
    """The lab of the AZs of ``plans`` (the region's plan as each AZ's stack sees it): their
    hosts, gateways, parties and cells; a region lab's cells between AZs too. The deploy box is
    the first AZ's that has one."""
    models = {az: derive_gateways(p) for az, p in plans.items()}
    nets = {h.name: build_host_net(h, plan) for h in plan.hosts if h.az in plans}
    if DEPLOY in nets:
        raise LabError(f"{nets[DEPLOY].path}.name: {DEPLOY!r} is the lab's deploy box")
    # The matrix says what the design promises; the lab may then leave a piece out.
    deploy = next((d for az, p in plans.items() if (d := deploy_of(p, models[az]))), None)
    if deploy is None:
        raise LabError("gateways: the lab needs a gateway host on an outside network")
    each = [(p, models[az]) for az, p in plans.items()]
    parties = tuple(dict.fromkeys(x for p, m in each for x in derive_parties(p, m, deploy)))
    _check_parties(nets, deploy, parties)
    flows = tuple(dict.fromkeys(f for p, m in each for f in derive_flows(p, nets, m, deploy)))
    every = tuple(m for _, ms in each for m in ms)
    cross: tuple[CrossCell, ...] = ()
    if region:
        gateway_hosts = {m.host for m in every}
        ends = [n for n in nets.values() if n.host not in gateway_hosts]  # in plan order
        paths = [n for n in nets.values() if n.host in gateway_hosts]
        cross = tuple(derive_cross_cells(plan, nets, ends))
        flows = (*flows, *(c.flow for c in cross), *derive_l2_flows(plan, ends, paths))
        # A region lab's order: by name and cell, whichever AZ's stack asks.
        parties, flows = tuple(sorted(parties)), tuple(sorted(set(flows)))
        every = tuple(sorted(every, key=lambda m: m.name))
    nets = _leave_out(plan, nets, options)
    azs = {name: plan.host(name).az for name in nets} if region else None  # type: ignore[union-attr]
    segments = _segments(nets, deploy, parties, plan.kinds.names, azs)
    return SiteModel(
        stack, plan, nets, every, deploy, segments, flows, options, parties, region, cross
    )


def _leave_out(plan: Plan, nets: dict[str, HostNet], options: SiteOptions) -> dict[str, HostNet]:
    """The host models as the lab applies them: with the pieces ``options`` leaves out."""
    if not options.policy_routing:
        nets = {name: dataclasses.replace(net, rules=()) for name, net in nets.items()}
    if not options.line_routes and plan.line is not None:
        line = plan.line.name
        nets = {
            name: dataclasses.replace(net, routes=tuple(r for r in net.routes if r.network != line))
            for name, net in nets.items()
        }
    return nets


def az_plans(plan: Plan) -> dict[str, Plan]:
    """The region's plan as each AZ's stack sees it (``plan.az`` that AZ), for the AZs with
    hosts. Raises LabError when the region has no line or hosts in one AZ only."""
    azs = region_azs(plan)
    if plan.line is None:
        raise LabError(
            "line: the region lab needs the line between the AZ routers; this region has none"
        )
    if len(azs) < 2:
        raise LabError(
            f"hosts: the region lab needs hosts in two AZs or more; all are in {', '.join(azs)}"
        )
    return {az: dataclasses.replace(plan, az=az) for az in azs}


def _check_segment_names(plan: Plan, azs: Iterable[str]) -> None:
    """A region-wide segment (the line, an outside network) must not take the name of an AZ's
    own segment (``management-az-1``): the lab would join that AZ's layer 2 to it."""
    per_az = {segment_key(n, az, plan.kinds.names): (n, az) for n in plan.kinds.names for az in azs}
    named = [(f"{o.path}.name", o.name) for o in plan.outside]
    if plan.line is not None:
        named.append(("line.name", plan.line.name))
    for path, name in named:
        if name in per_az:
            network, az = per_az[name]
            raise LabError(
                f"{path}: {name!r} is the region lab's name of {az}'s {network} segment: rename it"
            )


def stack_site(
    plan: Plan, stack: str, region: bool, options: SiteOptions | None = None
) -> SiteModel:
    """The stack's lab, or (``region``) the lab of its whole region."""
    return (region_site_model if region else site_model)(plan, stack, options)


def region_site_model(plan: Plan, stack: str, options: SiteOptions | None = None) -> SiteModel:
    """The region's lab: every AZ's hosts, gateways, parties and cells, and the cells between
    AZs. The deploy box is the first AZ's (in ``azs`` order) that has one, whichever AZ's stack
    asks. Raises LabError when the region cannot be a lab."""
    plans = az_plans(plan)
    _check_segment_names(plan, plans)
    return _model(plan, stack, plans, options or SiteOptions(), region=True)


def _check_parties(nets: dict[str, HostNet], deploy: Deploy, parties: tuple[Party, ...]) -> None:
    """Each party is a namespace of its own: its name must be free and its address its own."""
    names: dict[str, Party] = {}
    for party in parties:
        if party.name in nets:
            raise LabError(
                f"{nets[party.name].path}.name: {party.name!r} is the lab's {party.role} of "
                f"{party.path}"
            )
        if party.name == DEPLOY or not _NAME_RE.match(party.name):
            raise LabError(f"{party.path}: the lab cannot name its {party.role} {party.name!r}")
        other = names.setdefault(party.name, party)
        if other is not party:
            raise LabError(f"{party.path}: the lab's {party.role} {party.name!r} is {other.path}'s")
        if (party.network, party.address) == (deploy.network, deploy.address):
            raise LabError(f"{party.path}: {party.address} is the lab's deploy box")
        for net in nets.values():
            if any((a.network, a.address) == (party.network, party.address) for a in net.addresses):
                raise LabError(
                    f"{party.path}: {party.address} is {net.host}'s own address on {party.network}"
                )


# --- bringing a lab up ------------------------------------------------------------------------


class AttachedLab:
    """Enough of a NetLab for SshClient and probes, safe to share between threads: the ids
    name the clients' known_hosts and upload files, so no two sessions may get the same."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.state_dir = STATE_ROOT / prefix
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)


def _jump_host(site: SiteModel) -> HostPlan | None:
    jump = site.plan.ssh.jump
    if jump is None:
        return None
    for host in site.hosts():
        if host.ssh.address == jump.address:
            return host
    return None


def _ssh_address(host: HostPlan, nodes: str) -> str:
    if host.ssh_address is None:
        raise LabError(f"{host.path}.ssh.address: {host.name} has no {nodes} address")
    return host.ssh_address


class Provisioner:
    """The deploy box's SSH sessions and the apply steps of the components, in lab roots."""

    def __init__(self, site: SiteModel, lab: NetLab | AttachedLab, endpoints: dict[str, dict]):
        self.site = site
        self.lab = lab
        self.deploy = NsHost(lab, DEPLOY)  # type: ignore[arg-type]
        self.endpoints = endpoints
        self.changes = 0
        self._lock = threading.Lock()

    def endpoint(self, name: str, address: str | None = None) -> SshEndpoint:
        e = self.endpoints[name]
        return SshEndpoint(
            address or e["address"],
            e["port"],
            "root",
            self.lab.state_dir / "client_ed25519",
            e["host_key"],
        )

    def client(self, host: HostPlan) -> SshClient:
        plan = self.site.plan
        jump = _jump_host(self.site)
        proxy = None
        if jump is not None and host.ssh.via_jump and jump.name != host.name:
            proxy = self.endpoint(jump.name, plan.ssh.jump.address)  # type: ignore[union-attr]
        return SshClient(self.endpoint(host.name), self.deploy, proxy)  # type: ignore[arg-type]

    def root(self, name: str) -> str:
        return str(self.lab.state_dir / "roots" / name)

    def _run(self, ssh: SshClient, script: str, what: str) -> str:
        result = ssh.run(sh_command(script))
        if result.exit_code != 0:
            raise LabError(f"{what}: exit {result.exit_code}: {result.stderr.strip()}")
        with self._lock:
            self.changes += len(_CHANGE_RE.findall(result.stdout))
        return result.stdout

    def copy(self, ssh: SshClient, files: list[tuple[str, str]]) -> None:
        """CopyToRemote of (content, path) each: Pulumi copies only when the trigger (the
        content hash) changed; the lab, which keeps no Pulumi state, asks the remote files
        instead, all in one session."""
        quoted = " ".join(shlex.quote(path) for _, path in files)
        listing = ssh.run(f"sha256sum -- {quoted} 2>/dev/null || true").stdout
        have = {}
        for line in listing.splitlines():
            digest, _, path = line.partition("  ")
            have[path] = digest
        for content, path in files:
            if have.get(path) != content_hash(content):
                ssh.copy(content, path)

    def outside_address(self, model: GatewayModel) -> str | None:
        """The gateway host's address on the deploy box's network, if it has one."""
        host = self.site.plan.host(model.host)
        assert host is not None
        network = self.site.deploy.network
        return next((str(a.address) for a in host.addresses if a.network == network), None)

    def session(self, name: str) -> SshClient:
        """How the deploy box reaches a host: a gateway host on its own network straight (the
        bootstrap: that gateway maps the jump host in), any other as the stack says."""
        for model in self.site.models:
            outside = self.outside_address(model) if model.host == name else None
            if outside is not None:
                return SshClient(self.endpoint(name, outside), self.deploy)  # type: ignore[arg-type]
        return self.client(self.site.plan.host(name))  # type: ignore[arg-type]

    def gateway(self, model: GatewayModel) -> str:
        """As EdgeGateway: prepare, copy ruleset (and nginx), apply. A gateway on the deploy
        box's network is reached straight (the bootstrap), any other as the stack says."""
        ssh = self.session(model.host)
        files = render_gateway(model, GatewayPaths(self.root(model.host)))
        self._run(ssh, files.prepare, f"gateway {model.name}: prepare")
        copies = [(files.ruleset, files.paths.ruleset)]
        if files.nginx is not None:
            copies.append((files.nginx, files.paths.nginx_conf))
        self.copy(ssh, copies)
        out = self._run(ssh, files.apply, f"gateway {model.name}: apply")
        return "; ".join(line.removeprefix("lanes: ") for line in out.splitlines())

    def host(self, host: HostPlan) -> str:
        """As BareMetalHost: prepare, copy each file to staging (content-addressed, so all
        before the first apply is the same), then apply each."""
        ssh = self.client(host)
        root = self.root(host.name)
        self._run(ssh, prepare_script(root), f"host {host.name}: prepare")
        files = host_files(self.site.nets[host.name])
        self.copy(ssh, [(file.content, root + file.staged_path) for file in files])
        said = []
        for file in files:
            out = self._run(ssh, apply_script(file, root, _lab_reload(file.kind, root)), file.kind)
            said.append(out.strip().removeprefix("lanes: ").split(" /", 1)[0])
        return ", ".join(said)


def _lab_reload(kind: str, root: str) -> tuple[tuple[str, ...], ...]:
    if kind == "sysctl":
        return (("sysctl", "-q", "-p", root + SYSCTL_PATH),)
    # netplan: the lab applied the same model with iproute2; kubelet: none runs here.
    return (("true",),)


def _wire(lab: NetLab, site: SiteModel, progress: Progress) -> dict[str, NsHost]:
    segments = {name: lab.segment(name) for name in sorted(set(site.segments.values()))}
    progress(f"segments: {', '.join(f'{s.name}={s.bridge}' for s in segments.values())}")
    hosts: dict[str, NsHost] = {}
    for name, net in site.nets.items():
        ns = hosts[name] = lab.host(name)
        for device in net.layer3():
            network = net.link(device).networks[0]  # type: ignore[union-attr]
            lab.link(ns, segments[site.segment_of(name, network)], device)
        commands = ip_commands(net)
        for argv in commands:
            ns.run(argv)
        progress(f"host {name}: {len(net.layer3())} link(s), {len(commands)} ip command(s)")
    deploy = hosts[DEPLOY] = lab.host(DEPLOY)
    d = site.deploy
    lab.link(
        deploy, segments[site.segment_of(None, d.network)], "eth0", [f"{d.address}/{d.prefixlen}"]
    )
    # The deploy box tries the inside directly too: the gateway must be what stops it.
    deploy.add_route(str(PLATFORM_SPACE), via=d.gateway)
    progress(f"deploy: {d.address}/{d.prefixlen} on {d.network}, {PLATFORM_SPACE} via {d.gateway}")
    for p in site.parties:
        party = hosts[p.name] = lab.host(p.name)
        lab.link(
            party,
            segments[site.segment_of(None, p.network)],
            "eth0",
            [f"{p.address}/{p.prefixlen}"],
        )
        party.add_route(str(PLATFORM_SPACE), via=p.gateway)
        progress(f"{p.role} {p.name}: {p.address}/{p.prefixlen} on {p.network} for {p.path}")
    return hosts


def _start_servers(site: SiteModel, hosts: dict[str, NsHost], progress: Progress) -> dict:
    endpoints = {}
    extra = listeners(site.flows)
    for name, host in hosts.items():
        plan_host = site.plan.host(name) if name in site.nets else None
        if plan_host is not None:
            e = host.start_sshd(port=plan_host.ssh.port)
            endpoints[name] = {
                "address": _ssh_address(plan_host, site.plan.kinds.nodes_network),
                "port": e.port,
                "host_key": e.host_key,
            }
        # Hosts and the deploy box answer on the probe port; parties only where a flow ends.
        ports = set(extra.get(name, ()))
        if plan_host is not None or name == DEPLOY:
            ports.add((PROBE_PORT, "tcp"))
        for port, mode in sorted(ports):
            serve(host, name, "0.0.0.0", port, mode)
        if ports - {(PROBE_PORT, "tcp")}:
            progress(
                f"{name}: probe server on port(s) {', '.join(str(p) for p, _ in sorted(ports))}"
            )
    progress(f"sshd in {len(endpoints)} host(s); probe server on port {PROBE_PORT} in each")
    return endpoints


def _provision(prov: Provisioner, progress: Progress) -> None:
    """Gateways the deploy box reaches directly first (they map the jump host in), then the
    hosts, then the other gateways (through the jump host, like the hosts)."""
    direct = [m for m in prov.site.models if prov.outside_address(m) is not None]
    for model in direct:
        progress(f"gateway {model.name} on {model.host}: {prov.gateway(model)}")
    hosts = prov.site.hosts()
    # Hosts are independent of each other: provision them side by side, as Pulumi would.
    with ThreadPoolExecutor(max_workers=PROVISION_WORKERS) as pool:
        for host, said in zip(hosts, pool.map(prov.host, hosts), strict=True):
            progress(f"host {host.name} over ssh: {said}")
    for model in prov.site.models:
        if model not in direct:
            progress(f"gateway {model.name} on {model.host}: {prov.gateway(model)}")


def read_state(prefix: str) -> dict[str, Any] | None:
    path = STATE_ROOT / prefix / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _reapply(site: SiteModel, prefix: str, state: dict, progress: Progress) -> UpResult:
    if state["fingerprint"] != site.fingerprint():
        raise LabError(
            f"lab {prefix} was brought up from another config or options: run lab down first"
        )
    found = list_resources(prefix)
    missing = sorted(set(state["namespaces"]) - set(found.namespaces))
    if missing:
        raise LabError(f"lab {prefix} lost namespace(s) {', '.join(missing)}: run lab down first")
    progress(f"lab {prefix} exists: re-applying over ssh")
    prov = Provisioner(site, AttachedLab(prefix), state["endpoints"])
    _provision(prov, progress)
    return UpResult(prefix, False, prov.changes, None)


def bring_up(site: SiteModel, prefix: str, progress: Progress | None = None) -> UpResult:
    """Create the lab, or re-apply an existing one (then ``changes`` counts what changed).

    A failure leaves what was made for inspection; ``take_down(prefix)`` removes it.
    """
    say = progress or (lambda line: None)
    state = read_state(check_prefix(prefix))
    if state is not None:
        return _reapply(site, prefix, state, say)
    if list_resources(prefix).namespaces or (STATE_ROOT / prefix).exists():
        raise LabError(f"lab {prefix} is incomplete (a failed lab up?): run lab down first")
    start = time.monotonic()
    lab = NetLab(prefix)
    say(f"lab {prefix}: {len(site.nets)} host(s) of {site.stack}, state in {lab.state_dir}")
    hosts = _wire(lab, site, say)
    endpoints = _start_servers(site, hosts, say)
    prov = Provisioner(site, AttachedLab(prefix), endpoints)
    _provision(prov, say)
    state = {
        "prefix": prefix,
        "stack": site.stack,
        "region": site.plan.region if site.region else None,
        "fingerprint": site.fingerprint(),
        "options": dataclasses.asdict(site.options),
        "namespaces": sorted([lab.switch_ns, *(h.ns for h in hosts.values())]),
        "endpoints": endpoints,
    }
    (lab.state_dir / STATE_FILE).write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    say(f"lab {prefix} up in {time.monotonic() - start:.1f}s")
    return UpResult(prefix, True, prov.changes, lab)


def check_prefix(prefix: str) -> str:
    """A lab's own prefix: ends in "-", so it never matches the start of another lab's."""
    if not isinstance(prefix, str) or not _LAB_PREFIX_RE.match(prefix):
        raise LabError(f"prefix: {prefix!r} does not match {_LAB_PREFIX_RE.pattern}")
    return prefix


def take_down(prefix: str) -> LabResources:
    """Kill every process, delete every namespace (and so every link), remove the state dir."""
    return cleanup_stale(check_prefix(prefix))


def _links(ns: str) -> list[str]:
    proc = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True)
    names = (line.split(":")[1].strip().split("@")[0] for line in proc.stdout.splitlines())
    return sorted(name for name in names if name != "lo")


def lab_status(prefix: str) -> dict[str, Any]:
    """What exists of the lab: namespaces, live processes, state dirs, and whether it is complete."""
    found = list_resources(check_prefix(prefix))
    state = read_state(prefix)
    return {
        "prefix": prefix,
        "complete": state is not None,
        "stack": state["stack"] if state else None,
        "region": state.get("region") if state else None,
        "options": state["options"] if state else None,
        "namespaces": found.namespaces,
        "links": {ns: _links(ns) for ns in found.namespaces},
        "pids": found.pids,
        "state_dirs": [str(d) for d in found.state_dirs],
    }


def _ask(flow: Flow) -> Ask:
    timeout = 2.0 if flow.expect == "reach" else 0.5
    mode = "connect" if flow.seen is None and flow.expect == "reach" else flow.mode
    return (flow.address, flow.port, mode, timeout)


def _judge(flow: Flow, answer: str | None) -> Probe:
    if flow.expect == "blocked":
        return Probe(flow, answer, answer is None)
    if flow.kind == "arp":
        return Probe(flow, answer, answer is not None)
    if flow.seen is None:
        return Probe(flow, answer, answer == "connected")
    want = f"{flow.target} {flow.seen}"
    if flow.mode == "http":  # the server adds the X-Forwarded-For header it got
        return Probe(flow, answer, (answer or "").startswith(want + " "))
    return Probe(flow, answer, answer == want)


def run_check(prefix: str, flows: tuple[Flow, ...], workers: int = 8) -> list[Probe]:
    """Probe every flow with a real TCP connection from its source namespace; the probes of one
    source run side by side in one process. Results in flow order."""
    if read_state(check_prefix(prefix)) is None:
        raise LabError(f"lab {prefix} is not up: run lab up first")
    lab = AttachedLab(prefix)
    by_source: dict[str, list[Flow]] = {}
    for flow in flows:
        if flow.kind not in L2_KINDS:
            by_source.setdefault(flow.source, []).append(flow)

    def probe(source: str) -> list[Probe]:
        batch = by_source[source]
        answers = seen_many(NsHost(lab, source), [_ask(f) for f in batch])  # type: ignore[arg-type]
        return [_judge(f, a) for f, a in zip(batch, answers, strict=True)]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        judged = {p.flow: p for batch in pool.map(probe, sorted(by_source)) for p in batch}
    l2 = [f for f in flows if f.kind in L2_KINDS]
    for flow, answer in zip(l2, probe_l2(lab, l2), strict=True):
        judged[flow] = _judge(flow, answer)
    return [judged[f] for f in flows]
