"""The report tests break a copy of the project's Pulumi files as the plan command's tests do."""

from tests.core.test_cli import project  # noqa: F401  (a fixture, shared)
