"""Tests of the namespace lab: L2 segments, sshd, pinned SSH/SFTP, jump host, teardown."""

import subprocess
import sys
from dataclasses import replace

import pytest

from lanes.lab.netns import (
    STATE_ROOT,
    LabError,
    NetLab,
    SshClient,
    cleanup_stale,
    list_resources,
)
from lanes.lab.procs import alive

pytestmark = pytest.mark.netns  # needs root; the netlab fixture fails (never skips) without it


def root_links() -> str:
    return subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout


def serve_http(host, address: str, port: int = 8080):
    proc = host.spawn([sys.executable, "-m", "http.server", "--bind", address, str(port)])
    host.tcp_wait(address, port)
    return proc


@pytest.fixture
def pair(netlab):
    """A client and a server with sshd on one segment."""
    seg = netlab.segment("mgmt")
    client = netlab.host("client")
    server = netlab.host("server")
    netlab.link(client, seg, "eth0", ["100.64.0.2/21"])
    netlab.link(server, seg, "eno1", ["100.64.0.3/21"])
    return client, server, server.start_sshd()


def test_hosts_on_one_segment_reach_each_other_and_not_another(netlab):
    before = root_links()
    seg_a, seg_b = netlab.segment("a"), netlab.segment("b")
    one, two, other = netlab.host("one"), netlab.host("two"), netlab.host("other")
    netlab.link(one, seg_a, "eth0", ["100.64.0.2/21"], mtu=9000)
    netlab.link(two, seg_a, "eth0", ["100.64.0.3/21"])
    # Same subnet, other segment: only the bridge separates it.
    netlab.link(other, seg_b, "eth0", ["100.64.0.4/21"])
    serve_http(two, "100.64.0.3")

    assert one.tcp_connects("100.64.0.3", 8080)
    assert not other.tcp_connects("100.64.0.3", 8080, timeout=0.5)
    assert "mtu 9000" in one.run(["ip", "-o", "link", "show", "eth0"]).stdout
    assert root_links() == before


def test_ssh_run_reports_output_exit_code_and_stdin(pair):
    client, _, endpoint = pair
    ssh = SshClient(endpoint, client)

    hi = ssh.run("echo hi; id -u")
    assert (hi.exit_code, hi.stdout) == (0, "hi\n0\n")
    assert ssh.run("echo oops >&2; exit 3") == type(hi)(3, "", "oops\n")
    assert ssh.run("cat; echo done", stdin="payload\n").stdout == "payload\ndone\n"
    # The string reaches the remote shell as one command line, expansions and pipes included.
    assert ssh.run("echo $((6*7)) | tr 4 x").stdout == "x2\n"
    with pytest.raises(LabError, match="exit 3"):
        ssh.run("exit 3", check=True)


def test_ssh_runs_inside_the_target_namespace(pair):
    client, _, endpoint = pair
    out = SshClient(endpoint, client).run("ip -o -4 addr show eno1").stdout
    assert "100.64.0.3/21" in out


def test_copy_lands_exact_bytes_with_mode(pair, netlab):
    client, server, endpoint = pair
    remote = netlab.state_dir / "remote" / "blob.bin"
    remote.parent.mkdir()
    content = bytes(range(256)) * 4 + b"\r\n\x00end"

    SshClient(endpoint, client).copy(content, str(remote), mode=0o640)

    assert remote.read_bytes() == content
    assert remote.stat().st_mode & 0o777 == 0o640
    with pytest.raises(LabError, match="sftp"):
        SshClient(endpoint, client).copy("x", str(netlab.state_dir / "missing" / "f"))


def test_pinned_host_key_is_checked(pair, netlab):
    client, _, endpoint = pair
    decoy = netlab.host("decoy")
    netlab.link(decoy, netlab.segments["mgmt"], "eth0", ["100.64.0.9/21"])
    other_key = decoy.start_sshd().host_key
    assert other_key != endpoint.host_key

    refused = SshClient(replace(endpoint, host_key=other_key), client).run("echo hi")

    assert refused.exit_code == 255
    assert "Host key verification failed" in refused.stderr
    assert refused.stdout == ""
    assert SshClient(endpoint, client).run("echo hi").stdout == "hi\n"


