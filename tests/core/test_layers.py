"""The core is a house of layers: each folder imports only the folders below it, and no module
imports itself back through others (type-only imports count: they are arrows a reader follows)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.pulumi_run import ROOT

CORE = ROOT / "lanes"
# From the ground up; a layer may import its own folder and every layer before it. lab and
# report stand side by side (neither imports the other), cli on top.
LAYERS = ("config", "model", "intents", "rules", "render", "remote", "lab", "report", "cli")
BESIDE = {("lab", "report"), ("report", "lab")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def lanes_imports(path: Path) -> set[str]:
    """Every ``lanes.`` module the file imports, under TYPE_CHECKING and inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lanes.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "lanes":
                found |= {f"lanes.{a.name}" for a in node.names}
            elif node.module.startswith("lanes."):
                found.add(node.module)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in sorted(CORE.rglob("*.py"))}
    return {name: {m for m in lanes_imports(p) if m in modules} for name, p in modules.items()}


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else None


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import of a layer above from a layer below."""
    found = []
    for module, imported in sorted(edges.items()):
        mine = layer(module)
        for other in sorted(imported):
            theirs = layer(other)
            if mine is None or theirs is None or mine == theirs or (mine, theirs) in BESIDE:
                continue
            if LAYERS.index(theirs) > LAYERS.index(mine):
                found.append(f"{module} -> {other}")
    return found


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every loop a depth-first walk of the imports closes."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in sorted(edges.get(module, ())):
            if state.get(other) == 1:
                found.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return found


def test_each_layer_imports_only_the_layers_below_it():
    assert upward_imports(graph()) == []


def test_every_core_module_is_in_a_layer():
    loose = [m for m in graph() if layer(m) is None and m not in ("lanes", "lanes.__main__")]
    assert loose == []


def test_no_module_imports_itself_back():
    assert circles(graph()) == []


def test_the_checks_see_an_upward_import_and_a_circle():
    edges = {"lanes.config.bad": {"lanes.rules"}, "lanes.rules": {"lanes.config.bad"}}
    assert upward_imports(edges) == ["lanes.config.bad -> lanes.rules"]
    assert circles(edges) == [["lanes.config.bad", "lanes.rules", "lanes.config.bad"]]
