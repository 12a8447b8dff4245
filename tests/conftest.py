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


@pytest.fixture(scope="session")
def lab_apiserver():
    """One throwaway API server for the whole session (``lanes.lab.apiserver_run``): etcd,
    kube-apiserver and kube-controller-manager on 127.0.0.1, the CRDs of lanes' kinds, a Node
    for every Kubernetes host of dev and of prod. Stopped and removed at the session's end,
    whatever the tests did."""
    from lanes.config.stackfile import load_stack
    from lanes.lab.apiserver_run import PROCESSES, lab_cluster
    from lanes.lab.clustertools import missing_tools
    from lanes.rules import checked_plan
    from tests.support.pulumi_run import ROOT

    missing = missing_tools(PROCESSES)
    if missing:  # never a skip: a tier that silently does not run checks nothing
        pytest.fail(f"{', '.join(missing)} not built: run `make cluster-tools`")
    plans = [checked_plan(load_stack(ROOT, stack)).plan for stack in ("dev", "prod")]
    with lab_cluster(plans, plans[1].cluster.service_cidr, "lanes-tests") as cluster:
        yield cluster
