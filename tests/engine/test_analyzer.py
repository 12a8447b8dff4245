"""The real analyzer: each broken stack of ``tests/policy`` fails a real ``pulumi preview
--policy-pack policies`` naming exactly its policy; the advisory one warns and passes.

Each case is a project of its own whose program is lanes' with that case built in
(``tests.engine.tampered``), previewed by the built engine with the pack given as its folder;
the engine's events (``--event-log``) say which policies reported what. The cases run two at a
time. Fourteen cases break Kubernetes objects, which the program declares only with
``lanes:kubeconfig`` and which need the pulumi-kubernetes plugin under the engine; they are
named here (``KUBERNETES``) and run under the SDK's mocks in ``tests/policy``.
"""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.engine.harness import POLICY_PACK, REPO, Engine, open_engine
from tests.policy.test_broken_stacks import CASES, Case, broken_values
from tests.support.policy_run import load_pack, run_policies

KUBERNETES = {
    "boundary-pod-range",
    "service-range-on-ovn-transit",
    "pod-pool-on-storage",
    "calico-on-management",
    "tenant-deny-ingress-only",
    "gateway-listener-open-to-all",
    # the API server's limits (kubernetes-objects-within-limits)
    "gateway-class-over-a-label",
    "listener-names-collide",
    "hostname-label-over-63",
    "as-number-over-int32",
    "gateway-over-16-addresses",
    # grants within their exposure (the NetworkPolicies) and usable AS numbers (BGP objects)
    "grant-opens-the-consumers-ssh",
    "nodes-as-trans",
    "routers-as-65535",
}
ENGINE_CASES = [c for c in CASES if c.id not in KUBERNETES]
PROGRAM = '''"""The lanes program with the broken stack {case} of tests/policy built in."""
import sys

sys.path.insert(0, {repo!r})

from tests.engine.tampered import run  # noqa: E402

run({case!r})
'''


def _levels() -> dict[str, str]:
    return {p.name: p.enforcement_level.value for p in load_pack().POLICIES}


def _preview(engine: Engine, case: Case) -> tuple[bool, list[dict], str]:
    folder = engine.project(f"case-{case.id}", main=None)
    (folder / "__main__.py").write_text(PROGRAM.format(case=case.id, repo=str(REPO)))
    # A one-file stack (a region file merged in), named after the case: the stacks share a
    # backend, and stacks are the project's.
    config = {f"lanes:{k}": v for k, v in broken_values(case).items()}
    engine.stack(folder, case.id, config)
    log = folder / "events.jsonl"
    run = engine.run(
        folder, "preview", "--policy-pack", str(POLICY_PACK), "--stack", case.id,
        "--non-interactive", "--event-log", str(log),
    )  # fmt: skip
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return run.ok, [e["policyEvent"] for e in events if "policyEvent" in e], run.log


@pytest.fixture(scope="module")
def previews():
    marker = f"lanes-analyzer-{secrets.token_hex(8)}"
    with open_engine(f"{marker}\n", marker) as engine:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda c: (c.id, _preview(engine, c)), ENGINE_CASES)
            yield dict(results)


@pytest.mark.parametrize("case", ENGINE_CASES, ids=str)
def test_a_broken_stack_fails_a_real_preview_naming_exactly_its_policy(previews, case):
    ok, reported, log = previews[case.id]
    assert {e["policyName"] for e in reported} == {case.policy}, log
    assert any(case.message in e["message"] for e in reported), log
    level = _levels()[case.policy]
    assert {e["enforcementLevel"] for e in reported} == {level}, log
    # Mandatory: the preview fails; advisory (ssh-host-keys-pinned): it warns and passes.
    assert ok == (level == "advisory"), log
    if level == "advisory":
        assert f"[advisory]  {case.policy}" in log, log  # the CLI shows the warning


def test_an_advisory_policy_is_among_the_cases():
    assert {_levels()[c.policy] for c in ENGINE_CASES} == {"mandatory", "advisory"}


@pytest.mark.parametrize("case", [c for c in CASES if c.id in KUBERNETES], ids=str)
def test_the_cases_left_to_the_mocks_break_kubernetes_objects_only(case):
    """Without lanes:kubeconfig (so without Kubernetes objects) the program gives the pack
    nothing of these cases to refuse: they need the Kubernetes provider under the engine."""
    without = run_policies(
        case.stack, broken_values(case), {"sshPrivateKey": "k"},
        precheck=case.config is None, alter=_tolerant(case),
    )  # fmt: skip
    assert case.policy not in without.policies


def _tolerant(case: Case):
    if case.props is None:
        return None

    def alter(resources):
        try:
            case.props(resources)
        except ValueError:  # the object it edits is not declared without a kubeconfig
            pass

    return alter


def test_every_case_is_run_by_the_engine_or_named_as_kubernetes():
    assert {c.id for c in CASES} == {c.id for c in ENGINE_CASES} | KUBERNETES
    assert KUBERNETES <= {c.id for c in CASES}
