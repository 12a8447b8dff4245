"""The rule catalogue is complete and every rule id is exercised by a test (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path

from lanes.rules.catalog import RULES

ROOT = Path(__file__).resolve().parents[2]


def raised_ids() -> dict[str, str]:
    """rule id -> file, for every ``Violation(path, "<id>", ...)`` with a literal id in lanes/."""
    found = {}
    for path in sorted((ROOT / "lanes").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "Violation"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value
            ):
                found.setdefault(node.args[1].value, str(path.relative_to(ROOT)))
    return found


def source_text() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "lanes").rglob("*.py")))


def test_every_raised_rule_id_is_in_the_catalogue():
    unknown = {i: f for i, f in raised_ids().items() if i not in RULES}
    assert not unknown, f"add these to lanes/rules/catalog.py: {unknown}"


def test_every_catalogued_rule_is_raised_somewhere():
    text = source_text().replace("RULES: dict[str, str] = {", "")
    catalogue = (ROOT / "lanes/rules/catalog.py").read_text()
    stale = [i for i in RULES if text.count(f'"{i}"') <= catalogue.count(f'"{i}"')]
    assert not stale, f"catalogued but never raised: {stale}"


def test_every_rule_id_is_named_by_a_test():
    here = Path(__file__).resolve()
    tests = "\n".join(
        p.read_text() for p in sorted((ROOT / "tests").rglob("*.py")) if p.resolve() != here
    )
    untested = [i for i in RULES if f"[{i}]" not in tests and f'"{i}"' not in tests]
    assert not untested, f"no test triggers these rules: {untested}"