def test_ssh_through_a_jump_host_with_both_keys_pinned(netlab):
    outer, inner = netlab.segment("outer"), netlab.segment("inner")
    client, jump, target = netlab.host("client"), netlab.host("jump"), netlab.host("target")
    netlab.link(client, outer, "eth0", ["100.64.0.2/24"])
    netlab.link(jump, outer, "eth0", ["100.64.0.1/24"])
    netlab.link(jump, inner, "eth1", ["100.64.8.1/24"])
    netlab.link(target, inner, "eth0", ["100.64.8.2/24"])
    jump.enable_forwarding()
    jump_ep = jump.start_sshd(listen=["100.64.0.1"])
    target_ep = target.start_sshd()
    assert not client.tcp_connects("100.64.8.2", 22, timeout=0.3)

    via = SshClient(target_ep, client, proxy=jump_ep)
    result = via.run("ip -o -4 addr show eth0 | grep -o '100.64.8.2/24'")
    assert (result.exit_code, result.stdout) == (0, "100.64.8.2/24\n")
    remote = netlab.state_dir / "via-jump.txt"
    via.copy("through the jump\n", str(remote))
    assert remote.read_text() == "through the jump\n"

    wrong_jump = replace(jump_ep, host_key=target_ep.host_key)
    refused = SshClient(target_ep, client, proxy=wrong_jump).run("true")
    assert refused.exit_code == 255
    assert "Host key verification failed" in refused.stderr


def build_lab(lab: NetLab) -> list[int]:
    seg = lab.segment("s")
    a, b = lab.host("a"), lab.host("b")
    lab.link(a, seg, "eth0", ["100.64.0.2/24"])
    lab.link(b, seg, "eth0", ["100.64.0.3/24"])
    endpoint = b.start_sshd()
    server = serve_http(a, "100.64.0.2")
    sshd_pid = int((lab.state_dir / "hosts" / "b" / "sshd.pid").read_text())
    assert SshClient(endpoint, a).run("true").exit_code == 0
    pids = list_resources(lab.prefix).pids
    assert {server.pid, sshd_pid} <= set(pids)
    return pids


def assert_gone(prefix: str, pids: list[int], before: str) -> None:
    assert list_resources(prefix).empty()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert prefix not in names
    assert [p for p in pids if alive(p)] == []
    assert not (STATE_ROOT / prefix).exists()
    assert root_links() == before


def test_close_after_exception_leaves_nothing():
    before = root_links()
    with pytest.raises(RuntimeError, match="boom"):
        with NetLab() as lab:
            prefix = lab.prefix
            pids = build_lab(lab)
            assert root_links() == before
            assert len(list_resources(prefix).namespaces) == 3
            raise RuntimeError("boom")
    assert_gone(prefix, pids, before)
    lab.close()  # idempotent


def test_close_after_partial_setup_failure_leaves_nothing():
    before = root_links()
    lab = NetLab()
    try:
        host = lab.host("a")
        seg = lab.segment("s")
        lab.link(host, seg, "eth0")
        with pytest.raises(LabError, match="eth0"):
            lab.link(host, seg, "eth0")
    finally:
        lab.close()
    assert_gone(lab.prefix, [], before)


def test_cleanup_stale_finds_a_forgotten_lab():
    before = root_links()
    lab = NetLab()
    pids = build_lab(lab)
    found = cleanup_stale(lab.prefix)
    assert len(found.namespaces) == 3
    assert set(pids) <= set(found.pids)
    assert_gone(lab.prefix, pids, before)
    lab.close()


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("host", "Bad;name"), "host name"),
        (("host", "sw"), "taken"),
        (("segment", "a b"), "segment name"),
    ],
)
def test_names_are_validated(netlab, args, what):
    method, name = args
    with pytest.raises((ValueError, LabError), match=what):
        getattr(netlab, method)(name)


def test_long_ifname_is_rejected(netlab):
    with pytest.raises(ValueError, match="ifname"):
        netlab.link(netlab.host("a"), netlab.segment("s"), "a-very-long-ifname")
