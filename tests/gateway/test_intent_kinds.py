"""A kind of gateway intent is one unit: a kind in a table of this test alone (a port forward),
handed in with a schema that has its key, reaches the config, the derived model, its inverse,
the nftables ruleset (checked by nft -c), the rules and the lab's matrix with no other code
change."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from netaddr import IPAddress
from pydantic import Field

from lanes.config import ConfigError, Gateway, StackConfig, parse_stack_config
from lanes.config.base import Address, Model, Name, Port
from lanes.intents.base import Finding, Ifname, IntentKind, Listener, MapEntry, OwnAddress
from lanes.intents.gateway import derive_gateways, gateway_from_dict, nat_maps
from lanes.intents.kinds import INTENT_KINDS, IntentKinds, KindError
from lanes.lab.matrix import deploy_of, derive_flows
from lanes.model.flows import DEPLOY, Flow
from lanes.model.hostnet import build_host_net
from lanes.render.nftables import render_ruleset
from lanes.rules import checked_plan
from tests.gateway.test_render import nft_check
from tests.support.pulumi_run import stack_values

# --- the toy kind: everything it is, in one place, as a module of lanes.intents would hold it


class PortForward(Model):
    """Forward one port of an outside address of the gateway to a host's management address."""

    outside: Address
    network: Name
    port: Port
    host: Name
    host_port: Port


@dataclass(frozen=True, order=True)
class Forward:
    interface: str
    outside: IPAddress
    port: int
    inside: IPAddress
    inside_port: int
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "outside": str(self.outside),
            "port": self.port,
            "inside": str(self.inside),
            "inside_port": self.inside_port,
        }


class PortForwardKind(IntentKind):
    name = "port-forward"
    config = {"forwards": list[PortForward]}
    field = "forwards"
    nat_maps = {
        "forward_dnat": ("ifname . ipv4_addr . inet_service", "ipv4_addr . inet_service"),
    }

    def derive(self, d, gw, path):
        return tuple(
            sorted(
                Forward(
                    d.iface(f.network, f"{path}.forwards[{j}].network"),
                    IPAddress(f.outside),
                    f.port,
                    d.peer(f.host, "management", f"{path}.forwards[{j}].host"),
                    f.host_port,
                    f"{path}.forwards[{j}]",
                )
                for j, f in enumerate(gw.forwards)
            )
        )

    def from_dicts(self, entries: Iterable[Mapping[str, Any]], path: str) -> tuple[Any, ...]:
        return tuple(
            Forward(
                f["interface"],
                IPAddress(f["outside"]),
                int(f["port"]),
                IPAddress(f["inside"]),
                int(f["inside_port"]),
                f"{path}.forwards[{j}]",
            )
            for j, f in enumerate(entries)
        )

    def map_entries(self, entries) -> dict[str, list[MapEntry]]:
        return {
            "forward_dnat": [
                MapEntry(
                    (Ifname(f.interface), f.outside, f.port),
                    (f.inside, f.inside_port),
                    f.path,
                )
                for f in entries
            ]
        }

    def prerouting(self, entries) -> list[str]:
        return ["dnat ip to iifname . ip daddr . tcp dport map @forward_dnat"]

    def refs(self, gw, path, check) -> Iterator[Finding]:
        for j, f in enumerate(gw.forwards):
            yield from check.host(f.host, f"{path}.forwards[{j}].host")
            yield from check.outside_network(f.network, f"{path}.forwards[{j}].network")

    def own_addresses(self, gw, path, kinds) -> Iterator[OwnAddress]:
        for j, f in enumerate(gw.forwards):
            yield OwnAddress(f"{path}.forwards[{j}].outside", f.outside, f.network)

    def listeners(self, gw, path) -> Iterator[Listener]:
        for j, f in enumerate(gw.forwards):
            yield Listener(f"{path}.forwards[{j}].outside", f.outside, "tcp", f.port)

    def flows(self, view) -> list[Flow]:
        by_inside = {view.first_address(h.name, "management"): h.name for h in view.plan.hosts}
        return [
            Flow(
                "port-forward",
                DEPLOY,
                by_inside[str(f.inside)],
                view.deploy.network,
                str(f.outside),
                f.port,
                "reach",
                view.deploy.address,
                served=f.inside_port,
            )
            for m in view.models
            for f in self.entries(m)
        ]


# --- the test -----------------------------------------------------------------------------------

FORWARD = {
    "outside": "192.168.0.51",
    "network": "enterprise",
    "port": 8080,
    "host": "master-1",
    "host_port": 80,
}


class ForwardGateway(Gateway):
    forwards: list[PortForward] = Field(default_factory=list)


class ForwardStack(StackConfig):
    gateways: list[ForwardGateway] = Field(default_factory=list)


KINDS = IntentKinds((*INTENT_KINDS, PortForwardKind()))


def with_forward(values: dict, **changes: Any) -> None:
    values["gateways"][0]["forwards"] = [{**FORWARD, **changes}]


