"""``lanes verify``'s pure part: what each host must carry, the collect script, the comparison.

The live side here is what ``ip -j``, ``sysctl``, ``sha256sum`` and ``nft -s list`` print, built
from the same model; the namespace lab (tests/lab/test_verify.py) shows the real tools' output.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from lanes.intents.gateway import content_hash
from lanes.remote.verify import (
    ABSENT,
    MARK,
    Drift,
    Live,
    Target,
    collect_script,
    compare,
    expected_targets,
    parse_live,
)
from lanes.remote.verify_run import RealHosts, VerifyError
from tests.gateway.support import plan_of


def targets(stack: str, **kw) -> dict[str, Target]:
    return {t.name: t for t in expected_targets(plan_of(stack), **kw)}


def _ip_rule(rule) -> dict:
    """A model rule as ``ip -j rule show`` prints it (a prefix as address and length)."""
    entry = {"priority": rule.priority, "table": "main" if rule.table == 254 else str(rule.table)}
    for key, value in (("src", rule.source), ("dst", rule.to)):
        if value is not None:
            address, _, length = value.partition("/")
            entry[key] = address
            if length and length != "32":
                entry[f"{key}len"] = int(length)
    return entry


def live_of(target: Target, **override: str) -> Live:
    """The output a host that carries exactly its config gives, sections overridable."""
    net = target.net
    links = [{"ifname": d, "flags": ["BROADCAST", "UP"]} for d in net.layer3()]
    links.append({"ifname": "vxlan.calico", "flags": ["UP"]})
    addresses = [
        {
            "ifname": d,
            "addr_info": [
                {"family": "inet", "local": a.address, "prefixlen": int(a.cidr.split("/")[1])}
                for a in net.addresses_of(d)
            ],
        }
        for d in net.layer3()
    ]
    # Not ours: another device's address, a kernel route, Calico's route on our device.
    addresses.append(
        {"ifname": "vxlan.calico", "addr_info": [{"local": "100.96.0.1", "prefixlen": 32}]}
    )
    routes = []
    for r in net.routes:
        route = {"dst": r.to, "dev": r.device, "protocol": "static"}
        route |= {"gateway": r.via} if r.via else {}
        route |= {"prefsrc": r.source} if r.source else {}
        route |= {"table": str(r.table)} if r.table != 254 else {}
        routes.append(route)
    routes.append(
        {
            "dst": "100.96.0.0/26",
            "gateway": "100.64.32.9",
            "dev": net.layer3()[0],
            "protocol": "bird",
        }
    )
    routes.append(
        {"dst": "127.0.0.0/8", "dev": "lo", "table": "local", "type": "local", "protocol": "kernel"}
    )
    rules = [{"priority": 0, "src": "all", "table": "local"}]
    rules += [_ip_rule(r) for r in net.rules]
    rules.append({"priority": 32766, "src": "all", "table": "main"})
    files = [f"{content_hash(c) if c is not None else ABSENT} {p}" for p, c in target.files]
    sections = {
        "links": json.dumps(links),
        "addresses": json.dumps(addresses),
        "routes": json.dumps(routes),
        "rules": json.dumps(rules),
        "sysctls": "\n".join(f"{k}={v}" for k, v in target.sysctls),
        "files": "\n".join(files),
    }
    for g in target.gateways:
        listing = f"table ip {g.model.table} {{\n\tchain forward {{\n\t\tct state established accept\n\t}}\n}}"
        sections[f"nft-live {g.model.table}"] = listing
        sections[f"nft-rendered {g.model.table}"] = listing
        running = g.nginx_conf is not None
        loaded = content_hash(g.nginx_conf) if running else ABSENT
        sections[f"nginx {g.model.table}"] = f"{'running' if running else 'stopped'}\n{loaded}"
    sections.update(override)
    return parse_live("".join(f"{MARK}{k}\n{v}\n" for k, v in sections.items()))


def test_every_host_of_the_az_is_a_target_with_its_rendered_files():
    dev = targets("dev")
    assert list(dev) == ["router", "master-1", "worker-1", "jump", "lb"]
    assert [p for p, _ in dev["lb"].files] == [
        "/etc/netplan/60-lanes.yaml",
        "/etc/sysctl.d/60-lanes.conf",
    ]
    assert "/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf" in dict(
        dev["master-1"].files
    )
    (gateway,) = dev["router"].gateways
    assert gateway.model.name == "lab-router" and gateway.nginx_conf is None
    files = dict(dev["router"].files)
    assert files["/etc/lanes/gateway/lanes.nft"] == gateway.ruleset
    assert files["/etc/lanes/gateway/nginx.conf"] is None  # no proxies: lanes has no nginx
    assert ("net.ipv4.ip_forward", "1") in dev["router"].sysctls
    lab = targets("dev", root_of=lambda name: f"/run/lab/{name}")
    assert "/run/lab/router/etc/lanes/gateway/lanes.nft" in dict(lab["router"].files)
    sso = targets("prod")["sso-gw"].gateways[0]
    assert sso.nginx_conf is not None and "proxy_bind 10.0.0.3" in sso.nginx_conf


def test_a_host_that_carries_its_config_has_no_drift():
    for stack in ("dev", "prod"):
        for target in targets(stack).values():
            assert compare(target, live_of(target)) == [], (stack, target.name)


def test_each_kind_of_drift_names_the_host_and_the_item():
    master = targets("dev")["master-1"]
    live = json.loads(live_of(master).sections["addresses"])
    live[2]["addr_info"] = []  # eth2 (storage) lost its address
    live[0]["addr_info"].append({"family": "inet", "local": "100.64.0.99", "prefixlen": 21})
    rules = json.loads(live_of(master).sections["rules"])
    rules.append({"priority": 1103, "src": "10.9.9.9", "table": "103"})
    sysctls = (
        live_of(master)
        .sections["sysctls"]
        .replace("net.ipv4.conf.eth2.rp_filter=1", "net.ipv4.conf.eth2.rp_filter=2")
    )
    links = json.loads(live_of(master).sections["links"])
    links[1]["flags"] = ["BROADCAST"]
    drifted = live_of(
        master,
        addresses=json.dumps(live),
        rules=json.dumps(rules),
        sysctls=sysctls,
        links=json.dumps(links),
    )
    assert [str(d) for d in compare(master, drifted)] == [
        "master-1: link eth1: down",
        "master-1: address 100.64.64.2/21 on eth2: missing",
        "master-1: address 100.64.0.99/21 on eth0: not in the config",
        "master-1: rule from 10.9.9.9 table 103 priority 1103: not in the config",
        "master-1: sysctl net.ipv4.conf.eth2.rp_filter: 2, config says 1",
    ]


def test_routes_compare_lanes_tables_whole_and_the_main_table_on_our_devices():
    master = targets("dev")["master-1"]
    routes = json.loads(live_of(master).sections["routes"])
    table_103 = [r for r in routes if r.get("table") == "103"]
    routes.remove(table_103[0])
    routes.append({"dst": "10.1.0.0/16", "dev": "eth0", "protocol": "boot"})  # someone's `ip r add`
    routes.append({"dst": "10.2.0.0/16", "dev": "eth0", "protocol": "dhcp"})  # not a config's
    routes.append({"dst": "10.3.0.0/16", "dev": "eth1", "table": "104", "protocol": "bird"})
    assert [str(d) for d in compare(master, live_of(master, routes=json.dumps(routes)))] == [
        "master-1: route 100.64.64.0/21 dev eth2 src 100.64.64.2 table 103: missing",
        "master-1: route 10.1.0.0/16 dev eth0: not in the config",
        "master-1: route 10.3.0.0/16 dev eth1 table 104: not in the config",
    ]


def test_files_are_compared_by_content_and_by_absence():
    router = targets("dev")["router"]
    files = live_of(router).sections["files"].splitlines()
    files[0] = f"{'0' * 64} {files[0].split(' ', 1)[1]}"
    files[1] = f"{ABSENT} {files[1].split(' ', 1)[1]}"
    files[-2] = f"{'1' * 64} /etc/lanes/gateway/nginx.conf"
    assert [str(d) for d in compare(router, live_of(router, files="\n".join(files)))] == [
        "router: file /etc/netplan/60-lanes.yaml: differs from the rendered file",
        "router: file /etc/sysctl.d/60-lanes.conf: missing",
        "router: file /etc/lanes/gateway/nginx.conf: present, config has none",
    ]


def test_the_nft_table_drift_says_which_line_and_which_chain():
    router = targets("dev")["router"]
    rendered = live_of(router).sections["nft-rendered lanes"]
    live = rendered.replace("ct state established accept", "tcp dport 9999 accept")
    got = compare(router, live_of(router, **{"nft-live lanes": live}))
    assert [str(d) for d in got] == [
        "router: nft table ip lanes: missing (chain forward): ct state established accept",
        "router: nft table ip lanes: not in the config (chain forward): tcp dport 9999 accept",
    ]
    gone = compare(router, live_of(router, **{"nft-live lanes": ABSENT}))
    assert gone == [Drift("router", "nft table ip lanes", "missing")]
    rejected = compare(router, live_of(router, **{"nft-rendered lanes": "Error: x\n!rejected"}))
    assert [d.message for d in rejected] == ["this host's nft rejects the rendered ruleset"]


def test_the_lanes_nginx_runs_with_the_rendered_config_only_where_there_are_proxies():
    sso = targets("prod")["sso-gw"]
    table = sso.gateways[0].model.table
    stopped = compare(sso, live_of(sso, **{f"nginx {table}": f"stopped\n{ABSENT}"}))
    assert [str(d) for d in stopped] == ["sso-gw: nginx: not running"]
    stale = compare(sso, live_of(sso, **{f"nginx {table}": f"running\n{'2' * 64}"}))
    assert [d.message for d in stale] == ["last loaded another config than the rendered one"]
    edge = targets("prod")["edge-1"]
    table = edge.gateways[0].model.table
    running = compare(edge, live_of(edge, **{f"nginx {table}": f"running\n{ABSENT}"}))
    assert [str(d) for d in running] == ["edge-1: nginx: running, config has no proxies"]


def test_the_collect_script_is_posix_sh_read_only_and_refuses_unsafe_values(tmp_path: Path):
    router = targets("dev")["router"]
    script = collect_script(router)
    assert script == collect_script(targets("dev")["router"])  # byte-identical
    (tmp_path / "collect.sh").write_text(script)
    assert subprocess.run(["dash", "-n", str(tmp_path / "collect.sh")]).returncode == 0
    for verb in (" add ", " del ", " replace ", " flush ", "rm ", " -w ", "> "):
        assert verb not in script.replace("2>", ""), verb
    # The rendered ruleset travels in a quoted here-document, loaded away from the live one.
    assert "unshare -n sh -c 'nft -f - && nft -s list table ip lanes'" in script
    assert router.gateways[0].ruleset in script
    bad_key = dataclasses.replace(router, sysctls=(("net.ipv4.conf.eth0;reboot.x", "1"),))
    with pytest.raises(ValueError, match="sysctl: 'net.ipv4.conf.eth0;reboot.x' is not allowed"):
        collect_script(bad_key)
    bad_path = dataclasses.replace(router, files=(("/etc/$(reboot)", ""),))
    with pytest.raises(ValueError, match=r"file: '/etc/\$\(reboot\)' is not allowed"):
        collect_script(bad_path)


def test_output_that_is_not_a_collect_output_is_refused():
    with pytest.raises(ValueError, match="lacks section\\(s\\) addresses, files, links"):
        parse_live(f"{MARK}routes\n[]\n{MARK}rules\n[]\n{MARK}sysctls\n")


def test_real_hosts_are_reached_as_the_stack_says_with_pinned_keys(tmp_path: Path):
    key = tmp_path / "id"
    key.write_text("not read until ssh runs\n")
    with RealHosts(plan_of("dev"), key) as hosts:
        jump = hosts.session("jump")
        master = hosts.session("master-1")
        assert jump.proxy is None and jump.target.host == "192.168.0.52"
        assert master.proxy == hosts.jump and master.target.host == "100.64.0.2"
        assert master.target.key_path == key and master.target.user == "root"
        pinned = master.known_hosts.read_text().splitlines()
        assert pinned[0].startswith("100.64.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUN0Ze")
        assert pinned[1].startswith("192.168.0.52 ssh-ed25519 ")
        state = hosts.origin.scratch_dir
    assert not state.exists()  # the known_hosts files go with the run

    with pytest.raises(VerifyError, match="--identity: .*/nope is not a file"):
        RealHosts(plan_of("dev"), tmp_path / "nope")
