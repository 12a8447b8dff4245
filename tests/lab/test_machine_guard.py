"""The guard of this machine's own files and kernel keys (``tests.support.machine``) can fail."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.support.labs import require_root
from tests.support.machine import MachineGuard

pytestmark = pytest.mark.netns


def test_a_file_a_lab_host_wrote_that_this_machine_holds_too_is_reported():
    require_root()
    guard = MachineGuard()
    probe = Path(f"/var/lib/lanes-guard-{secrets.token_hex(4)}")
    guard.seen.add(str(probe))  # as if a lab host's view held it
    assert guard.changes() == []
    probe.write_text("written outside a view\n")
    try:
        assert guard.changes() == [str(probe)]
    finally:
        probe.unlink()
    assert guard.changes() == []
