"""Benchmark: the lanes policy pack over a generated region of 3,000 hosts and 10,000 prefixes.

The region: the prod stack's networks, gateways and cluster, 3,000 generated hosts spread over
its three AZs (1,000 per AZ stack), and a cluster that declares 10,000 extra Calico pools
(/28s, per rack say) beside its three AZ pools, so the overlap rules sweep 10,000 prefixes
against the networks, the CNI-internal ranges and each other. The pack runs over the three AZ
stacks as CI runs it (tests/support/policy_run.evaluate): every resource policy over every
resource, then every stack policy. Target: under 2 s for the region.

Running the program under the SDK's mocks costs ~15 ms per resource (27,000 resources here),
so the stacks' resources are built from the same core functions the components register
(plan -> NetworkPlan/HostNet/GatewayModel/ClusterPlan -> props). ``verify`` first runs the real
program under mocks for a small region built the same way and checks that the generator
registers the same resources with the same props wherever a policy reads them.

It also times the pool-overlap stack policy alone at 1,000 / 10,000 / 100,000 pools: a sorted
sweep grows ~n log n (x10 pools -> ~x10-12 time), an all-pairs check would grow x100.

Run: ``.venv/bin/python benchmarks/policy_pack.py [--hosts N] [--prefixes P] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netaddr import IPAddress, IPNetwork  # noqa: E402

from benchmarks.region import generated_hosts  # noqa: E402
from components import bgp as bgp_component  # noqa: E402
from components import gateway as gateway_component  # noqa: E402
from components import host as host_component  # noqa: E402
from components.network import network_type  # noqa: E402
from lanes.config import parse_stack_config  # noqa: E402
from lanes.intents.gateway import derive_gateways  # noqa: E402
from lanes.model.cluster import bgp_routers  # noqa: E402
from lanes.model.plan import Plan, plan_region  # noqa: E402
from lanes.render.bird import render_bird  # noqa: E402
from lanes.render.cluster import plan_cluster  # noqa: E402
from tests.support.policy_run import (  # noqa: E402
    SECRETS,
    STACK_TYPE,
    evaluate,
    load_pack,
    prepare,
    run_pack,
)
from tests.support.pulumi_run import Registered, run_program  # noqa: E402
from tests.support.stacks import read_stack_values  # noqa: E402

EXTRA_POOLS = IPNetwork("100.108.0.0/14")  # the pod range's fourth /14: no AZ pool takes it


def region_values(hosts: int, az: str = "az-1") -> dict[str, Any]:
    """prod's networks, gateways and cluster; ``hosts`` generated hosts over its three AZs."""
    values = read_stack_values(ROOT, "prod")
    azs = values["azs"]
    kept = [h for h in values["hosts"] if h["role"] == "gateway" or h["name"].startswith("jump")]
    generated = generated_hosts(hosts, azs, 100)
    ingress = [h["name"] for h in generated if h["role"] == "ingress" and h["az"] == azs[0]]
    values["hosts"] = kept + generated
    for gw in values["gateways"]:
        for j, route in enumerate(gw.get("ingress", [])):
            route["node"] = ingress[j]  # the edge router DNATs to generated ingress nodes
    values["az"] = az
    return values


# --- the resources each component registers, from the same core functions -----------------


class Stack:
    """Registered resources of one stack, as tests/support/pulumi_run records them."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.root = f"urn:pulumi:bench::lanes::{STACK_TYPE}::lanes-bench"
        self.resources: list[Registered] = []

    def add(
        self,
        type_: str,
        name: str,
        inputs: dict,
        parent: str = "",
        custom: bool = False,
        outputs: dict | None = None,
    ) -> str:
        parent = parent or self.root
        urn = f"urn:pulumi:bench::lanes::{type_}::{name}"
        self.resources.append(
            Registered(urn, type_, name, inputs, parent, [], custom, "", outputs or {})
        )
        return urn


def _connection(target: Any, proxy: Any) -> dict:
    def leg(t: Any) -> dict:
        out = {
            "host": t.host,
            "port": t.port,
            "user": t.user,
            "privateKey": SECRETS["sshPrivateKey"],
            "perDialTimeout": 15,
            "dialErrorLimit": 10,
        }
        return out | ({"hostKey": t.host_key} if t.host_key else {})

    return leg(target) | ({"proxy": leg(proxy)} if proxy else {})


def _networks(stack: Stack) -> None:
    plan = stack.plan
    for net in plan.networks:
        blocks = {
            az: {(z.name or "-"): str(z.block(az).cidr) for z in net.zones if z.block(az)}
            for az in plan.azs
        }
        gateways = {
            az: {(z.name or "-"): str(z.block(az).gateway) for z in net.zones if z.block(az)}
            for az in plan.azs
        }
        stack.add(
            network_type(plan, net.name).TYPE,
            f"{plan.region}-{net.name}",
            {"region": plan.region, "azs": list(plan.azs), **net.to_dict()},
            outputs={
                "cidr": str(net.cidr),
                "vlan": net.vlan,
                "blocks": blocks,
                "gateways": gateways,
            },
        )


def _commands(stack: Stack, parent: str, connection: dict, children: list[tuple[str, str]]) -> None:
    """SSH children of a component: (type suffix, name), each with the component's connection."""
    for kind, name in children:
        stack.add(f"command:remote:{kind}", name, {"connection": connection}, parent, True)


