"""Run the lanes policy pack over a program run the way the engine would, without the Pulumi CLI.

``run_program`` records every RegisterResource; here each one is handed to every resource policy
as ``ResourceValidationArgs`` (its registered inputs, as the engine deserialises them: numbers as
floats, secrets unwrapped, unknowns as the engine's sentinels behind the unknown-checking proxy),
then the whole stack to every stack policy as ``StackValidationArgs`` (each resource's outputs: a
custom resource's mock outputs, a component's ``register_outputs``; parents and dependencies
linked as ``PolicyResource`` objects). Violations are collected as the engine reports them.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from tests.support.pulumi_run import ROOT, Registered, Run, run_program

__all__ = [
    "Reported",
    "PolicyRun",
    "Prepared",
    "load_pack",
    "engine_props",
    "prepare",
    "run_pack",
    "evaluate",
    "run_policies",
]

STACK_TYPE = "pulumi:pulumi:Stack"
# Secrets a stack holds outside its file; with a kubeconfig the program declares the cluster too.
SECRETS = {"sshPrivateKey": "policy-check-key", "kubeconfig": "apiVersion: v1\nkind: Config\n"}


def load_pack():
    """``policies/lanes_policies.py`` imported as the engine's pack process imports it."""
    pack_dir = str(ROOT / "policies")
    if pack_dir not in sys.path:
        sys.path.insert(0, pack_dir)
    return importlib.import_module("lanes_policies")


@dataclass(frozen=True, order=True)
class Reported:
    """One diagnostic: the policy, its level, the message passed to report_violation, the URN."""

    policy: str
    level: str
    message: str
    urn: str


@dataclass
class PolicyRun:
    """A program run and what the pack said about it."""

    run: Run
    reported: list[Reported]

    def of(self, policy: str) -> list[Reported]:
        return [r for r in self.reported if r.policy == policy]

    @property
    def policies(self) -> set[str]:
        return {r.policy for r in self.reported}


def _engine_value(value: Any) -> Any:
    if isinstance(value, dict):
        if rpc.is_rpc_secret(value):
            return _engine_value(rpc.unwrap_rpc_secret(value))
        return {k: _engine_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_engine_value(v) for v in value]
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    return value


def engine_props(values: dict[str, Any]) -> Any:
    """Registered values as a policy sees them: secrets unwrapped, unknowns proxied."""
    return unknown_checking_proxy(_engine_value(values))


class _Deferred:
    """Registered values not yet deserialised: most policies return before reading props."""

    __slots__ = ("raw", "value")

    def __init__(self, raw: dict[str, Any], value: Any = None):
        self.raw = raw
        self.value = value

    def get(self) -> Any:
        if self.value is None:
            self.value = engine_props(self.raw)
        return self.value


class _LazyProps:
    """``props`` deserialised on first read, then the same object for every later reader."""

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["_props"] = value if isinstance(value, _Deferred) else _Deferred({}, value)

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self if obj is None else obj.__dict__["_props"].get()


class _ResourceArgs(ResourceValidationArgs):
    props = _LazyProps()


class _StackResource(PolicyResource):
    props = _LazyProps()


@functools.lru_cache(maxsize=4096)
def _options_for(parent: str) -> PolicyResourceOptions:
    # The options a registration carries that lanes sets: only the parent (read-only to a policy).
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent or None,
    )


def _options(res: Registered) -> PolicyResourceOptions:
    return _options_for(res.parent)


def _provider(res: Registered, by_urn: dict[str, Registered]) -> PolicyProviderResource | None:
    if not res.provider:
        return None
    urn = res.provider.rsplit("::", 1)[0]  # a provider reference is "<urn>::<id>"
    provider = by_urn.get(urn)
    if provider is None:
        return None
    return PolicyProviderResource(provider.type, engine_props(provider.inputs), urn, provider.name)


def _level(policy: Any) -> str:
    return (policy.enforcement_level or EnforcementLevel.ADVISORY).value


class _Reporter:
    """The report_violation callback of one policy; ``urn`` is the resource being validated."""

    def __init__(self, policy: Any, found: list[Reported]):
        self.policy = policy
        self.level = _level(policy)
        self.found = found
        self.urn = ""

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.found.append(Reported(self.policy.name, self.level, message, urn or self.urn))

    def validate(self, args: Any, urn: str) -> None:
        self.urn = urn
        try:
            self.policy.validate(args, self)
        except UnknownValueError as exc:  # the engine turns these into advisory diagnostics
            self.found.append(
                Reported(self.policy.name, EnforcementLevel.ADVISORY.value, exc.message, "")
            )
        except _NotApplicableError:
            pass


