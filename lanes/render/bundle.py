"""Every file of one provisioning step on the step's stdin, and the sh that receives them.

A host's or a gateway's files travel on the standard input of the one ``remote.Command`` that
installs them (no ``CopyToRemote`` per file, so no resource per file): the files' bytes one after
another. ``receive_lines`` writes stdin to a temporary file beside the staging paths, checks its
length, cuts each part out by its byte offset and checks it against its SHA-256 before moving it
to its staging path; a short or altered stdin fails the step before anything is armed or
installed. Offsets, lengths and digests come from the content itself; every path is validated and
shell-quoted.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass

from lanes.render.checks import check_path, check_value

__all__ = ["Part", "bundle", "receive_lines"]

_LABEL_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class Part:
    """One file of a bundle: its label (in messages), its content and where it is staged."""

    label: str
    content: str
    staged: str

    def __post_init__(self) -> None:
        check_value(_LABEL_RE, self.label, "label")
        check_path(self.staged, f"{self.label} staged path")

    @property
    def data(self) -> bytes:
        return self.content.encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def bundle(parts: tuple[Part, ...]) -> str:
    """The step's stdin: the parts' content, in order, nothing between them."""
    return "".join(part.content for part in parts)


def receive_lines(name: str, parts: tuple[Part, ...], scratch: str) -> list[str]:
    """sh lines (under ``set -eu``) that put each part of stdin at its staged path, checked.
    ``scratch``: a directory that exists by then, where stdin is kept while it is cut up."""
    check_value(re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$"), name, "name")
    total = sum(len(part.data) for part in parts)
    lines = [
        f"received={shlex.quote(check_path(scratch, 'scratch') + '/.lanes-stdin')}.$$",
        'cat > "$received"',
        "size=$(wc -c < \"$received\" | tr -d ' ')",
        f'if [ "$size" != {total} ]; then',
        f'  echo "lanes: {name}: stdin held $size bytes, not the {total} of its files" >&2',
        '  rm -f "$received"',
        "  exit 1",
        "fi",
    ]
    offset = 0
    for part in parts:
        length, staged = len(part.data), shlex.quote(part.staged)
        lines += [
            f'tail -c +{offset + 1} "$received" | head -c {length} > {staged}.lanes-part',
            f"if [ \"$(sha256sum < {staged}.lanes-part | cut -d ' ' -f 1)\" != {part.sha256} ];"
            " then",
            f'  echo "lanes: {name}: {part.label}: received content is not sha256 {part.sha256}"'
            " >&2",
            f'  rm -f "$received" {staged}.lanes-part',
            "  exit 1",
            "fi",
            f"mv -f {staged}.lanes-part {staged}",
        ]
        offset += length
    lines.append('rm -f "$received"')
    return lines
