"""Change one value of a stack's config by its config path, for tests of broken stacks."""

from __future__ import annotations

import copy
import re
from typing import Any

__all__ = ["DELETE", "changed"]

DELETE = object()
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _TOKEN.findall(path)]


def changed(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``values`` with ``path`` (``hosts[3].nics[1].vlan``) set, or removed by DELETE."""
    result = copy.deepcopy(values)
    *parents, last = _steps(path)
    node: Any = result
    for step in parents:
        node = node[step]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value
    return result