def _hosts(stack: Stack) -> None:
    plan = stack.plan
    for host in plan.stack_hosts():
        args = host_component.host_args(plan, host, SECRETS["sshPrivateKey"])
        urn = stack.add(
            host_component.BareMetalHost.TYPE,
            host.name,
            host_component._props(args),
            outputs=host_component._outputs(args),
        )
        children = [("Command", f"{host.name}-apply"), ("Command", f"{host.name}-confirm")]
        _commands(stack, urn, _connection(args.target, args.proxy), children)


def _gateways(stack: Stack) -> None:
    plan = stack.plan
    for model in derive_gateways(plan):
        args = gateway_component.gateway_args(plan, model, SECRETS["sshPrivateKey"])
        urn = stack.add(
            gateway_component.EdgeGateway.TYPE, model.name, gateway_component._props(args)
        )
        children = [("Command", f"{model.name}-apply")]
        _commands(stack, urn, _connection(args.target, args.proxy), children)
        confirm = args.confirm_target or args.target
        proxy = args.confirm_proxy if args.confirm_target else args.proxy
        _commands(stack, urn, _connection(confirm, proxy), [("Command", f"{model.name}-confirm")])


def _bgp(stack: Stack) -> None:
    plan = stack.plan
    for router in bgp_routers(plan):
        host = plan.host(router.host)
        if router.az != plan.az or host is None:
            continue
        args = bgp_component.BgpSpeakerArgs(
            router,
            host_component.ssh_target(plan, host),
            host_component.jump_target(plan, host),
            SECRETS["sshPrivateKey"],
        )
        name = f"{host.name}-bgp"
        urn = stack.add(
            bgp_component.BgpSpeaker.TYPE,
            name,
            bgp_component.speaker_props(router, render_bird(router)),
        )
        children = [("Command", f"{name}-prepare"), ("CopyToRemote", f"{name}-config")]
        children += [("Command", f"{name}-apply")]
        _commands(stack, urn, _connection(args.target, args.proxy), children)


def _k8s_type(body: dict, patch: bool) -> str:
    group = body["apiVersion"] if "/" in body["apiVersion"] else f"core/{body['apiVersion']}"
    return f"kubernetes:{group}:{'NodePatch' if patch else body['kind']}"


def _cluster(stack: Stack, extra_pools: int) -> None:
    plan = stack.plan
    cluster = plan_cluster(plan)
    name = f"{plan.region}-cluster"
    props = cluster.to_dict()
    urn = stack.add(
        "lanes:cluster:ClusterNetwork",
        name,
        props,
        outputs={k: props[k] for k in ("objects", "releases", "pools", "ingress")},
    )
    for release in cluster.releases:
        stack.add(
            "kubernetes:helm.sh/v3:Release",
            f"{name}-{release.role}",
            {"name": release.name},
            urn,
            True,
        )
    for manifest in cluster.manifests:
        stack.add(
            _k8s_type(manifest.body, manifest.patch),
            f"{name}-{manifest.role}",
            dict(manifest.body),
            urn,
            True,
        )
    for i, cidr in enumerate(_extra_pools(extra_pools)):
        body = {
            "apiVersion": "projectcalico.org/v3",
            "kind": "IPPool",
            "metadata": {"name": f"lanes-rack-{i}"},
            "spec": {"cidr": str(cidr), "natOutgoing": True},
        }
        stack.add(
            "kubernetes:projectcalico.org/v3:IPPool", f"{name}-ippool-rack-{i}", body, urn, True
        )


def _extra_pools(count: int) -> Iterator[IPNetwork]:
    size = 16  # /28
    assert count * size <= EXTRA_POOLS.size, "more pools than the spare /14 holds"
    return (IPNetwork(f"{IPAddress(EXTRA_POOLS.first + i * size)}/28") for i in range(count))


def stack_resources(plan: Plan, extra_pools: int = 0) -> Stack:
    stack = Stack(plan)
    _networks(stack)
    _hosts(stack)
    _gateways(stack)
    _bgp(stack)
    _cluster(stack, extra_pools)
    return stack


# --- fidelity and timing ------------------------------------------------------------------


def _normal(value: Any) -> Any:
    """Numbers as the engine hands them (floats), secrets unwrapped, no None-valued keys."""
    from tests.support.policy_run import _engine_value

    def walk(v: Any) -> Any:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, int | float):
            return float(v)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items() if x is not None}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        return v

    return json.loads(json.dumps(walk(_engine_value(value)), sort_keys=True))


READ_KEYS = {
    "lanes:": None,
    "command:remote:": ("connection",),
    "kubernetes:": ("metadata", "spec"),
}


