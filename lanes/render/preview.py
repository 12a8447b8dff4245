"""What a pull request's comment shows of a ``pulumi preview``: Markdown from the engine's events.

The events are those ``pulumi preview --json`` streams (``PULUMI_ENABLE_STREAMING_JSON_PREVIEW``):
each step's operation and its resource's parent, the policy packs' verdicts, the summary. The
comment counts, per kind of lanes component (``BareMetalHost``, ``EdgeGateway``, the networks,
the cluster), the components the preview creates, updates, replaces and deletes: a component
counts as replaced when any of its steps is replaced (a host's file changed), as updated when
only updates touch it. A host or gateway that stays names the files that change (its ``files``
input: each file's path and SHA-256). Then every policy violation (level, policy, resource, message), or the
packs that passed. The same events give the same text, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Verdict", "Preview", "read_events", "render_preview"]

OPS = ("create", "update", "replace", "delete")
_REPLACE = {"replace", "create-replacement", "delete-replaced", "discard-replaced"}
_OP_OF = {"create": "create", "update": "update", "delete": "delete", "read-replacement": "update"}
_NO_CHANGE = {"same", "read", "refresh", "import"}


@dataclass(frozen=True, order=True)
class Verdict:
    """A policy violation: its level (mandatory, advisory), the policy and its pack, the
    resource it names and what the pack said."""

    level: str
    policy: str
    pack: str
    resource: str
    message: str


@dataclass
class Preview:
    """What the events say: per component (URN) its kind and operation, the verdicts, the packs
    that ran and the policies that passed, the errors, and whether the preview succeeded."""

    components: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # urn -> kind, name, op
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # urn -> changed file kinds
    verdicts: list[Verdict] = field(default_factory=list)
    packs: dict[str, str] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    result: str = "unknown"


def _category(op: str) -> str | None:
    if op in _REPLACE:
        return "replace"
    return None if op in _NO_CHANGE else _OP_OF.get(op, "update")


def _stronger(a: str | None, b: str | None) -> str | None:
    order = [None, "update", "replace", "create", "delete"]
    return a if order.index(a) >= order.index(b) else b


def _changed_files(meta: dict[str, Any]) -> tuple[str, ...]:
    """The file kinds whose content differs between the step's old and new ``files`` input."""
    old = ((meta.get("old") or {}).get("inputs") or {}).get("files")
    new = ((meta.get("new") or {}).get("inputs") or {}).get("files")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ()
    return tuple(sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)))


def read_events(events: Iterable[dict[str, Any]]) -> Preview:
    """The engine's events as a Preview."""
    preview = Preview()
    parents: dict[str, str] = {}
    kinds: dict[str, str] = {}
    ops: dict[str, str | None] = {}
    for event in events:
        if "resourcePreEvent" in event:
            meta = event["resourcePreEvent"]["metadata"]
            state = meta.get("new") or meta.get("old") or {}
            urn, typ = meta["urn"], meta["type"]
            parents[urn] = state.get("parent", "")
            kinds[urn] = typ
            ops[urn] = _stronger(ops.get(urn), _category(meta["op"]))
            if typ.startswith("lanes:") and _changed_files(meta):
                preview.files[urn] = _changed_files(meta)
        elif "policyEvent" in event:
            p = event["policyEvent"]
            resource = (p.get("resourceUrn") or "").rsplit("::", 1)[-1] or "(stack)"
            preview.verdicts.append(
                Verdict(
                    p.get("enforcementLevel", "mandatory"),
                    p["policyName"],
                    p.get("policyPackName", ""),
                    resource,
                    " ".join(p.get("message", "").split()),
                )
            )
        elif "policyAnalyzeSummaryEvent" in event or "policyAnalyzeStackSummaryEvent" in event:
            summary = (
                event.get("policyAnalyzeSummaryEvent") or event["policyAnalyzeStackSummaryEvent"]
            )
            preview.passed |= set(summary.get("passed") or [])
        elif "diagnosticEvent" in event:
            d = event["diagnosticEvent"]
            message = d.get("message", "").strip()
            # "preview failed" only repeats that a policy or an error stopped it.
            if d.get("severity") == "error" and message != "preview failed":
                preview.errors.append(message)
        elif "summaryEvent" in event:
            s = event["summaryEvent"]
            preview.result = s.get("result", preview.result)
            for key, version in (s.get("PolicyPacks") or {}).items():
                preview.packs[key.split("|", 1)[0]] = version
    effect: dict[str, str | None] = {
        u: op for u, op in ops.items() if kinds[u].startswith("lanes:")
    }
    for urn, op in ops.items():
        owner = _component(urn, parents, kinds)
        if owner is not None and owner != urn and effect[owner] not in ("create", "delete"):
            # A step created or deleted inside a component that stays updates it.
            effect[owner] = _stronger(effect[owner], "update" if op in ("create", "delete") else op)
    for urn, op in effect.items():
        if op is not None:
            preview.components[urn] = (kinds[urn].rsplit(":", 1)[-1], urn.rsplit("::", 1)[-1], op)
    preview.verdicts.sort()
    preview.errors = sorted(set(preview.errors))
    return preview


def _component(urn: str, parents: dict[str, str], kinds: dict[str, str]) -> str | None:
    """The nearest lanes component at or above ``urn``."""
    seen = set()
    while urn and urn not in seen:
        if kinds.get(urn, "").startswith("lanes:"):
            return urn
        seen.add(urn)
        urn = parents.get(urn, "")
    return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_preview(stack: str, preview: Preview) -> str:
    """The comment: changes per component kind, then policy verdicts (and errors)."""
    lines = [f"### `pulumi preview` of stack `{stack}`", ""]
    if preview.components:
        lines += [
            "| component | creates | updates | replaces | deletes |",
            "|---|---:|---:|---:|---:|",
        ]
        by_kind: dict[str, dict[str, list[str]]] = {}
        for urn, (kind, name, op) in preview.components.items():
            files = preview.files.get(urn, ()) if op in ("update", "replace") else ()
            named = f"`{name}`" + (f" ({', '.join(files)})" if files else "")
            by_kind.setdefault(kind, {o: [] for o in OPS})[op].append(named)
        for kind in sorted(by_kind):
            counts = [str(len(by_kind[kind][op])) for op in OPS]
            lines.append(f"| {kind} | " + " | ".join(counts) + " |")
        lines.append("")
        for kind in sorted(by_kind):
            for op in OPS:
                names = sorted(by_kind[kind][op])
                if names:
                    lines.append(f"- {kind} {op}: {', '.join(names)}")
    else:
        lines.append("No component changes.")
    lines += ["", "#### Policies", ""]
    if preview.verdicts:
        lines += ["| level | policy | resource | message |", "|---|---|---|---|"]
        lines += [
            f"| {v.level} | {v.policy} | `{_cell(v.resource)}` | {_cell(v.message)} |"
            for v in preview.verdicts
        ]
    packs = ", ".join(f"{name} {version}" for name, version in sorted(preview.packs.items()))
    if not packs:
        lines.append("No policy pack ran.")
    elif not preview.verdicts:
        lines.append(f"All {len(preview.passed)} policies of {packs} pass.")
    else:
        mandatory = sum(v.level == "mandatory" for v in preview.verdicts)
        lines.append("")
        lines.append(
            f"{packs}: {mandatory} mandatory and {len(preview.verdicts) - mandatory} advisory "
            "violation(s)."
        )
    if preview.errors:
        lines += ["", "#### Errors", "", *(f"```\n{e}\n```" for e in preview.errors)]
    lines += ["", f"Preview {preview.result}."]
    return "\n".join(lines) + "\n"
