"""``lanes lab check --format json`` is the document ``lanes report --matrix`` reads."""

from __future__ import annotations

import json

import pytest

from lanes.cli.lab import matrix_json
from lanes.cli.main import build_parser
from lanes.lab.matrix import Flow
from lanes.lab.site import Probe
from lanes.report import MatrixError, matrix_from_dict

PROBES = [
    Probe(
        Flow("lan", "jump", "master-1", "management", "100.64.0.2", 22, "reach", "100.64.0.52"),
        "100.64.0.52",
        True,
    ),
    Probe(
        Flow("inbound", "deploy", "master-1", "management", "100.64.0.2", 22, "blocked", None),
        None,
        True,
    ),
    Probe(
        Flow("routed", "lb", "master-1", "storage", "100.64.64.2", 22, "reach", "100.64.0.53"),
        None,
        False,
    ),
]


def test_lab_check_accepts_format_json():
    args = build_parser().parse_args(["lab", "check", "--stack", "dev", "--format", "json"])
    assert args.format == "json"
    assert build_parser().parse_args(["lab", "check", "--stack", "dev"]).format == "table"


def test_lab_json_lists_every_probe_with_its_verdict():
    document = json.loads(matrix_json(PROBES, "dev"))
    assert (document["stack"], document["passed"], document["failed"]) == ("dev", 2, 1)
    assert document["flows"][2] == {
        "kind": "routed",
        "source": "lb",
        "target": "master-1",
        "network": "storage",
        "address": "100.64.64.2",
        "port": 22,
        "expect": "reach",
        "seen": "100.64.0.53",
        "mode": "tcp",
        "target_port": 22,
        "answer": None,
        "ok": False,
    }


def test_the_report_reads_what_the_lab_writes():
    matrix = matrix_from_dict(json.loads(matrix_json(PROBES, "dev")))
    assert matrix.sources == ("deploy", "jump", "lb")
    assert matrix.targets == ("master-1",)
    assert [(key, cell.state) for key, cell in matrix.cells] == [
        (("deploy", "master-1"), "blocked"),
        (("jump", "master-1"), "reach"),
        (("lb", "master-1"), "fail"),
    ]
    assert (matrix.flows, matrix.failed) == (3, 1)


def test_a_flow_of_the_wrong_type_is_named():
    document = json.loads(matrix_json(PROBES, "dev"))
    document["flows"][1]["port"] = "22"
    with pytest.raises(MatrixError, match=r"^m.json: flows\[1\]\.port: '22' is not an integer$"):
        matrix_from_dict(document, "m.json")
