"""Random mutations of the committed stacks never make ``lanes plan`` trace back, and a file the
schema refuses never plans (issue 13)."""

from __future__ import annotations

import copy
import io
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lanes.cli.main import main
from lanes.config import ConfigError, parse_stack_config
from tests.hostile.make_corpus import MARKER, PRIVATE_KEY
from tests.support.pulumi_run import ROOT, stack_values

VALUES = {stack: stack_values(stack) for stack in ("dev", "prod")}

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "100.64.0.2\n",
            "100.64.0.0/33",
            "192.168.0.52;reboot",
            "$(id)",
            "lo",
            PRIVATE_KEY,
            f"ghp_{MARKER}0123456789abcdef",
            "ssh-ed25519 AAAA",
            "10.0.0.1/8",
            "-rf",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
)


@st.composite
def mutated(draw) -> tuple[str, dict[str, Any]]:
    stack = draw(st.sampled_from(sorted(VALUES)))
    values = copy.deepcopy(VALUES[stack])
    node: Any = values
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, dict | list) or draw(st.booleans()):
            node[key] = draw(hostile)
            return stack, values
        node = child
    return stack, values


def plan(values: dict[str, Any]) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        text = yaml.safe_dump({"config": {f"lanes:{k}": v for k, v in values.items()}})
        (project / "Pulumi.m.yaml").write_text(text)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["plan", "--stack", "m", "--project-dir", str(project), "--format", "json"])
        return code, out.getvalue() + err.getvalue()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_stack_never_traces_back_and_never_plans_when_the_schema_refuses(case):
    _, values = case
    code, output = plan(values)
    assert code in (0, 1, 2), output
    assert "Traceback" not in output and "internal error" not in output
    assert MARKER not in output
    try:
        parse_stack_config(values)
    except ConfigError:
        assert code == 2, output
