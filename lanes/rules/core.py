"""What every rule returns: violations, their order, the report, and the overlap sweep."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from netaddr import IPNetwork

from lanes.config import StackConfig
from lanes.config.base import VLAN_RANGE
from lanes.model.plan import Plan
from lanes.rules.catalog import RuleId

__all__ = [
    "RuleId",
    "path_key",
    "network_names",
    "VLAN_RANGE",
    "Violation",
    "sort_violations",
    "Report",
    "find_overlaps",
]


T = TypeVar("T")


@dataclass(frozen=True)
class Violation:
    """A broken rule: which rule, where in the config, and what is wrong with which value."""

    path: str
    rule: RuleId
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.rule}]"


def path_key(path: str) -> list[tuple[int, str]]:
    """A config path's place in natural order: hosts[2] before hosts[10]."""
    return [(int(p), "") if p.isdigit() else (0, p) for p in re.split(r"(\d+)", path)]


def sort_violations(violations: Iterable[Violation]) -> list[Violation]:
    """Violations without duplicates, by config path in natural order (a stable sort: within
    one path, the order the rules found them)."""
    return sorted(dict.fromkeys(violations), key=lambda v: path_key(v.path))


@dataclass(frozen=True)
class Report:
    """The outcome of ``check``: the plan (None when it could not be computed) and violations."""

    plan: Plan | None
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class _Range(Generic[T]):
    first: int
    last: int
    item: T


def find_overlaps(
    items: Iterable[tuple[IPNetwork, T]], tolerated: Callable[[T], bool] = lambda _: False
) -> list[tuple[T, T]]:
    """Overlapping (earlier, later) pairs in one sorted sweep, O(n log n).

    Each item that overlaps anything before it is reported once, against the earlier item
    reaching furthest. Two ``tolerated`` items may overlap each other (outside networks such
    as two tenant VPCs both on 192.168.0.0/24), but never anything else.
    """
    ranges = sorted(
        (_Range(net.first, net.last, item) for net, item in items),
        key=lambda r: (r.first, -r.last),
    )
    found: list[tuple[T, T]] = []
    reach_any: _Range[T] | None = None
    reach_strict: _Range[T] | None = None
    for current in ranges:
        loose = tolerated(current.item)
        other = reach_strict if loose else reach_any
        if other is not None and current.first <= other.last:
            found.append((other.item, current.item))
        if reach_any is None or current.last > reach_any.last:
            reach_any = current
        if not loose and (reach_strict is None or current.last > reach_strict.last):
            reach_strict = current
    return found


def network_names(cfg: StackConfig) -> tuple[set[str], dict[str, str]]:
    """The platform network names, and outside network name -> CIDR."""
    outside = {net.name: net.cidr for net in cfg.outside}
    return set(cfg.networks.KINDS.names), outside
