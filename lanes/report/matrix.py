"""The lab's reachability matrix as the report reads it: the JSON of ``lanes lab check --format json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["MatrixError", "FlowResult", "Cell", "Matrix", "matrix_from_dict", "load_matrix"]

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
            raise MatrixError(f"{where}.{name}: {value!r} is not {_kind_name(kind)}")
    if data["expect"] not in ("reach", "blocked"):
        raise MatrixError(f"{where}.expect: {data['expect']!r} is not reach or blocked")
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


def load_matrix(path: Path) -> Matrix:
    """Read and check a matrix file; MatrixError names the file (and the line for bad JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MatrixError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MatrixError(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})") from exc
    return matrix_from_dict(data, str(path))
