"""Markup as data: elements are built as trees first, then serialized once (HTML and SVG)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape

__all__ = ["Element", "Child", "el", "raw", "serialize"]

# HTML void elements never get a closing tag; SVG elements without children self-close
# (inline SVG is foreign content, where that is allowed); any other element is closed.
_VOID = frozenset({"meta", "br", "hr", "img", "link"})
_SVG = frozenset({"rect", "line", "circle", "path", "polyline", "polygon", "use", "stop"})
# A line break after these keeps a committed report diffable line by line; it changes no layout
# (whitespace between blocks, table rows and SVG shapes is not rendered).
_BREAK = (
    _VOID
    | _SVG
    | frozenset(
        {"html", "head", "body", "style", "title", "h1", "h2", "h3", "p", "nav", "div", "section"}
        | {"table", "caption", "thead", "tbody", "tr", "details", "summary", "svg", "g", "defs"}
        | {"pattern", "text"}
    )
)


@dataclass(frozen=True, slots=True)
class Raw:
    """Text written as is (a doctype, a style sheet): never built from config values."""

    text: str


@dataclass(frozen=True, slots=True)
class Element:
    tag: str
    attrs: tuple[tuple[str, str], ...]
    children: tuple[Child, ...]


Child = Element | Raw | str


def _attr_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def el(tag: str, attrs: Mapping[str, object] | None = None, *children: Child | None) -> Element:
    """An element; attributes whose value is None are left out, ``class_`` is ``class``."""
    pairs = tuple(
        (name.rstrip("_").replace("_", "-"), _attr_value(value))
        for name, value in (attrs or {}).items()
        if value is not None
    )
    return Element(tag, pairs, tuple(c for c in children if c is not None))


def raw(text: str) -> Raw:
    return Raw(text)


def _write(node: Child, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(escape(node, quote=False))
        return
    if isinstance(node, Raw):
        out.append(node.text)
        return
    attrs = "".join(f' {name}="{escape(value)}"' for name, value in node.attrs)
    if not node.children:
        if node.tag in _VOID:
            out.append(f"<{node.tag}{attrs}>")
        elif node.tag in _SVG:
            out.append(f"<{node.tag}{attrs}/>")
        else:
            out.append(f"<{node.tag}{attrs}></{node.tag}>")
    else:
        out.append(f"<{node.tag}{attrs}>")
        for child in node.children:
            _write(child, out)
        out.append(f"</{node.tag}>")
    if node.tag in _BREAK:
        out.append("\n")


def serialize(nodes: Iterable[Child]) -> str:
    """The nodes as text, in order; values are escaped, ``Raw`` text is not."""
    out: list[str] = []
    for node in nodes:
        _write(node, out)
    return "".join(out)
