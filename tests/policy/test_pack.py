"""The pack over the committed stacks, and the shape of its policies."""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from tests.support.policy_run import load_pack, run_policies

pack = load_pack()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_pass_every_policy(stack):
    result = run_policies(stack)
    assert result.reported == []
    # Nothing passes by being overlooked: every lanes component and every SSH resource is
    # looked at by some resource policy, and what the stack policies read is there.
    types = {r.type for r in result.run.resources}
    checked = {t for t in types if any(spec.applies_to(t) for spec in pack.SPECS)}
    assert {t for t in types if t.startswith(("lanes:", "command:remote:"))} <= checked
    assert set(pack.network_types()) <= types
    assert {pack.IPPOOL, pack.INSTALLATION, pack.NAMESPACE, pack.NETWORK_POLICY} <= types


def test_policy_names_are_stable_and_unique():
    names = [p.name for p in pack.POLICIES]
    assert len(names) == len(set(names))
    assert pack.PACK_NAME == "lanes-network-rules"
    assert names == [
        "cidr-on-boundary",
        "platform-space",
        "blocks-in-az-order",
        "reserved-blocks-unused",
        "management-zones",
        "networks-disjoint",
        "vlan-ids",
        "host-addresses-unique",
        "host-in-block",
        "host-number-same",
        "nic-networks",
        "host-vlans",
        "nic-mtu",
        "kubelet-node-ip",
        "ssh-host-keys-pinned",
        "egress-snat-exempts-platform",
        "specific-snat-before-egress",
        "cluster-ranges-disjoint",
        "pod-pools-disjoint",
        "cni-autodetect-traffic",
        "router-bgp-imports-pods",
        "tenant-default-deny",
        "gateway-routes-tenant-scoped",
        "kubernetes-objects-within-limits",
        "tenant-grants-within-exposures",
        "bgp-as-numbers-usable",
    ]


def test_each_core_rule_belongs_to_one_policy():
    owners: dict[str, list[str]] = {}
    for spec in pack.SPECS:
        for rule in spec.rules:
            owners.setdefault(rule, []).append(spec.name)
    assert {rule: names for rule, names in owners.items() if len(names) > 1} == {}


def test_policies_are_mandatory_unless_advisory_by_design():
    levels = {p.name: p.enforcement_level for p in pack.POLICIES}
    advisory = {name for name, level in levels.items() if level == EnforcementLevel.ADVISORY}
    assert advisory <= {"ssh-host-keys-pinned"}
    assert all(level is not None for level in levels.values())


def test_policy_kinds_match_their_checks():
    for spec, policy in zip(pack.SPECS, pack.POLICIES, strict=True):
        assert spec.name == policy.name and len(policy.description) > 40
        if spec.stack_check is not None:
            assert isinstance(policy, StackValidationPolicy) and not spec.types
        else:
            assert isinstance(policy, ResourceValidationPolicy) and spec.types
