"""Applying over SSH as the Command does: idempotent, atomic, other tables left alone."""

import dataclasses

import pytest
from netaddr import IPAddress

from lanes.render.scripts import sh_command
from tests.gateway.support import Gateway, models_of, node, plan_of, wire_gateway

pytestmark = pytest.mark.netns

# Stands in for kube-proxy's table: lanes must never touch it.
OTHER = """table ip kube-proxy-standin {
	chain postrouting {
		type nat hook postrouting priority srcnat + 10; policy accept;
		ip saddr 10.244.0.0/16 masquerade
	}
}
"""


@pytest.fixture
def router(netlab):
    plan = plan_of("dev")
    model = models_of(plan)["lab-router"]
    segs = {n: netlab.segment(n) for n in ("enterprise", "management", "traffic", "storage")}
    ns = wire_gateway(netlab, plan, model, segs)
    ops = node(netlab, "ops", segs["management"], "100.64.0.10/21")
    return Gateway(netlab, ns, model, ops, "100.64.0.1")


def other_table(gateway: Gateway) -> str:
    return gateway.ns.run(["nft", "list", "table", "ip", "kube-proxy-standin"]).stdout


def test_reapplying_unchanged_changes_nothing_and_leaves_other_tables(router):
    first = router.apply()
    assert "loaded table ip lanes" in first.stdout
    router.ns.run(["nft", "-f", "-"], input=OTHER)  # created after ours: listed after it
    before, other = router.ruleset(), other_table(router)
    assert "table ip lanes" in before and "kube-proxy-standin" in before

    again = router.apply()

    assert "up to date" in again.stdout
    assert router.ruleset() == before
    # A changed config replaces our table only.
    extra = dataclasses.replace(
        router.model.mappings[0], outside=IPAddress("192.168.0.60"), inside=IPAddress("100.64.0.60")
    )
    changed = dataclasses.replace(router.model, mappings=(*router.model.mappings, extra))
    assert "loaded table ip lanes" in router.apply(changed).stdout
    assert "192.168.0.60" in router.ruleset()
    assert other_table(router) == other


def test_a_ruleset_the_kernel_rejects_leaves_the_previous_one(router):
    router.apply()
    router.ns.run(["nft", "-f", "-"], input=OTHER)
    before = router.ruleset()
    files = router.files()
    # Parses, but the kernel refuses a map key given twice with two values (EEXIST).
    bad = files.ruleset.replace(
        '"eth0" . 192.168.0.52 : 100.64.0.52,',
        '"eth0" . 192.168.0.52 : 100.64.0.52,\n\t\t\t"eth0" . 192.168.0.52 : 100.64.0.99,',
    )
    assert bad != files.ruleset
    router.ssh.copy(bad, router.paths.ruleset)

    result = router.ssh.run(sh_command(files.apply))

    assert result.exit_code != 0
    assert "the kernel rejects" in result.stderr and "File exists" in result.stderr
    assert router.ruleset() == before


def test_delete_removes_the_lanes_table_and_files_only(router, netlab):
    router.apply()
    router.ns.run(["nft", "-f", "-"], input=OTHER)
    other = other_table(router)

    result = router.delete()

    assert result.exit_code == 0, result.stderr
    assert "table ip lanes" not in router.ruleset()
    assert other_table(router) == other
    # Nothing of lanes' is left on the host: its own /etc and /var/lib hold no lanes file.
    left = router.ns.run(
        [
            "sh",
            "-c",
            "find /etc/lanes /var/lib/lanes /etc/sysctl.d/61-lanes-gateway.conf -type f 2>/dev/null || true",
        ]
    )
    assert left.stdout == ""
    # Forwarding is left as it was: other things on the host may route too.
    assert router.ns.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "1"
    assert router.delete().exit_code == 0  # again: nothing left to remove, no error


def test_apply_turns_forwarding_on_and_persists_it(router, netlab):
    router.ns.sysctl("net.ipv4.ip_forward", 0)
    router.apply()
    assert router.ns.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "1"
    conf = router.ns.read_file("/etc/sysctl.d/61-lanes-gateway.conf")
    assert conf == "net.ipv4.ip_forward = 1\n"
