"""Read a stack's config straight from ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` (no CLI)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from lanes.config import NAMESPACE, SECRET_KEYS, ConfigError, StackConfig, parse_stack_config

__all__ = ["STACK_PATTERN", "stack_file", "read_stack_values", "load_stack"]

STACK_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}: malformed YAML: {problem}"]) from None


def stack_file(project_dir: Path, stack: str) -> Path:
    """The path of ``Pulumi.<stack>.yaml``; the stack name is checked first."""
    if not STACK_PATTERN.match(stack):
        raise ConfigError([f"--stack: {stack!r} is not a stack name"])
    return project_dir / f"Pulumi.{stack}.yaml"


def read_stack_values(project_dir: Path, stack: str) -> dict[str, Any]:
    """The ``lanes:`` keys of a stack file, without the namespace; secrets are left out."""
    project = _read_yaml(project_dir / "Pulumi.yaml")
    if not isinstance(project, dict) or project.get("name") != NAMESPACE:
        raise ConfigError([f"{project_dir / 'Pulumi.yaml'}: name: expected project {NAMESPACE!r}"])
    path = stack_file(project_dir, stack)
    data = _read_yaml(path)
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ConfigError([f"{path}: config: expected a mapping of {NAMESPACE}:<key> values"])
    values: dict[str, Any] = {}
    problems = []
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace != NAMESPACE or not name:
            problems.append(f"{path}: {key}: not a {NAMESPACE}:<key> config key")
        elif name not in SECRET_KEYS:
            values[name] = value
    if problems:
        raise ConfigError(problems)
    return values


def load_stack(project_dir: Path, stack: str) -> StackConfig:
    """Parse a stack file into the schema, or raise ConfigError with every problem."""
    return parse_stack_config(read_stack_values(project_dir, stack))
