"""The one check every value passes before it is put into a script: whole match, or an error
naming the value's place; and absolute paths of plain names."""

from __future__ import annotations

import re

__all__ = ["check_value", "check_path"]

_PATH_RE = re.compile(r"^(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$")


def check_value(regex: re.Pattern[str], value: str, what: str) -> str:
    """``value`` if the whole of it matches ``regex``; else ValueError naming ``what``."""
    if not isinstance(value, str) or not regex.match(value):
        raise ValueError(f"{what}: {value!r} is not allowed in a script (expected {regex.pattern})")
    return value


def check_path(value: str, what: str) -> str:
    """An absolute path of plain names (no ., .., quotes or spaces): safe in any script."""
    check_value(_PATH_RE, value, what)
    if any(part in (".", "..") for part in value.split("/")):
        raise ValueError(f"{what}: {value!r} must not contain . or .. components")
    return value
