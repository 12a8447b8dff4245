"""BGP AS numbers judged by the RFCs that set them apart (issue 23): reserved and documentation
numbers are refused, private ones (RFC 6996) and public ones pass; the README's table is the
rule's table."""

from __future__ import annotations

import pytest

from lanes.config import ConfigError, parse_stack_config
from lanes.rules import AS_RANGES, as_range, check_as_number, checked_plan
from tests.support.mutate import changed
from tests.support.pulumi_run import ROOT, stack_values

ADVICE = "use a private AS, 64512-65534 (RFC 6996), or one assigned to you [bgp-as-number]"


def as_violations(path: str, number: int) -> list[str]:
    report = checked_plan(parse_stack_config(changed(stack_values("prod"), path, number)))
    return [str(v) for v in report.violations]


@pytest.mark.parametrize(
    ("number", "why"),
    [
        (0, "AS 0 is reserved: never in a BGP session (RFC 7607)"),
        (
            23456,
            "AS 23456 is AS_TRANS, reserved: what a 2-octet speaker sees in place of a 4-octet "
            "AS (RFC 6793)",
        ),
        (64496, "AS 64496 is kept for documentation and examples (RFC 5398)"),
        (64511, "AS 64511 is kept for documentation and examples (RFC 5398)"),
        (65535, "AS 65535 is reserved: the last 2-octet AS (RFC 7300)"),
        (65536, "AS 65536 is kept for documentation and examples (RFC 5398)"),
        (65551, "AS 65551 is kept for documentation and examples (RFC 5398)"),
        (65552, "AS 65552 is reserved by IANA (IANA registry)"),
        (131071, "AS 131071 is reserved by IANA (IANA registry)"),
        (4294967295, "AS 4294967295 is reserved: the last 4-octet AS (RFC 7300)"),
    ],
)
def test_a_reserved_or_documentation_as_is_refused_naming_its_rfc(number, why):
    assert as_violations("cluster.calico.as_number", number) == [
        f"cluster.calico.as_number: {why}; {ADVICE}"
    ]


def test_the_routers_as_is_judged_the_same_way():
    assert as_violations("cluster.calico.router_as_number", 23456) == [
        "cluster.calico.router_as_number: AS 23456 is AS_TRANS, reserved: what a 2-octet speaker "
        f"sees in place of a 4-octet AS (RFC 6793); {ADVICE}"
    ]


@pytest.mark.parametrize("number", [64512, 64600, 65534, 64495, 131072, 13335, 4199999999])
def test_private_and_public_as_numbers_pass(number):
    # 64512-65534 is private (RFC 6996); 64495, 131072 and 13335 are public AS numbers. (The
    # 4-octet private range 4200000000-4294967294 is RFC 6996's too, but Calico's CRDs hold an
    # int32: that limit is the cluster objects' rule, not this one.)
    assert as_violations("cluster.calico.as_number", number) == []


def test_beyond_four_octets_is_a_schema_error():
    with pytest.raises(ConfigError, match=r"cluster\.calico\.as_number: 4294967296"):
        parse_stack_config(changed(stack_values("prod"), "cluster.calico.as_number", 2**32))
    with pytest.raises(ConfigError, match=r"cluster\.calico\.as_number: -1"):
        parse_stack_config(changed(stack_values("prod"), "cluster.calico.as_number", -1))


def test_the_table_covers_the_ranges_in_order_without_overlap():
    for earlier, later in zip(AS_RANGES, AS_RANGES[1:], strict=False):
        assert earlier.first <= earlier.last < later.first
    assert as_range(64512) is not None and as_range(64512).use == "private"
    assert as_range(4200000000) is not None and as_range(4200000000).use == "private"
    assert as_range(1) is None
    assert check_as_number("x", 65000) == []


def test_the_readme_table_is_the_rules_table():
    readme = (ROOT / "README.md").read_text()
    for r in AS_RANGES:
        verdict = "allowed" if r.use == "private" else "refused"
        assert f"| {r.numbers} | {r.what} | {r.rfc} | {verdict} |" in readme, r
