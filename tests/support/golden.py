"""Golden files: compare rendered text byte for byte; LANES_UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["GOLDEN", "assert_golden"]

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def assert_golden(relative: str, content: str) -> None:
    """``content`` equals ``tests/golden/<relative>``; rewrite it instead when asked to."""
    path = GOLDEN / relative
    if os.environ.get("LANES_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    assert path.exists(), (
        f"{path} is missing: run the tests once with LANES_UPDATE_GOLDEN=1 and review it"
    )
    expected = path.read_text(encoding="utf-8")
    assert content == expected, (
        f"{relative} differs from its golden file (LANES_UPDATE_GOLDEN=1 to accept)"
    )
