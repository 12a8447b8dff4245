"""The rule catalogue (``RuleId``) is complete and every rule id is exercised by a test (issue 13)."""

from __future__ import annotations

from pathlib import Path

from lanes.rules.catalog import RuleId

ROOT = Path(__file__).resolve().parents[2]


def source_text() -> str:
    """lanes/ and the policy pack, the catalogue left out."""
    files = [*sorted((ROOT / "lanes").rglob("*.py")), ROOT / "policies" / "lanes_policies.py"]
    return "\n".join(p.read_text() for p in files if p.name != "catalog.py")


def test_rule_ids_are_the_strings_users_see():
    assert RuleId.CIDR_BOUNDARY == "cidr-boundary"
    assert f"[{RuleId.NIC_MTU}]" == "[nic-mtu]"
    assert RuleId("gateway-snat-order") is RuleId.GATEWAY_SNAT_ORDER
    assert all(rule.guards for rule in RuleId)
    assert len({rule.value for rule in RuleId}) == len(RuleId) == 73


def test_every_catalogued_rule_is_raised_somewhere():
    text = source_text()
    stale = [rule.value for rule in RuleId if f"RuleId.{rule.name}" not in text]
    assert not stale, f"catalogued but never raised: {stale}"


def test_every_rule_id_is_named_by_a_test():
    here = Path(__file__).resolve()
    tests = "\n".join(
        p.read_text() for p in sorted((ROOT / "tests").rglob("*.py")) if p.resolve() != here
    )
    untested = [r.value for r in RuleId if f"[{r}]" not in tests and f'"{r}"' not in tests]
    assert not untested, f"no test triggers these rules: {untested}"
