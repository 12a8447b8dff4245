"""The pack starts as the engine starts it: python -m pulumi.policy, cwd = the pack's folder."""

from __future__ import annotations

import os
import subprocess
import sys

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from lanes.config.stackfile import load_stack
from lanes.model.plan import plan_region
from tests.support.policy_run import load_pack
from tests.support.pulumi_run import ROOT

PACK_DIR = ROOT / "policies"


def _start_pack() -> subprocess.Popen:
    # The engine's pulumi-analyzer-policy-python runs `python -u -m pulumi.policy <engine> <pack>`
    # with the pack's folder as cwd; nothing of the project is on PYTHONPATH.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _traffic_network(cidr: str | None = None) -> analyzer_pb2.AnalyzeRequest:
    plan = plan_region(load_stack(ROOT, "prod"))
    props = {"region": plan.region, "azs": list(plan.azs), **plan.network("traffic").to_dict()}
    if cidr is not None:
        props["cidr"] = cidr
    struct = struct_pb2.Struct()
    struct.update(props)
    return analyzer_pb2.AnalyzeRequest(
        type="lanes:network:TrafficNetwork",
        properties=struct,
        name="east-traffic",
        urn="urn:pulumi:prod::lanes::lanes:network:TrafficNetwork::east-traffic",
    )


def test_pack_serves_its_policies_over_grpc():
    process = _start_pack()
    try:
        line = process.stdout.readline().decode().strip()  # PolicyPack prints the port it serves
        assert line.isdigit(), (line, process.stderr.read().decode() if process.poll() else "")
        with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
            good = analyzer.Analyze(_traffic_network(), timeout=10)
            bad = analyzer.Analyze(_traffic_network("100.65.0.1/16"), timeout=10)
        assert info.name == "lanes-network-rules"
        assert [p.name for p in info.policies] == [s.name for s in load_pack().SPECS]
        assert all(p.description for p in info.policies)
        assert list(good.diagnostics) == []
        assert [(d.policyName, d.message.splitlines()[-1]) for d in bad.diagnostics] == [
            (
                "cidr-on-boundary",
                "networks.traffic.cidr: 100.65.0.1/16 is not on a /16 boundary (the /16 around "
                "it is 100.65.0.0/16; the next one is 100.66.0.0/16) [cidr-boundary]",
            )
        ]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode is not None
