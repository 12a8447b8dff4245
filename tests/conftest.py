"""Shared pytest fixtures."""

import os
import shutil

import pytest


@pytest.fixture
def netlab():
    """A fresh namespace lab with a unique prefix, torn down even when the test fails."""
    # Never a skip: a namespace test that silently does not run checks nothing.
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("sshd", path="/usr/sbin"):
        pytest.fail("netlab needs root, iproute2 and openssh-server: run `make test`")
    from lanes.lab.netns import NetLab

    lab = NetLab()
    try:
        yield lab
    finally:
        lab.close()
