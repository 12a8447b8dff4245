"""Bare-metal hosts: each rendered file copied over SSH and applied by a remote Command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_command import remote

from components.connection import SshTarget, connection_args
from lanes.config.apply import DEFAULT_CONFIRM_TIMEOUT
from lanes.model.hostnet import HostNet, build_host_net
from lanes.model.plan import HostPlan, Plan
from lanes.render.scripts import (
    HostFile,
    apply_script,
    arm_host_script,
    confirm_host_script,
    delete_script,
    host_files,
    prepare_script,
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
    private_key: pulumi.Input[str]
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


class BareMetalHost(pulumi.ComponentResource):
    """A host of the stack's AZ: netplan, sysctl and kubelet files, each staged then applied.

    Children: ``<name>-prepare`` (staging directory), then per file ``<name>-<kind>-copy``
    (CopyToRemote of a StringAsset), ``<name>-arm`` (arms the rollback of every file), per file
    ``<name>-<kind>-apply`` (Command), and ``<name>-confirm``: a Command of its own, so the
    engine reaches the host over a new SSH connection through the new configuration. Without
    that confirmation within ``confirm_timeout`` seconds the host puts the previous files back
    and reloads them by itself, and the confirm step fails naming the host. Triggers are the
    content hashes, so an unchanged file is never touched; applies run in file order (netplan
    first: the sysctl drop-in names its interfaces).
    """

    TYPE = "lanes:host:BareMetalHost"

    def __init__(
        self, name: str, args: BareMetalHostArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(self.TYPE, name, _props(args), opts)
        connection = connection_args(args.target, args.proxy, args.private_key)
        prepare = remote.Command(
            f"{name}-prepare",
            connection=connection,
            create=sh_command(prepare_script()),
            opts=pulumi.ResourceOptions(parent=self),
        )
        copies = [
            remote.CopyToRemote(
                f"{name}-{file.kind}-copy",
                connection=connection,
                source=pulumi.StringAsset(file.content),
                remote_path=file.staged_path,
                triggers=[file.sha256],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[prepare]),
            )
            for file in args.files
        ]
        generation = [f.sha256 for f in args.files]
        previous: pulumi.Resource = remote.Command(
            f"{name}-arm",
            connection=connection,
            create=sh_command(arm_host_script(name, args.files, args.confirm_timeout)),
            triggers=generation,
            opts=pulumi.ResourceOptions(parent=self, depends_on=copies),
        )
        for file in args.files:
            previous = remote.Command(
                f"{name}-{file.kind}-apply",
                connection=connection,
                create=sh_command(apply_script(file)),
                delete=sh_command(delete_script(file)),
                triggers=[file.sha256],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
        remote.Command(
            f"{name}-confirm",
            connection=connection_args(args.target, args.proxy, args.private_key),
            create=sh_command(confirm_host_script(name, args.files)),
            triggers=generation,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
        )
        self.files = {f.kind: f.sha256 for f in args.files}
        self.register_outputs(_outputs(args))


def ssh_target(plan: Plan, host: HostPlan) -> SshTarget:
    """The host's SSH address (``HostPlan.ssh_address``: its own ``ssh.address``, else its first
    management address) as the stack's SSH user."""
    if host.ssh_address is None:
        raise pulumi.RunError(
            f"{host.path}.ssh.address: {host.name} has no {plan.kinds.nodes_network} address "
            "to reach"
        )
    return SshTarget(host.ssh_address, host.ssh.port, plan.ssh.user, host.ssh.host_key)


def jump_target(plan: Plan, host: HostPlan) -> SshTarget | None:
    """The stack's jump host when the host goes through it (``ssh.via_jump``)."""
    jump = plan.ssh.jump
    if jump is None or not host.ssh.via_jump:
        return None
    return SshTarget(jump.address, jump.port, jump.user, jump.host_key)


def host_args(plan: Plan, host: HostPlan, private_key: pulumi.Input[str]) -> BareMetalHostArgs:
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


def declare_hosts(plan: Plan, private_key: pulumi.Input[str]) -> dict[str, BareMetalHost]:
    """One BareMetalHost per inventory host of the stack's AZ, named after the host."""
    return {
        host.name: BareMetalHost(host.name, host_args(plan, host, private_key))
        for host in plan.stack_hosts()
    }
