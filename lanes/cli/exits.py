"""Exit codes and error lines shared by every ``python -m lanes`` command.

- 0: done, nothing wrong;
- 1: the command ran and found something wrong: a broken rule, drift, a failing cell;
- 2: the input cannot be used: a config error, a file that cannot be read or written, a host
  that cannot be reached, a lab that is not up. One line per problem, naming the path;
- 3: lanes itself failed. One line, never a traceback, and where to report it.

Problems go to stderr, one per line and never wrapped: people grep them and CI logs keep them
whole. No line ever carries a config value that may be a secret.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from lanes.config import ConfigError
from lanes.remote.ssh import SshError

__all__ = [
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "CommandError",
    "say",
    "say_config_error",
    "say_violations",
    "guarded",
]

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_HINT = "a bug in lanes: please report it with the command you ran (README: Reporting bugs)"


class CommandError(Exception):
    """A problem with what the command was given, said in one line (exit 2)."""


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def say_config_error(exc: ConfigError, tail: str | None = None) -> int:
    """Every problem of an unreadable config, then ``tail``; the config-error exit code."""
    for problem in exc.problems:
        say(f"error: {problem}")
    if tail:
        say(tail)
    return EXIT_INPUT


def say_violations(violations: Iterable[object], tail: str | None = None) -> int:
    """Every broken rule, then ``tail``; the rule-violation exit code."""
    for violation in violations:
        say(f"violation: {violation}")
    if tail:
        say(tail)
    return EXIT_FAILED


def guarded(command: Callable[[], int]) -> int:
    """Run ``command``; what escapes it becomes one line and its exit code, never a traceback."""
    try:
        return command()
    except ConfigError as exc:
        return say_config_error(exc)
    except (CommandError, SshError, ValueError, OSError) as exc:
        say(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return EXIT_INPUT
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 3
        if os.environ.get("LANES_DEBUG") == "1":
            traceback.print_exc()
        # The type and the place only: an exception's message may carry any value, a secret too.
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        say(
            f"internal error: {type(exc).__name__} at {where} ({REPORT_HINT}; LANES_DEBUG=1 "
            "shows the traceback)"
        )
        return EXIT_INTERNAL
