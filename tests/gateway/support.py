"""Shared pieces of the gateway tests: configs, namespace wiring, provisioning as the
component does it, and probes that report which server answered and whom it saw."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from lanes.config import parse_stack_config
from lanes.intents.gateway import GatewayModel, GatewayPaths, derive_gateways
from lanes.lab.netns import NetLab, NsHost, Segment, SshClient, SshResult
from lanes.lab.probe import PEER, seen, serve
from lanes.model.plan import Plan
from lanes.render.gateway_scripts import GatewayFiles, render_gateway
from lanes.render.scripts import sh_command
from lanes.rules import checked_plan
from tests.support.pulumi_run import stack_values

__all__ = [
    "PEER",
    "plan_of",
    "models_of",
    "wire_gateway",
    "node",
    "serve",
    "seen",
    "Gateway",
]


def plan_of(stack: str, edit: Callable[[dict[str, Any]], None] | None = None) -> Plan:
    """The plan of a stack file, optionally edited; every rule must hold."""
    values = copy.deepcopy(stack_values(stack))
    if edit is not None:
        edit(values)
    report = checked_plan(parse_stack_config(values))
    assert report.ok, [str(v) for v in report.violations]
    assert report.plan is not None
    return report.plan


def models_of(plan: Plan) -> dict[str, GatewayModel]:
    return {m.name: m for m in derive_gateways(plan)}


def wire_gateway(
    lab: NetLab, plan: Plan, model: GatewayModel, segments: dict[str, Segment]
) -> NsHost:
    """The gateway host as a namespace: one veth per interface the model names, with the
    plan's addresses (VLAN interfaces become plain veths named like them)."""
    host = plan.host(model.host)
    assert host is not None
    ns = lab.host(model.host)
    for network, ifname in model.interfaces:
        addresses = [a.interface for a in host.addresses if a.network == network]
        lab.link(ns, segments[network], ifname, addresses)
    return ns


def node(lab: NetLab, name: str, segment: Segment, cidr: str, via: str | None = None) -> NsHost:
    """A single-homed host; ``via`` its default gateway."""
    host = lab.host(name)
    lab.link(host, segment, "eth0", [cidr])
    if via:
        host.add_route("default", via=via)
    return host


class Gateway:
    """One gateway namespace reached over SSH, provisioned exactly as EdgeGateway does it:
    prepare, CopyToRemote of each file, then the apply command (``sh -c`` of the script)."""

    def __init__(self, lab: NetLab, ns: NsHost, model: GatewayModel, ssh_from: NsHost, listen: str):
        self.ns = ns
        self.model = model
        self.paths = GatewayPaths(str(lab.state_dir / "roots" / model.name))
        endpoint = ns.start_sshd(listen=[listen])
        self.ssh = SshClient(endpoint, ssh_from)

    def files(self, model: GatewayModel | None = None) -> GatewayFiles:
        return render_gateway(model or self.model, self.paths)

    def copy(self, files: GatewayFiles) -> None:
        assert self.ssh.run(sh_command(files.prepare)).exit_code == 0
        self.ssh.copy(files.ruleset, self.paths.ruleset)
        if files.nginx is not None:
            self.ssh.copy(files.nginx, self.paths.nginx_conf)

    def apply(self, model: GatewayModel | None = None, check: bool = True) -> SshResult:
        files = self.files(model)
        self.copy(files)
        result = self.ssh.run(sh_command(files.apply))
        if check:
            assert result.exit_code == 0, result.stderr
        return result

    def delete(self) -> SshResult:
        return self.ssh.run(sh_command(self.files().delete))

    def ruleset(self) -> str:
        return self.ns.run(["nft", "list", "ruleset"]).stdout
