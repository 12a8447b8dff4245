"""The labs the lab tests share: one per stack for the session, taken down at its end.

A stack's lab (``lab up``: about 20 s for dev, 35 s for prod on an idle machine) is brought up
when a test first asks for it. A test that changes its lab puts it back before it ends; a test
that fails may not have, so its lab is taken down at once and the next test gets a fresh one:
no test sees what a failed one left. The dev lab is watched by a ``MachineGuard``: this
machine's /etc, /var/lib and kernel keys are checked unchanged when it is taken down.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lanes.lab.netns import STATE_ROOT, list_resources
from lanes.lab.procs import alive
from lanes.lab.site import SiteModel, UpResult, bring_up, site_model, take_down
from tests.gateway.support import plan_of
from tests.support.machine import MachineGuard

__all__ = [
    "REAL_TARGETS",
    "SharedLab",
    "SharedLabs",
    "alive",
    "assert_gone",
    "netns_list",
    "new_prefix",
    "require_root",
]

# Where a lab host's files would land on this machine if its view leaked.
REAL_TARGETS = [
    Path("/etc/netplan/60-lanes.yaml"),
    Path("/etc/sysctl.d/60-lanes.conf"),
    Path("/etc/lanes"),
]
GUARDED = ("dev",)  # the stacks whose shared lab is watched by a MachineGuard


def new_prefix() -> str:
    return f"lt{secrets.token_hex(3)}-"


def netns_list() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def assert_gone(prefix: str, pids: list[int]) -> None:
    assert prefix not in netns_list()
    assert list_resources(prefix).empty()
    assert not (STATE_ROOT / prefix).exists()
    assert not any(alive(p) for p in pids)


def require_root() -> None:
    # Never a skip: a namespace test that silently does not run checks nothing.
    if os.geteuid() != 0 or not shutil.which("sshd", path="/usr/sbin"):
        pytest.fail("the lab needs root, iproute2 and openssh-server: run `make test`")


@dataclass
class SharedLab:
    """A stack's lab as ``bring_up`` made it, with what it said while making it."""

    site: SiteModel
    result: UpResult
    lines: list[str]
    # What a module changed for its tests and puts back when it ends (see test_safe_apply).
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.result.prefix


@dataclass
class _Guarded:
    guard: MachineGuard
    before: list[bool]


class SharedLabs:
    """Stack -> its live lab; ``get`` brings one up, ``discard`` takes it down."""

    def __init__(self) -> None:
        self._labs: dict[str, SharedLab] = {}
        self._guards: dict[str, _Guarded] = {}

    def get(self, stack: str) -> SharedLab:
        if stack not in self._labs:
            require_root()
            site = site_model(plan_of(stack), stack)
            if stack in GUARDED:
                keys = {k for net in site.nets.values() for k, _ in net.sysctls}
                self._guards[stack] = _Guarded(
                    MachineGuard(keys), [p.exists() for p in REAL_TARGETS]
                )
            prefix = new_prefix()
            lines: list[str] = []
            try:
                result = bring_up(site, prefix, lines.append)
            except BaseException:
                self._guards.pop(stack, None)  # the failure is the news, not the guard
                assert_gone(prefix, take_down(prefix).pids)
                raise
            self._labs[stack] = SharedLab(site, result, lines)
        return self._labs[stack]

    def live(self, stack: str) -> SharedLab | None:
        return self._labs.get(stack)

    def discard(self, stack: str) -> None:
        lab = self._labs.pop(stack, None)
        if lab is not None:
            self._take_down(stack, lab.prefix)

    def close(self) -> None:
        for stack in sorted(self._labs):
            self.discard(stack)

    def _take_down(self, stack: str, prefix: str) -> None:
        guarded = self._guards.pop(stack, None)
        if guarded is not None:
            guarded.guard.note_views(prefix)
        found = take_down(prefix)
        assert_gone(prefix, found.pids)
        if guarded is not None:
            # This machine's /etc untouched; every host wrote its files, to its own view.
            assert [p.exists() for p in REAL_TARGETS] == guarded.before
            assert len(guarded.guard.seen) > 40
            assert guarded.guard.changes() == []
