"""The lanes program with one broken stack of ``tests/policy`` (``test_broken_stacks.CASES``) built
in, for the real engine and the real pack to judge: ``run(case_id)`` from a project's
``__main__.py``.

A ``config`` case turns the program's own gate (``lanes.rules.checked_plan``) off, so the program
registers what the broken config says and only the pack can refuse it; a ``props`` case lets the
program run and edits the props (and outputs) one component registers, as no config can make it
do. The same cases run under the SDK's mocks in ``tests/policy``.
"""

from __future__ import annotations

import copy
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi

__all__ = ["run"]

REPO = Path(__file__).resolve().parents[2]


def _case(case_id: str):
    from tests.policy.test_broken_stacks import CASES

    (case,) = [c for c in CASES if c.id == case_id]
    return case


def _gate_off() -> None:
    import lanes.rules
    from lanes.model.plan import plan_region

    lanes.rules.checked_plan = lambda cfg: lanes.rules.Report(plan_region(cfg), ())


def _edit_props(alter) -> None:
    """Apply ``alter`` (a case's edit of registered resources) to the one component it names."""
    init, register = pulumi.ComponentResource.__init__, pulumi.ComponentResource.register_outputs

    def tampered_init(self, t: str, name: str, props: Any = None, opts: Any = None, *a, **k):
        found = SimpleNamespace(name=name, inputs=copy.deepcopy(props or {}), outputs={})
        try:
            alter([found])
        except ValueError:  # not the component the case edits
            self._lanes_outputs = {}
            return init(self, t, name, props, opts, *a, **k)
        self._lanes_outputs = found.outputs
        return init(self, t, name, found.inputs, opts, *a, **k)

    def tampered_register(self, outputs: Any) -> None:
        merged = {**(outputs or {}), **getattr(self, "_lanes_outputs", {})}
        return register(self, merged)

    pulumi.ComponentResource.__init__ = tampered_init  # type: ignore[method-assign]
    pulumi.ComponentResource.register_outputs = tampered_register  # type: ignore[method-assign]


def run(case_id: str) -> None:
    case = _case(case_id)
    if case.config is not None:
        _gate_off()
    if case.props is not None:
        _edit_props(case.props)
    runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
