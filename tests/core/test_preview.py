"""The pull request comment of a preview (``lanes.render.preview``), from the engine's events."""

from __future__ import annotations

from lanes.render.preview import read_events, render_preview

STACK = "urn:pulumi:prod::lanes::pulumi:pulumi:Stack::lanes-prod"
HOST = "urn:pulumi:prod::lanes::lanes:host:BareMetalHost::worker-1"
GW = "urn:pulumi:prod::lanes::lanes:gateway:EdgeGateway::edge"
NET = "urn:pulumi:prod::lanes::lanes:network:StorageNetwork::east-storage"
NEW = "urn:pulumi:prod::lanes::lanes:host:BareMetalHost::worker-9"


def step(op: str, urn: str, parent: str = STACK) -> dict:
    typ = urn.split("::")[2].split("$")[-1]
    state = {"urn": urn, "type": typ, "parent": parent, "inputs": {}}
    return {"resourcePreEvent": {"metadata": {"op": op, "urn": urn, "type": typ, "new": state}}}


def child(op: str, owner: str, name: str, typ: str = "command:remote:Command") -> dict:
    prefix = owner.split("::")[2]
    return step(op, f"urn:pulumi:prod::lanes::{prefix}${typ}::{name}", owner)


def files(netplan: str, sysctl: str) -> dict:
    return {
        "netplan": {"path": "/etc/netplan/60-lanes.yaml", "sha256": netplan},
        "sysctl": {"path": "/etc/sysctl.d/60-lanes.conf", "sha256": sysctl},
    }


def host_update(urn: str, old: dict, new: dict) -> dict:
    event = step("update", urn)
    meta = event["resourcePreEvent"]["metadata"]
    meta["old"] = {**meta["new"], "inputs": {"files": old}}
    meta["new"]["inputs"] = {"files": new}
    return event


EVENTS = [
    step("same", STACK, ""),
    host_update(HOST, files("a" * 64, "b" * 64), files("c" * 64, "b" * 64)),
    child("replace", HOST, "worker-1-confirm"),
    child("update", HOST, "worker-1-apply"),
    step("same", GW),
    child("update", GW, "edge-apply"),
    step("update", NET),
    step("create", NEW),
    child("create", NEW, "worker-9-apply"),
    {
        "policyEvent": {
            "resourceUrn": "urn:pulumi:prod::lanes::lanes:host:BareMetalHost$command:remote:Command::lb-apply",
            "message": "Every SSH connection pins the host key.\nlb-apply: SSH to 100.64.0.53 | accepts any key",
            "policyName": "ssh-host-keys-pinned",
            "policyPackName": "lanes-network-rules",
            "enforcementLevel": "advisory",
        }
    },
    {"policyAnalyzeStackSummaryEvent": {"passed": ["vlan-ids", "networks-disjoint"]}},
    {
        "summaryEvent": {
            "result": "succeeded",
            "PolicyPacks": {"lanes-network-rules|local|/repo/policies": "0.1.0"},
        }
    },
]


def test_changes_are_counted_per_component_kind_and_the_verdicts_listed():
    text = render_preview("prod", read_events(EVENTS))
    assert text == (
        "### `pulumi preview` of stack `prod`\n"
        "\n"
        "| component | creates | updates | replaces | deletes |\n"
        "|---|---:|---:|---:|---:|\n"
        "| BareMetalHost | 1 | 0 | 1 | 0 |\n"
        "| EdgeGateway | 0 | 1 | 0 | 0 |\n"
        "| StorageNetwork | 0 | 1 | 0 | 0 |\n"
        "\n"
        "- BareMetalHost create: `worker-9`\n"
        "- BareMetalHost replace: `worker-1` (netplan)\n"
        "- EdgeGateway update: `edge`\n"
        "- StorageNetwork update: `east-storage`\n"
        "\n"
        "#### Policies\n"
        "\n"
        "| level | policy | resource | message |\n"
        "|---|---|---|---|\n"
        "| advisory | ssh-host-keys-pinned | `lb-apply` | Every SSH connection pins the host key. "
        "lb-apply: SSH to 100.64.0.53 \\| accepts any key |\n"
        "\n"
        "lanes-network-rules 0.1.0: 0 mandatory and 1 advisory violation(s).\n"
        "\n"
        "Preview succeeded.\n"
    )


def test_an_unchanged_stack_says_so_and_which_policies_passed():
    quiet = [e for e in EVENTS if "policyEvent" not in e]
    quiet = [step("same", HOST) if "resourcePreEvent" in e else e for e in quiet]
    text = render_preview("prod", read_events(quiet))
    assert "No component changes." in text
    assert "All 2 policies of lanes-network-rules 0.1.0 pass." in text


def test_the_text_does_not_depend_on_the_order_steps_ran_in():
    # The engine runs independent steps side by side: their events come in any order.
    assert render_preview("prod", read_events(EVENTS)) == render_preview(
        "prod", read_events(list(reversed(EVENTS)))
    )
