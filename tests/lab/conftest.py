"""The labs the lab tests share (``tests/support/labs.py``): one per stack, for the package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.labs import SharedLab, SharedLabs


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        item.lanes_failed = True  # read by the shared labs' fixtures below, at teardown


@pytest.fixture(scope="package")
def shared_labs() -> Iterator[SharedLabs]:
    """Every lab here is used by this package only: they go when its last test is done."""
    labs = SharedLabs()
    try:
        yield labs
    finally:
        labs.close()


def _lab(labs: SharedLabs, request: pytest.FixtureRequest, stack: str) -> Iterator[SharedLab]:
    lab = labs.get(stack)
    yield lab
    if getattr(request.node, "lanes_failed", False):
        labs.discard(stack)  # it may have left the lab changed: the next test gets a fresh one


@pytest.fixture
def dev_lab(shared_labs: SharedLabs, request: pytest.FixtureRequest) -> Iterator[SharedLab]:
    """The dev stack's lab, shared: a test that changes it puts it back."""
    yield from _lab(shared_labs, request, "dev")


@pytest.fixture
def prod_lab(shared_labs: SharedLabs, request: pytest.FixtureRequest) -> Iterator[SharedLab]:
    """The prod (AZ-1) stack's lab, shared: a test that changes it puts it back."""
    yield from _lab(shared_labs, request, "prod")
