"""EdgeGateway: one gateway's nftables table and nginx proxies, copied over SSH and applied."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.connection import SshTarget, command, connection_args
from components.host import jump_target, ssh_target, step_triggers
from lanes.config.apply import DEFAULT_CONFIRM_TIMEOUT
from lanes.intents.exposure import consume_points
from lanes.intents.gateway import GatewayModel, derive_gateways
from lanes.model.plan import HostPlan, Plan
from lanes.remote.confirm import confirm_address
from lanes.render.gateway_scripts import GatewayFiles, render_gateway
from lanes.render.scripts import sh_command

__all__ = ["EdgeGatewayArgs", "EdgeGateway", "gateway_args", "declare_gateways"]


@dataclass(frozen=True)
class EdgeGatewayArgs:
    """A gateway's model, its rendered files, and how to reach its host."""

    model: GatewayModel
    files: GatewayFiles
    target: SshTarget
    proxy: SshTarget | None
    private_key: pulumi.Input[str] | None
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT
    # How the confirm step reaches the host: through the management path the gateway carries
    # (its mapping of the jump host) when it carries one; else as the other steps do.
    confirm_target: SshTarget | None = None
    confirm_proxy: SshTarget | None = None


def _props(args: EdgeGatewayArgs) -> dict[str, Any]:
    paths = args.files.paths
    hashes = args.files.hashes()
    files = {"ruleset": {"path": paths.ruleset, "sha256": hashes["ruleset"]}}
    if args.files.nginx is not None:
        files["nginx"] = {"path": paths.nginx_conf, "sha256": hashes["nginx"]}
    return {
        **args.model.to_dict(),
        "ssh": {
            "host": args.target.host,
            "port": args.target.port,
            "user": args.target.user,
            "via": args.proxy.host if args.proxy else None,
        },
        "files": files,
        "confirmTimeout": args.confirm_timeout,
    }


class EdgeGateway(pulumi.ComponentResource):
    """A gateway host's NAT table and proxies, derived from the stack's gateway intents.

    Children: ``<name>-apply``, one Command that receives the ruleset and, with proxies, the
    nginx config on stdin, checks them, arms their rollback (snapshots of the files it is about
    to overwrite), puts them in place, checks and loads the ruleset atomically, starts or
    reloads the lanes nginx and installs the boot units, in one SSH session; its delete removes
    the lanes table, units and files only. Then ``<name>-confirm``, over a new connection
    through the management path (the gateway's mapping of the jump host, when it has one).
    Without that confirmation the gateway puts the previous ruleset and proxies back by itself.
    The files' hashes are the component's ``files`` and the confirm step's triggers
    (``<kind>=<sha256>``), so an unchanged gateway is never touched and a change updates in
    place.
    ``after``: what must be in place before the first step, and is removed after the last.
    """

    TYPE = "lanes:gateway:EdgeGateway"

    def __init__(
        self,
        name: str,
        args: EdgeGatewayArgs,
        opts: pulumi.ResourceOptions | None = None,
        after: Sequence[pulumi.Resource] = (),
    ):
        super().__init__(self.TYPE, name, _props(args), opts)
        files, hashes = args.files, args.files.hashes()
        provision, remove = sh_command(files.provision), sh_command(files.remove)
        apply = command(
            f"{name}-apply",
            connection=connection_args(args.target, args.proxy, args.private_key),
            create=provision,
            delete=remove,
            stdin=files.stdin,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
        shipped = {"ruleset": hashes["ruleset"]}
        if files.nginx is not None:
            shipped["nginx"] = hashes["nginx"]
        command(
            f"{name}-confirm",
            connection=connection_args(
                args.confirm_target or args.target,
                args.confirm_proxy if args.confirm_target else args.proxy,
                args.private_key,
            ),
            create=sh_command(files.confirm),
            triggers=step_triggers(shipped, provision, remove),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[apply]),
        )
        self.hashes = hashes
        self.register_outputs(
            {
                "host": args.model.host,
                "address": args.target.host,
                "files": hashes,
                "consumes": consume_points(args.model),  # the policy pack's grant check
            }
        )


def _through_jump_mapping(
    plan: Plan, model: GatewayModel, host: HostPlan
) -> tuple[SshTarget, SshTarget] | None:
    """The confirm step's target and jump host, when it goes through the jump mapping."""
    address, jump = confirm_address(plan, model), plan.ssh.jump
    if address is None or jump is None:
        return None
    own = ssh_target(plan, host)
    through = SshTarget(jump.address, jump.port, jump.user, jump.host_key)
    return SshTarget(address, own.port, own.user, own.host_key), through


def gateway_args(
    plan: Plan, model: GatewayModel, private_key: pulumi.Input[str] | None
) -> EdgeGatewayArgs:
    """What a gateway's component is built from: its model, files and SSH targets."""
    host = plan.host(model.host)
    assert host is not None  # derive_gateways resolved it
    timeout = plan.confirm_timeout
    confirm = _through_jump_mapping(plan, model, host)
    return EdgeGatewayArgs(
        model,
        render_gateway(model, timeout=timeout),
        ssh_target(plan, host),
        jump_target(plan, host),
        private_key,
        timeout,
        *(confirm or (None, None)),
    )


def declare_gateways(
    plan: Plan,
    private_key: pulumi.Input[str] | None,
    hosts: Mapping[str, pulumi.Resource],
) -> dict[str, EdgeGateway]:
    """One EdgeGateway per gateway whose host is in ``hosts`` (host name -> its BareMetalHost),
    named after the gateway, each after its host's own provisioning (nginx binds addresses the
    host's netplan creates), and so removed before it."""
    gateways = {}
    for model in derive_gateways(plan):
        if model.host not in hosts:
            continue
        after = [hosts[model.host]]
        args = gateway_args(plan, model, private_key)
        gateways[model.name] = EdgeGateway(
            model.name, args, pulumi.ResourceOptions(depends_on=after), after
        )
    return gateways
