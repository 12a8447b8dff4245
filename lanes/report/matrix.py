"""The lab's reachability matrix as the report reads it: the JSON of ``lanes lab check --format json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lanes.config.base import show_value
from lanes.config.stackfile import MAX_DEPTH, MAX_FILE_BYTES, FileRefused, read_regular_file

__all__ = [
    "MAX_MATRIX_BYTES",
    "MatrixError",
    "FlowResult",
    "Cell",
    "Matrix",
    "matrix_from_dict",
    "load_matrix",
]

# A matrix file is read like a stack file: a regular file, bounded in size and nesting. A
# 3,000-host region's matrix is a few MB; lab check writes three levels of nesting.
MAX_MATRIX_BYTES = MAX_FILE_BYTES

FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "source": str,
    "target": str,
    "network": str,
    "address": str,
    "port": int,
    "expect": str,
    "seen": (str, type(None)),
    "answer": (str, type(None)),
    "ok": bool,
}


class MatrixError(ValueError):
    """The matrix file cannot be read; the message names the file and the place in it."""


@dataclass(frozen=True, order=True)
class FlowResult:
    """One probed flow: ``source`` reached (or not) ``target`` at ``address``:``port``."""

    source: str
    target: str
    kind: str
    network: str
    address: str
    port: int
    expect: str
    seen: str | None
    answer: str | None
    ok: bool

    def describe(self) -> str:
        want = f"{self.expect} as {self.seen}" if self.seen else self.expect
        got = self.answer or "-"
        verdict = "pass" if self.ok else "FAIL"
        return f"{self.kind} {self.network} {self.address}:{self.port} {want}: {got} ({verdict})"


CellState = Literal["reach", "blocked", "fail"]


@dataclass(frozen=True)
class Cell:
    """Every flow from one source to one target."""

    flows: tuple[FlowResult, ...]

    @property
    def state(self) -> CellState:
        if any(not f.ok for f in self.flows):
            return "fail"
        return "reach" if any(f.expect == "reach" for f in self.flows) else "blocked"

    @property
    def failed(self) -> int:
        return sum(not f.ok for f in self.flows)


@dataclass(frozen=True)
class Matrix:
    stack: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    cells: tuple[tuple[tuple[str, str], Cell], ...]  # ((source, target), cell), sorted

    def cell(self, source: str, target: str) -> Cell | None:
        return dict(self.cells).get((source, target))

    @property
    def flows(self) -> int:
        return sum(len(c.flows) for _, c in self.cells)

    @property
    def failed(self) -> int:
        return sum(c.failed for _, c in self.cells)


def _flow(data: Any, where: str) -> FlowResult:
    if not isinstance(data, dict):
        raise MatrixError(f"{where}: is not an object")
    for name, kind in FIELDS.items():
        if name not in data:
            raise MatrixError(f"{where}.{name}: missing")
        value = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise MatrixError(f"{where}.{name}: {show_value(value)} is not {_kind_name(kind)}")
    if data["expect"] not in ("reach", "blocked"):
        raise MatrixError(f"{where}.expect: {show_value(data['expect'])} is not reach or blocked")
    return FlowResult(**{name: data[name] for name in FIELDS})


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", bool: "a boolean", type(None): "null"}
    return " or ".join(names[k] for k in kinds)


def matrix_from_dict(data: Any, where: str = "matrix") -> Matrix:
    """The matrix of a decoded ``lab check --format json`` document; errors name ``where``."""
    if not isinstance(data, dict) or not isinstance(data.get("flows"), list):
        raise MatrixError(
            f"{where}: expected an object with a flows list (lanes lab check --format json)"
        )
    flows = sorted(_flow(f, f"{where}: flows[{i}]") for i, f in enumerate(data["flows"]))
    grouped: dict[tuple[str, str], list[FlowResult]] = {}
    for f in flows:
        grouped.setdefault((f.source, f.target), []).append(f)
    return Matrix(
        str(data.get("stack", "")),
        tuple(sorted({f.source for f in flows})),
        tuple(sorted({f.target for f in flows})),
        tuple((key, Cell(tuple(value))) for key, value in sorted(grouped.items())),
    )


def _too_deep(data: Any, limit: int) -> bool:
    """Whether ``data`` nests deeper than ``limit`` levels (measured without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children)
    return False


def load_matrix(path: Path) -> Matrix:
    """Read and check a matrix file, as defensively as a stack file: a regular file only (a FIFO
    never blocks), at most MAX_MATRIX_BYTES, UTF-8, nested at most MAX_DEPTH levels. MatrixError
    names the file (and the line for bad JSON)."""
    try:
        raw = read_regular_file(path, MAX_MATRIX_BYTES, "matrix file")
        text = raw.decode("utf-8")
    except FileRefused as exc:
        raise MatrixError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise MatrixError(f"{path}: not UTF-8 (byte {exc.start}): not a lab check matrix") from None
    deep = f"{path}: nested deeper than {MAX_DEPTH} levels: not a lab check matrix"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MatrixError(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise MatrixError(deep) from None
    if _too_deep(data, MAX_DEPTH):
        raise MatrixError(deep)
    return matrix_from_dict(data, str(path))
