"""BgpSpeaker: BIRD on an AZ router, learning its AZ's pod blocks from Calico (lanes.render.bird)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from components.connection import SshTarget, command, connection_args
from components.host import jump_target, ssh_target
from lanes.model.cluster import BgpRouter, bgp_routers
from lanes.model.plan import Plan
from lanes.render.bird import (
    STAGED_CONF,
    render_bird,
    render_bird_apply,
    render_bird_delete,
    render_bird_prepare,
    render_bird_unprepare,
)
from lanes.render.scripts import sh_command

__all__ = ["BgpSpeakerArgs", "BgpSpeaker", "speaker_props", "declare_bgp"]


@dataclass(frozen=True)
class BgpSpeakerArgs:
    """The router's BGP model and how to reach its host."""

    router: BgpRouter
    target: SshTarget
    proxy: SshTarget | None
    private_key: pulumi.Input[str] | None


class BgpSpeaker(pulumi.ComponentResource):
    """An AZ router's BIRD: ``<name>-prepare`` (the staging folder), ``<name>-config``
    (CopyToRemote of the rendered bird.conf) and ``<name>-apply`` (checked with ``bird -p``,
    moved in, ``birdc configure``; delete puts the previous file back). The triggers are the
    content hashes, so an unchanged router is never touched. ``after``: what must be in place
    before the first step, and is removed after the last.
    """

    TYPE = "lanes:gateway:BgpSpeaker"

    def __init__(
        self,
        name: str,
        args: BgpSpeakerArgs,
        opts: pulumi.ResourceOptions | None = None,
        after: Sequence[pulumi.Resource] = (),
    ):
        router = args.router
        config = render_bird(router)
        props = speaker_props(router, config)
        digest = props["sha256"]
        super().__init__(self.TYPE, name, props, opts)
        connection = connection_args(args.target, args.proxy, args.private_key)
        prepare = command(
            f"{name}-prepare",
            connection=connection,
            create=sh_command(render_bird_prepare()),
            delete=sh_command(render_bird_unprepare()),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
        copy = remote.CopyToRemote(
            f"{name}-config",
            connection=connection,
            source=pulumi.StringAsset(config),
            remote_path=STAGED_CONF,
            triggers=[digest],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[prepare]),
        )
        apply = render_bird_apply()
        command(
            f"{name}-apply",
            connection=connection,
            create=sh_command(apply),
            update=sh_command(apply),
            delete=sh_command(render_bird_delete()),
            triggers=[digest],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[copy]),
        )
        self.register_outputs(props)  # the policy pack's stack check reads them


def speaker_props(router: BgpRouter, config: str) -> dict[str, object]:
    """What a BgpSpeaker registers (and its outputs), ``config`` being its rendered bird.conf:
    the policy pack's stack check reads them."""
    return {
        "host": router.host,
        "az": router.az,
        "address": str(router.address),
        "block": str(router.block),
        "pool": str(router.pool),
        "podCidr": str(router.pod_cidr),
        "neighbors": [str(n) for n in router.neighbors],
        "sha256": hashlib.sha256(config.encode()).hexdigest(),
    }


def declare_bgp(
    plan: Plan, private_key: pulumi.Input[str] | None, hosts: Mapping[str, pulumi.Resource]
) -> dict[str, BgpSpeaker]:
    """The stack's AZ router's BgpSpeaker (``<host>-bgp``) when its host is in ``hosts`` (host
    name -> its BareMetalHost), after its host's own provisioning."""
    speakers = {}
    for router in bgp_routers(plan):
        host = plan.host(router.host)
        if router.az != plan.az or host is None or host.name not in hosts:
            continue
        args = BgpSpeakerArgs(router, ssh_target(plan, host), jump_target(plan, host), private_key)
        after = [hosts[host.name]]
        speakers[host.name] = BgpSpeaker(
            f"{host.name}-bgp", args, pulumi.ResourceOptions(depends_on=after), after
        )
    return speakers
