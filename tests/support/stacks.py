"""A committed stack's ``lanes:`` values as one dict, its region file merged in: what the tests
and the benchmarks start their configs from (no Pulumi import: the benchmarks time the core)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lanes.config.stackfile import read_stack_file_values, stack_file, with_inventory

__all__ = ["ROOT", "read_stack_values"]

ROOT = Path(__file__).resolve().parents[2]


def read_stack_values(project_dir: Path, stack: str) -> dict[str, Any]:
    """A stack's ``lanes:`` keys with its region file merged in; secrets are left out."""
    values = read_stack_file_values(project_dir, stack)
    merged, _, _ = with_inventory(project_dir, values, str(stack_file(project_dir, stack)))
    return merged
