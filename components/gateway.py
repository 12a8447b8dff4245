"""EdgeGateway: one gateway's nftables table and nginx proxies, copied over SSH and applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_command import remote

from components.connection import connection_args
from components.host import SshTarget, jump_target, ssh_target
from lanes.gateway import GatewayModel, derive_gateways
from lanes.plan import Plan
from lanes.render.gateway_scripts import GatewayFiles, render_gateway
from lanes.render.scripts import sh_command

__all__ = ["EdgeGatewayArgs", "EdgeGateway", "declare_gateways"]


@dataclass(frozen=True)
class EdgeGatewayArgs:
    """A gateway's model, its rendered files, and how to reach its host."""

    model: GatewayModel
    files: GatewayFiles
    target: SshTarget
    proxy: SshTarget | None
    private_key: pulumi.Input[str]


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
    }


class EdgeGateway(pulumi.ComponentResource):
    """A gateway host's NAT table and proxies, derived from the stack's gateway intents.

    Children: ``<name>-prepare`` (the config directory), ``<name>-ruleset`` and, with proxies,
    ``<name>-nginx`` (CopyToRemote of a StringAsset), then ``<name>-apply``: a Command whose
    create and update check and load the ruleset atomically and start or reload the lanes nginx,
    and whose delete removes the lanes table and files only. Triggers are content hashes, so an
    unchanged gateway is never touched, and a change updates in place (no delete first).
    """

    TYPE = "lanes:gateway:EdgeGateway"

    def __init__(
        self, name: str, args: EdgeGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(self.TYPE, name, _props(args), opts)
        files, paths, hashes = args.files, args.files.paths, args.files.hashes()
        connection = connection_args(args.target, args.proxy, args.private_key)
        prepare = remote.Command(
            f"{name}-prepare",
            connection=connection,
            create=sh_command(files.prepare),
            opts=pulumi.ResourceOptions(parent=self),
        )
        copies = [
            remote.CopyToRemote(
                f"{name}-{role}",
                connection=connection,
                source=pulumi.StringAsset(content),
                remote_path=path,
                triggers=[hashes[role]],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[prepare]),
            )
            for role, content, path in (
                ("ruleset", files.ruleset, paths.ruleset),
                ("nginx", files.nginx, paths.nginx_conf),
            )
            if content is not None
        ]
        remote.Command(
            f"{name}-apply",
            connection=connection,
            create=sh_command(files.apply),
            update=sh_command(files.apply),
            delete=sh_command(files.delete),
            triggers=[hashes[k] for k in sorted(hashes)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=copies),
        )
        self.hashes = hashes
        self.register_outputs(
            {"host": args.model.host, "address": args.target.host, "files": hashes}
        )


def declare_gateways(
    plan: Plan, private_key: pulumi.Input[str], depends_on: dict[str, pulumi.Resource] | None = None
) -> dict[str, EdgeGateway]:
    """One EdgeGateway per gateway of the stack's AZ, named after the gateway.

    ``depends_on`` (host name -> resource) orders a gateway after its host's own provisioning,
    so the addresses nginx binds exist first.
    """
    user = plan.config.ssh.user
    gateways = {}
    for model in derive_gateways(plan):
        host = plan.host(model.host)
        assert host is not None  # derive_gateways resolved it
        args = EdgeGatewayArgs(
            model,
            render_gateway(model),
            ssh_target(host, user),
            jump_target(plan, host),
            private_key,
        )
        after = [depends_on[host.name]] if depends_on and host.name in depends_on else []
        gateways[model.name] = EdgeGateway(
            model.name, args, pulumi.ResourceOptions(depends_on=after)
        )
    return gateways
