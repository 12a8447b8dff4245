"""Bare-metal hosts: every rendered file sent over SSH and applied by one remote Command."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.connection import SshTarget, command, connection_args
from lanes.config.apply import DEFAULT_CONFIRM_TIMEOUT
from lanes.model.hostnet import HostNet, build_host_net
from lanes.model.plan import HostPlan, Plan
from lanes.remote.access import access
from lanes.render.scripts import (
    HostFile,
    confirm_host_script,
    host_files,
    host_stdin,
    provision_host_script,
    remove_host_script,
    sh_command,
)

__all__ = [
    "SshTarget",
    "BareMetalHostArgs",
    "BareMetalHost",
    "ssh_target",
    "jump_target",
    "host_args",
    "declare_hosts",
    "step_triggers",
]


@dataclass(frozen=True)
class BareMetalHostArgs:
    """A host's model, its rendered files, and how to reach it."""

    net: HostNet
    number: int
    az: str
    files: tuple[HostFile, ...]
    target: SshTarget
    proxy: SshTarget | None
    private_key: pulumi.Input[str] | None
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT


def _props(args: BareMetalHostArgs) -> dict[str, Any]:
    return {
        "host": args.net.host,
        "role": args.net.role,
        "number": args.number,
        "az": args.az,
        "ssh": {
            "host": args.target.host,
            "port": args.target.port,
            "user": args.target.user,
            "via": args.proxy.host if args.proxy else None,
        },
        "network": args.net.to_dict(),
        "files": {f.kind: {"path": f.path, "sha256": f.sha256} for f in args.files},
        "confirmTimeout": args.confirm_timeout,
    }


def _outputs(args: BareMetalHostArgs) -> dict[str, Any]:
    props = _props(args)
    # Stack policies see outputs only: the identity and model they need to compare hosts.
    identity = {key: props[key] for key in ("host", "role", "number", "az", "network")}
    files = {f.kind: f.sha256 for f in args.files}
    return {**identity, "address": args.target.host, "nodeIp": args.net.node_ip, "files": files}


def step_triggers(files: dict[str, str], *scripts: str) -> list[str]:
    """The confirm step's triggers: ``<kind>=<sha256>`` per file, so a preview names the file
    that changes, and the hash of the step's scripts, so every run of the step that may arm a
    rollback is followed by a confirmation."""
    step = hashlib.sha256("\0".join(scripts).encode()).hexdigest()
    return [f"{kind}={sha}" for kind, sha in files.items()] + [f"step={step}"]


class BareMetalHost(pulumi.ComponentResource):
    """A host of the stack's AZ: netplan, sysctl and kubelet files, staged, armed and applied in
    one step.

    Children: ``<name>-apply``, one Command that receives every file on stdin, stages and checks
    them, arms the rollback of every file and applies each in file order (netplan first: the
    sysctl drop-in names its interfaces), in one SSH session; a host whose files already hold
    what is rendered says ``unchanged`` and arms nothing. Its delete puts every file back as it
    was before lanes. Then ``<name>-confirm``: a Command of its own, so the engine reaches the
    host over a new SSH connection through the new configuration. Without that confirmation
    within ``confirm_timeout`` seconds the host puts the previous files back and reloads them by
    itself, and the confirm step fails naming the host. The files' hashes are the component's
    ``files`` and the confirm step's triggers (``<kind>=<sha256>``): a preview names the file of
    the host that changes; an unchanged host is never touched.
    """

    TYPE = "lanes:host:BareMetalHost"

    def __init__(
        self,
        name: str,
        args: BareMetalHostArgs,
        opts: pulumi.ResourceOptions | None = None,
        after: Sequence[pulumi.Resource] = (),
    ):
        super().__init__(self.TYPE, name, _props(args), opts)
        provision = sh_command(provision_host_script(name, args.files, args.confirm_timeout))
        remove = sh_command(remove_host_script(name, args.files))
        apply = command(
            f"{name}-apply",
            connection=connection_args(args.target, args.proxy, args.private_key),
            create=provision,
            delete=remove,
            stdin=host_stdin(args.files),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
        self.files = {f.kind: f.sha256 for f in args.files}
        command(
            f"{name}-confirm",
            connection=connection_args(args.target, args.proxy, args.private_key),
            create=sh_command(confirm_host_script(name, args.files)),
            triggers=step_triggers(self.files, provision, remove),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[apply]),
        )
        self.register_outputs(_outputs(args))


def ssh_target(plan: Plan, host: HostPlan) -> SshTarget:
    """Where the host's SSH sessions connect (``lanes.remote.access``): a gateway host on the entry
    network at its own address there, any other at ``ssh.address`` or its management address."""
    try:
        route = access(plan, host)
    except ValueError as exc:
        raise pulumi.RunError(str(exc)) from None
    return SshTarget(route.address, route.port, plan.ssh.user, host.ssh.host_key)


def jump_target(plan: Plan, host: HostPlan) -> SshTarget | None:
    """The stack's jump host when the host's sessions go through it."""
    jump = plan.ssh.jump
    if jump is None or not access(plan, host).via_jump:
        return None
    return SshTarget(jump.address, jump.port, jump.user, jump.host_key)


def host_args(
    plan: Plan, host: HostPlan, private_key: pulumi.Input[str] | None
) -> BareMetalHostArgs:
    """What a host's component is built from: its model, files and SSH targets."""
    net = build_host_net(host, plan)
    return BareMetalHostArgs(
        net,
        host.number,
        host.az,
        host_files(net),
        ssh_target(plan, host),
        jump_target(plan, host),
        private_key,
        plan.confirm_timeout,
    )


def declare_hosts(
    plan: Plan,
    private_key: pulumi.Input[str] | None,
    hosts: Sequence[HostPlan] | None = None,
    after: Sequence[pulumi.Resource] = (),
) -> dict[str, BareMetalHost]:
    """One BareMetalHost per host of ``hosts`` (default: the stack's AZ), named after the host,
    each after ``after``."""
    chosen = plan.stack_hosts() if hosts is None else hosts
    return {
        host.name: BareMetalHost(
            host.name,
            host_args(plan, host, private_key),
            pulumi.ResourceOptions(depends_on=list(after)),
            after,
        )
        for host in chosen
    }