def _read_part(res: Registered) -> Any:
    for prefix, keys in READ_KEYS.items():
        if res.type.startswith(prefix):
            inputs = res.inputs if keys is None else {k: res.inputs.get(k) for k in keys}
            inputs = {k: v for k, v in inputs.items() if k not in ("files", "ssh")}
            if "connection" in inputs:
                conn = _normal(inputs["connection"]) or {}
                inputs["connection"] = {k: conn.get(k) for k in ("host", "hostKey", "proxy")}
            return _normal(inputs)
    return None


def verify(hosts: int = 18) -> None:
    """The generator registers what the program registers, where a policy reads it."""
    values = region_values(hosts)
    real = run_program("prod", values, SECRETS).resources
    generated = stack_resources(plan_region(parse_stack_config(values))).resources
    pick = {prefix for prefix in READ_KEYS}

    def index(resources: list[Registered]) -> dict[tuple[str, str], Any]:
        return {
            (r.type, r.name): _read_part(r) for r in resources if r.type.startswith(tuple(pick))
        }

    want, have = index(real), index(generated)
    assert want.keys() == have.keys(), sorted(want.keys() ^ have.keys())[:5]
    diff = [key for key in want if want[key] != have[key]]
    assert not diff, (diff[:3], want[diff[0]], have[diff[0]])
    outputs = {r.name: _normal(r.outputs) for r in real if r.type.startswith("lanes:network:")}
    assert outputs == {
        r.name: _normal(r.outputs) for r in generated if r.type.startswith("lanes:network:")
    }
    print(f"verify: {len(want)} resources match a mocked run of the program ({hosts} hosts)")


def time_region(hosts: int, prefixes: int, repeat: int) -> None:
    pack = load_pack()
    base = parse_stack_config(region_values(hosts))
    stacks = []
    for az in base.azs:
        plan = plan_region(parse_stack_config(region_values(hosts, az)))
        stacks.append(stack_resources(plan, prefixes if az == base.azs[0] else 0))
    resources = sum(len(s.resources) for s in stacks)
    host_count = sum(len(s.plan.stack_hosts()) for s in stacks)
    engine, policies, cpu, harness = [], [], [], []
    for _ in range(repeat):
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        prepared = [prepare(s.resources, {}) for s in stacks]
        for p in prepared:
            p.materialize()
        deserialised = time.perf_counter()
        reported = [v for p in prepared for v in run_pack(p, pack.POLICIES)]
        done = time.perf_counter()
        engine.append(deserialised - started)
        policies.append(done - deserialised)
        cpu.append(time.process_time() - cpu_started)
        assert reported == [], reported[:3]
        gc.collect()
        started = time.perf_counter()
        assert [v for s in stacks for v in evaluate(s.resources, {}, pack.POLICIES)] == []
        harness.append(time.perf_counter() - started)
    print(
        f"region: 3 AZ stacks, {host_count} hosts ({hosts} generated), "
        f"{prefixes + len(base.azs)} pod-pool prefixes, {resources} resources"
    )
    print(
        f"pack ({len(pack.POLICIES)} policies) over the region: median "
        f"{statistics.median(policies):.2f} s, best {min(policies):.2f} s (target < 2 s)"
    )
    print(
        f"  + the engine's part (props deserialised into unknown-checking proxies): median "
        f"{statistics.median(engine):.2f} s; both together: median "
        f"{statistics.median(e + p for e, p in zip(engine, policies, strict=True)):.2f} s wall, "
        f"{statistics.median(cpu):.2f} s CPU ({repeat} runs)"
    )
    print(
        f"  CI's harness end to end (props deserialised when a policy first reads them): median "
        f"{statistics.median(harness):.2f} s"
    )


def time_pool_sweep() -> None:
    pack = load_pack()
    (spec,) = [s for s in pack.SPECS if s.name == "pod-pools-disjoint"]
    plan = plan_region(parse_stack_config(region_values(18)))
    base = Stack(plan)
    _networks(base)
    last = None
    for count in (1_000, 10_000, 100_000):
        stack = Stack(plan)
        stack.resources = list(base.resources)
        size = 16 if count <= 16_384 else 4  # /28s, then /30s to fit 100,000 in the spare /14
        for i in range(count):
            cidr = f"{IPAddress(EXTRA_POOLS.first + i * size)}/{32 - size.bit_length() + 1}"
            stack.add(
                "kubernetes:projectcalico.org/v3:IPPool",
                f"p{i}",
                {"spec": {"cidr": cidr}},
                custom=True,
            )
        prepared = prepare(stack.resources, {})
        prepared.materialize()
        started = time.perf_counter()
        assert spec.stack_violations(prepared.stack) == []
        elapsed = time.perf_counter() - started
        ratio = f" (x{elapsed / last:.1f} for x10 pools)" if last else ""
        print(f"pod-pools-disjoint over {count:>7,} pools: {elapsed * 1000:7.1f} ms{ratio}")
        last = elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3000)
    parser.add_argument("--prefixes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args()
    if not args.no_verify:
        verify()
    time_region(args.hosts, args.prefixes, args.repeat)
    time_pool_sweep()


if __name__ == "__main__":
    main()