def violations(edit) -> list[str]:
    values = copy.deepcopy(stack_values("dev"))
    edit(values)
    report = checked_plan(parse_stack_config(values, ForwardStack), KINDS)
    return [str(v) for v in report.violations]


def forward_plan():
    values = copy.deepcopy(stack_values("dev"))
    with_forward(values)
    report = checked_plan(parse_stack_config(values, ForwardStack), KINDS)
    assert report.ok, [str(v) for v in report.violations]
    return report.plan


def test_the_schema_with_the_kind_takes_it_and_the_plain_one_refuses_it():
    values = copy.deepcopy(stack_values("dev"))
    with_forward(values)
    (gw,) = parse_stack_config(values, ForwardStack).gateways
    assert gw.forwards == [PortForward(**FORWARD)]
    with pytest.raises(ConfigError, match=r"gateways\[0\]\.forwards\[0\]\.port: .*65535"):
        bad = copy.deepcopy(values)
        bad["gateways"][0]["forwards"][0]["port"] = 70000
        parse_stack_config(bad, ForwardStack)
    with pytest.raises(ConfigError, match=r"gateways\[0\]\.forwards: unknown key"):
        parse_stack_config(values)


def test_a_kind_cannot_take_a_name_another_kind_has():
    class Clash(PortForwardKind):
        name = "clash"
        config = {"mappings": list[PortForward]}
        field = "clashes"
        nat_maps = {}

    with pytest.raises(KindError, match=r"^clash: mappings already taken by mapping$"):
        IntentKinds((*INTENT_KINDS, Clash()))


def test_the_kind_is_derived_rendered_and_read_back(tmp_path):
    (model,) = derive_gateways(forward_plan(), KINDS)
    (forward,) = model.entries("forwards")
    assert forward == Forward(
        "eth0",
        IPAddress("192.168.0.51"),
        8080,
        IPAddress("100.64.0.2"),
        80,
        "gateways[0].forwards[0]",
    )
    data = model.to_dict()
    assert list(data)[-3:] == ["proxies", "forwards", "snat"]
    assert gateway_from_dict(data, model.path, KINDS) == model
    assert "forward_dnat" in KINDS.nat_maps
    assert [e.path for e in nat_maps(model)["forward_dnat"]] == ["gateways[0].forwards[0]"]

    ruleset = render_ruleset(model)
    assert (
        "\tmap forward_dnat {\n"
        "\t\ttype ifname . ipv4_addr . inet_service : ipv4_addr . inet_service\n"
        "\t\telements = {\n"
        '\t\t\t"eth0" . 192.168.0.51 . 8080 : 100.64.0.2 . 80,\n'
    ) in ruleset
    assert "\t\tdnat ip to iifname . ip daddr . tcp dport map @forward_dnat\n" in ruleset
    result = nft_check(ruleset, tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_rules_check_the_kind():
    assert violations(with_forward) == []
    assert violations(lambda v: with_forward(v, host="ghost")) == [
        "gateways[0].forwards[0].host: ghost is not a host [gateway-ref]",
    ]
    assert violations(lambda v: with_forward(v, outside="192.168.0.60")) == [
        "gateways[0].forwards[0].outside: 192.168.0.60 is not an address of router in enterprise "
        "(it holds 192.168.0.51, 192.168.0.52, 192.168.0.53) [gateway-address]",
    ]
    assert violations(lambda v: with_forward(v, outside="192.168.0.52")) == [
        "gateways[0].forwards[0].outside: 192.168.0.52:8080/tcp is already taken by "
        "gateways[0].mappings[0].outside [gateway-listener]",
    ]


def test_the_kind_makes_its_cells_of_the_lab_matrix():
    plan = forward_plan()
    models = derive_gateways(plan, KINDS)
    nets = {h.name: build_host_net(h, plan) for h in plan.stack_hosts()}
    flows = derive_flows(plan, nets, models, deploy_of(plan, models, KINDS), KINDS)
    (cell,) = [f for f in flows if f.kind == "port-forward"]
    assert cell == Flow(
        "port-forward",
        DEPLOY,
        "master-1",
        "enterprise",
        "192.168.0.51",
        8080,
        "reach",
        "192.168.0.254",
    )
    assert cell.target_port == 80


def test_the_five_kinds_in_config_order_and_their_snat_in_chain_order():
    assert [k.name for k in INTENT_KINDS] == [
        "egress",
        "mapping",
        "ingress",
        "exposure",
        "proxy",
    ]
    assert INTENT_KINDS.snat_order == ("ingress-reply", "exposure", "mapping", "egress")
    assert list(INTENT_KINDS.nat_maps) == [
        "mapping_dnat",
        "mapping_snat",
        "ingress_dnat",
        "ingress_snat",
        "exposure_dnat",
        "exposure_snat",
    ]


def test_the_written_out_gateway_schema_is_the_table_s_keys_in_its_order():
    fields = {name: f.annotation for name, f in Gateway.model_fields.items()}
    keys = {key: t for kind in INTENT_KINDS for key, t in kind.config.items()}
    assert list(fields) == ["name", "host", *keys]
    assert {key: fields[key] for key in keys} == keys