def _stack_resources(
    resources: list[Registered], outputs: dict[str, Any], inputs: dict[str, Any] | None = None
) -> list[PolicyResource]:
    """``inputs``: urn -> the custom resources' props as the resource phase holds them."""
    by_urn = {r.urn: r for r in resources}
    inputs = inputs or {}
    policy_resources: dict[str, PolicyResource] = {}
    for res in resources:
        # A custom resource's outputs are what the mock returned: its inputs (pulumi_run._Mocks).
        if res.custom:
            props = inputs[res.urn] if res.urn in inputs else _Deferred(res.inputs)
        else:
            props = _Deferred(res.outputs if res.type != STACK_TYPE else outputs)
        policy_resources[res.urn] = _StackResource(
            res.type,
            props,
            res.urn,
            res.name,
            _options(res),
            _provider(res, by_urn),
            None,
            [],
            {},
        )
    for res in resources:
        item = policy_resources[res.urn]
        item.parent = policy_resources.get(res.parent)
        item.dependencies = [policy_resources[d] for d in res.dependencies if d in policy_resources]
    return list(policy_resources.values())


@dataclass
class Prepared:
    """What the engine hands the pack: per resource its validation args, then the stack."""

    resources: list[tuple[str, ResourceValidationArgs]]
    stack: list[PolicyResource]

    def materialize(self) -> None:
        """Deserialise every props now (normally done on a policy's first read)."""
        for _, args in self.resources:
            _ = args.props
        for res in self.stack:
            _ = res.props


def prepare(resources: list[Registered], stack_outputs: dict[str, Any]) -> Prepared:
    """Validation args of every resource (sorted by URN) and the stack's PolicyResources."""
    by_urn = {r.urn: r for r in resources}
    inputs: dict[str, Any] = {}
    args = []
    for res in sorted(resources, key=lambda r: r.urn):
        # One deserialisation per resource, shared by its policies and, for a custom resource
        # (whose outputs are its inputs here), by the stack policies: the engine makes one per
        # call, but a validation only reads them, so the verdicts are the same.
        inputs[res.urn] = _Deferred(res.inputs)
        args.append(
            (
                res.urn,
                _ResourceArgs(
                    res.type,
                    inputs[res.urn],
                    res.urn,
                    res.name,
                    _options(res),
                    _provider(res, by_urn),
                ),
            )
        )
    return Prepared(args, _stack_resources(resources, stack_outputs, inputs))


def run_pack(prepared: Prepared, policies: Iterable[Any]) -> list[Reported]:
    """Every resource policy over every resource, one resource at a time, then the stack's."""
    policies = list(policies)
    found: list[Reported] = []
    resource_policies = [
        _Reporter(p, found) for p in policies if isinstance(p, ResourceValidationPolicy)
    ]
    for urn, args in prepared.resources:
        for reporter in resource_policies:
            reporter.validate(args, urn)
    for policy in policies:
        if isinstance(policy, StackValidationPolicy):
            _Reporter(policy, found).validate(StackValidationArgs(prepared.stack), "")
    return sorted(found)


def evaluate(
    resources: list[Registered], stack_outputs: dict[str, Any], policies: Iterable[Any]
) -> list[Reported]:
    """The engine's part and the pack's: ``run_pack(prepare(...))``."""
    return run_pack(prepare(resources, stack_outputs), policies)


def _unchecked(report_type: Any, plan_region: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(cfg: Any) -> Any:
        return report_type(plan_region(cfg), ())

    return check


def run_policies(
    stack: str,
    values: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    *,
    precheck: bool = True,
    alter: Callable[[list[Registered]], None] | None = None,
    preview: bool = False,
) -> PolicyRun:
    """Run the program for ``stack`` (or ``values``) under mocks, then the pack over its resources.

    ``precheck=False`` runs the program without its own gates (``lanes.rules.checked_plan`` and
    ``lanes.render.limits.checked_objects``; the plan is still computed), standing for a program
    that registers what it was told: the pack must catch it alone. ``alter`` edits the registered resources before the pack sees them, standing
    for what no config can produce (a component that registers a wrong value).
    """
    import lanes.render.limits
    import lanes.rules
    from lanes.model.plan import plan_region

    pack = load_pack()
    secrets = SECRETS if secrets is None else secrets
    saved = lanes.rules.checked_plan, lanes.render.limits.checked_objects
    if not precheck:
        lanes.rules.checked_plan = _unchecked(lanes.rules.Report, plan_region)
        lanes.render.limits.checked_objects = lambda report: report  # the rendered objects' gate
    try:
        run = run_program(stack, values, secrets, preview=preview)
    finally:
        lanes.rules.checked_plan, lanes.render.limits.checked_objects = saved
    if alter is not None:
        alter(run.resources)
    stack_resource = Registered(
        urn=f"urn:pulumi:{stack}::lanes::{STACK_TYPE}::lanes-{stack}",
        type=STACK_TYPE,
        name=f"lanes-{stack}",
        inputs={},
        parent="",
        dependencies=[],
        custom=False,
        provider="",
    )
    reported = evaluate([*run.resources, stack_resource], run.outputs, pack.POLICIES)
    return PolicyRun(run, reported)
