"""Read a stack's config straight from ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` (no CLI).

A stack file is input from whoever can open a pull request, so it is read defensively: UTF-8
only, a bounded size, duplicate keys refused (Pulumi's own parser refuses them; PyYAML would
silently keep the last one), aliases allowed only while the document they expand to stays small
(a few lines of nested aliases can stand for gigabytes), a bounded nesting depth. Every problem
is a ConfigError naming the file and line; no value is ever echoed (it may be a secret).

A region's AZ stacks share one inventory: a stack file naming ``lanes:inventory:
regions/<region>.yaml`` gets every key of that region file (plain keys, no namespace), and
says which AZ it is and nothing else (so no two AZ stacks can plan different regions); the
region file never holds ``az``, ``inventory`` or a secret, and its path stays inside the
project. ``with_inventory`` is the one merge and ``parse_config`` parses through it: the CLI
reads stacks with it here, and the Pulumi program (``__main__.py``) calls it on the config the
engine passed.

Only ``lanes:`` keys are ours: a key without a namespace is the project's (Pulumi reads
``region`` as ``lanes:region``), and other namespaces (``kubernetes:context``,
``command:...``) are the providers' to validate.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from lanes.config import NAMESPACE, SECRET_KEYS, ConfigError, StackConfig, parse_stack_config
from lanes.config.base import show_value

__all__ = [
    "STACK_PATTERN",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_DEPTH",
    "FileRefused",
    "read_regular_file",
    "stack_file",
    "read_yaml",
    "read_stack_file_values",
    "with_inventory",
    "inventory_path",
    "load_stack",
    "parse_config",
]

STACK_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
# A region file: a relative path of plain names inside the project, ending in .yaml; each part
# starts with a letter or digit, so no part is "." or ".." or a hidden file.
INVENTORY_PATTERN = re.compile(
    r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,63}/){0,4}[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.ya?ml\Z"
)
INVENTORY_KEY = "inventory"
# Keys only an AZ stack's own file may give.
STACK_ONLY_KEYS = frozenset({"az", INVENTORY_KEY})
MAX_FILE_BYTES = 16 * 1024 * 1024
# Far above a 3,000-host region (about 60,000 nodes), far below what hurts.
MAX_NODES = 2_000_000
MAX_DEPTH = 64


class _Refused(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and documents that expand too far or too deep."""

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        _check_size(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise _Refused(key_node.start_mark, "a mapping key must be a plain value") from None
            if key in seen:
                first = seen[key].line + 1
                raise _Refused(
                    key_node.start_mark, f"duplicate key {key!r} (first at line {first})"
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _check_size(root: yaml.Node | None) -> None:
    """Refuse a document whose expansion (aliases followed) is too large or too deep.

    Sizes are memoized per node, so a chain of aliases is measured in linear time and the
    document is never expanded to measure it.
    """
    if root is None:
        return
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if depth > MAX_DEPTH:
            raise _Refused(node.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        children = _children(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_NODES:
                raise _Refused(
                    node.start_mark,
                    f"expands to more than {MAX_NODES:,} values (aliases): refused",
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _Refused(node.start_mark, "a recursive alias")
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _where(path: Path, mark: yaml.Mark | None) -> str:
    return f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)


class FileRefused(ValueError):
    """A file lanes will not read: missing, not a regular file, too large; the message names it."""


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES, what: str = "stack file") -> bytes:
    """A regular file's bytes, at most ``limit``: never blocks on a FIFO or a device, never reads
    more than the bound. Raises FileRefused naming ``path`` (``what`` says what it should be)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileRefused(f"{path}: no such file") from None
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused(f"{path}: is a directory, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{path}: not a regular file (a FIFO, socket or device)")
        if info.st_size > limit:
            raise FileRefused(f"{path}: {info.st_size:,} bytes, more than {limit:,}: refused")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise FileRefused(f"{path}: more than {limit:,} bytes: refused")
        return data
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _read_text(path: Path) -> str:
    try:
        data = read_regular_file(path)
    except FileRefused as exc:
        raise ConfigError([str(exc)]) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise ConfigError([f"{path}: not UTF-8 (UTF-16 or binary): save it as UTF-8"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [f"{path}:{line}: not UTF-8 (byte {exc.start}): save it as UTF-8"]
        ) from None


def read_yaml(path: Path) -> Any:
    """One YAML document, read as described above; raises ConfigError naming file and line."""
    text = _read_text(path)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _Refused as exc:
        raise ConfigError([f"{_where(path, exc.mark)}: {exc.message}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "malformed"
        context = getattr(exc, "context", None)
        opened = getattr(exc, "context_mark", None)
        if context and opened is not None and (mark is None or opened.line != mark.line):
            context = f"{context} at line {opened.line + 1}"
        detail = f"{problem} ({context})" if context else problem
        raise ConfigError([f"{_where(path, mark)}: malformed YAML: {detail}"]) from None
    except RecursionError:
        raise ConfigError([f"{path}: nested deeper than {MAX_DEPTH} levels"]) from None


def stack_file(project_dir: Path, stack: str) -> Path:
    """The path of ``Pulumi.<stack>.yaml``; the stack name is checked first."""
    if not isinstance(stack, str) or not STACK_PATTERN.match(stack):
        raise ConfigError(["--stack: not a stack name (letters, digits, '_', '.', '-')"])
    return project_dir / f"Pulumi.{stack}.yaml"


def read_stack_file_values(project_dir: Path, stack: str) -> dict[str, Any]:
    """The ``lanes:`` keys of the stack file itself, without the namespace; secrets left out."""
    project = read_yaml(project_dir / "Pulumi.yaml")
    if not isinstance(project, dict) or project.get("name") != NAMESPACE:
        raise ConfigError([f"{project_dir / 'Pulumi.yaml'}: name: expected project {NAMESPACE!r}"])
    path = stack_file(project_dir, stack)
    data = read_yaml(path)
    config = data.get("config") if isinstance(data, dict) else None
    if config is None and isinstance(data, dict) and "config" not in data:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError([f"{path}: config: expected a mapping of {NAMESPACE}:<key> values"])
    values: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            raise ConfigError([f"{path}: config: a key must be a string"])
        namespace, colon, name = key.partition(":")
        if not colon:
            namespace, name = NAMESPACE, key  # Pulumi's project namespace
        if namespace != NAMESPACE:
            continue  # a provider's key (kubernetes:context, command:...): not ours to judge
        if name in SECRET_KEYS:
            continue  # held encrypted by Pulumi; never read here
        if name in values:
            raise ConfigError([f"{path}: config: {NAMESPACE}:{name} is given twice"])
        values[name] = value
    return values


def inventory_path(project_dir: Path, name: object, where: str) -> Path:
    """The region file ``name`` names, checked to be a plain relative path inside the project."""
    key = f"{where}: {NAMESPACE}:{INVENTORY_KEY}"
    if not isinstance(name, str) or not INVENTORY_PATTERN.match(name):
        raise ConfigError(
            [
                f"{key}: {show_value(name)} is not a region file: a relative path inside the "
                "project ending in .yaml (e.g. regions/east.yaml)"
            ]
        )
    try:
        root = project_dir.resolve()
        path = (root / name).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise ConfigError([f"{key}: {show_value(name)}: a symlink loop"]) from None
    if root not in path.parents:
        raise ConfigError([f"{key}: {show_value(name)} leads outside the project (a symlink)"])
    return project_dir / name


def with_inventory(
    project_dir: Path, values: dict[str, Any], where: str
) -> tuple[dict[str, Any], Path | None, frozenset[str]]:
    """``values`` (a stack's ``lanes:`` keys) with its region file's keys merged in, and the
    ``inventory`` key consumed: the result is the same stack written as one file.

    Returns the merged values, the region file (None without one) and the keys it gave, so an
    error about one of them can name that file. ``where`` names the stack's side in messages.
    """
    if values.get(INVENTORY_KEY) is None:
        return values, None, frozenset()
    path = inventory_path(project_dir, values[INVENTORY_KEY], where)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping of {NAMESPACE} keys (region, hosts, ...)"])
    problems = []
    for key in data:
        if not isinstance(key, str):
            problems.append(f"{path}: a key must be a string")
        elif key.startswith(f"{NAMESPACE}:") or ":" in key:
            problems.append(f"{path}: {key}: plain keys here, without a namespace")
        elif key in SECRET_KEYS:
            problems.append(
                f"{path}: {key}: a secret never goes in a file: pulumi config set --secret "
                f"{NAMESPACE}:{key} (per stack)"
            )
        elif key in STACK_ONLY_KEYS:
            problems.append(f"{path}: {key}: belongs in each AZ stack's own file, not the region's")
    # Every AZ stack of the region must plan the same region: its own file says which AZ it
    # is and nothing the others could say differently.
    problems += [
        f"{where}: {NAMESPACE}:{key} belongs in the region file {path}: an AZ stack that names "
        f"one holds only {NAMESPACE}:az (its secrets are set with pulumi config set --secret)"
        for key in sorted(values)
        if key not in STACK_ONLY_KEYS
    ]
    if problems:
        raise ConfigError(problems)
    own = {key: value for key, value in values.items() if key != INVENTORY_KEY}
    return {**data, **own}, path, frozenset(data)


def _name_sources(exc: ConfigError, region: Path | None, keys: frozenset[str]) -> ConfigError:
    """Prefix the problems about keys the region file gave with that file's name."""
    if region is None:
        return exc
    named = []
    for problem in exc.problems:
        top = re.split(r"[.\[:]", problem, maxsplit=1)[0]
        named.append(f"{region}: {problem}" if top in keys else problem)
    return ConfigError(named)


def load_stack(project_dir: Path, stack: str) -> StackConfig:
    """Parse a stack file (and its region file) into the schema, or raise ConfigError."""
    values = read_stack_file_values(project_dir, stack)
    return parse_config(project_dir, values, str(stack_file(project_dir, stack)))


def parse_config(project_dir: Path, values: dict[str, Any], where: str) -> StackConfig:
    """A stack's ``lanes:`` keys (``where`` names them) with its region file merged in, parsed
    into the schema; errors about keys the region file gave name that file."""
    merged, region, keys = with_inventory(project_dir, values, where)
    try:
        return parse_stack_config(merged)
    except ConfigError as exc:
        raise _name_sources(exc, region, keys) from None
