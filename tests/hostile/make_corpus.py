"""Write the hostile corpus: one stack file per case under corpus/, and manifest.json.

Run from the repository root: ``.venv/bin/python -m tests.hostile.make_corpus``. Each case
takes a committed stack (dev or prod), breaks it the way a careless or hostile author would,
and says what ``lanes plan`` must answer: the exit code and a fragment of the config path the
message must name. Secret-looking values carry MARKER, which must appear in no output.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.mutate import DELETE, changed
from tests.support.pulumi_run import stack_values

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
MARKER = "LANES-SECRET-MARKER-5f1c"
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    f"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ{MARKER}AAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
# A token-sized secret (a bearer token, an API key): long enough that no message may show it.
TOKEN = f"ghp_{MARKER}0123456789abcdef"
KUBECONFIG = f"apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: {MARKER}\n"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOUN0ZeQvp2sEMiEDtgA0uvVhf+Ejd1SjW2KeoQWgXmH"
# vpc-1-nat consuming vpc-2-web on the management network too (tests/lab/test_exposure_consumers).
CONSUME_ON_MANAGEMENT = {
    "name": "vpc-2-web",
    "network": "management",
    "at": "100.64.0.201",
    "target": "100.127.0.202",
    "port": 80,
}
# A well-formed ssh-rsa blob header behind an ed25519 label: the types disagree.
MISLABELLED = "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"


@dataclass
class Case:
    slug: str
    stack: str
    exit: int
    path: str  # a fragment the message names (a config path, or the file)
    sets: list[tuple[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # raw keys added under config:
    raw: Callable[[str], str | bytes] | None = None


def s(slug, stack, code, path, *sets, extra=None, raw=None) -> Case:
    return Case(slug, stack, code, path, list(sets), extra or {}, raw)


CASES: list[Case] = [
    # --- secrets typed where they do not belong: refused by key name, never echoed
    s("secret-lowercase-key", "dev", 2, "sshprivatekey", extra={"lanes:sshprivatekey": PRIVATE_KEY}),
    s("secret-snake-key", "dev", 2, "ssh_private_key", extra={"lanes:ssh_private_key": PRIVATE_KEY}),
    s("secret-kubeconfig-case", "prod", 2, "kubeConfig", extra={"lanes:kubeConfig": KUBECONFIG}),
    s("secret-kube-config", "prod", 2, "kube_config", extra={"lanes:kube_config": KUBECONFIG}),
    s("secret-under-ssh", "dev", 2, "ssh.private_key", ("ssh.private_key", PRIVATE_KEY)),
    s("secret-under-jump", "dev", 2, "ssh.jump.private_key", ("ssh.jump.private_key", PRIVATE_KEY)),
    s("secret-under-host-ssh", "dev", 2, "hosts[0].ssh.key", ("hosts[0].ssh.key", PRIVATE_KEY)),
    s("password-on-host", "dev", 2, "hosts[1].password", ("hosts[1].password", TOKEN)),
    s("kubeconfig-in-cluster", "prod", 2, "cluster.kubeconfig", ("cluster.kubeconfig", KUBECONFIG)),
    s("key-as-region", "dev", 2, "region", ("region", PRIVATE_KEY)),
    s("key-as-environment", "dev", 2, "environment", ("environment", TOKEN)),
    s("key-as-host-name", "prod", 2, "hosts[3].name", ("hosts[3].name", PRIVATE_KEY)),
    s("key-as-outside-name", "prod", 2, "outside[0].name", ("outside[0].name", TOKEN)),
    s("key-as-gateway-name", "dev", 2, "gateways[0].name", ("gateways[0].name", KUBECONFIG)),
    s("key-as-address", "dev", 2, "hosts[1].ssh.address", ("hosts[1].ssh.address", PRIVATE_KEY)),
    s("key-as-cidr", "prod", 2, "networks.traffic.cidr", ("networks.traffic.cidr", PRIVATE_KEY)),
    s("key-as-host-key", "dev", 2, "hosts[0].ssh.host_key", ("hosts[0].ssh.host_key", PRIVATE_KEY)),
    s("key-as-label", "prod", 2, "hosts[5].labels", ("hosts[5].labels", {"token": PRIVATE_KEY})),
    # --- host keys: one OpenSSH key, pinned, or refused
    s("jump-key-newline-wildcard", "dev", 2, "ssh.jump.host_key",
      ("ssh.jump.host_key", f"{ED25519}\n* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttacker")),
    s("jump-key-comment", "dev", 2, "ssh.jump.host_key", ("ssh.jump.host_key", f"{ED25519} root@evil")),
    s("jump-key-dss", "dev", 2, "ssh.jump.host_key", ("ssh.jump.host_key", "ssh-dss AAAAB3NzaC1kc3MAAACBAP")),
    s("jump-key-marker-prefix", "dev", 2, "ssh.jump.host_key", ("ssh.jump.host_key", f"@cert-authority * {ED25519}")),
    s("host-key-two-spaces", "dev", 2, "hosts[0].ssh.host_key", ("hosts[0].ssh.host_key", ED25519.replace(" ", "  "))),
    s("host-key-trailing-newline", "dev", 2, "hosts[0].ssh.host_key", ("hosts[0].ssh.host_key", ED25519 + "\n")),
    s("host-key-bad-base64", "dev", 2, "hosts[0].ssh.host_key", ("hosts[0].ssh.host_key", "ssh-ed25519 AAAA!!!!")),
    s("host-key-wrong-blob", "dev", 2, "hosts[0].ssh.host_key", ("hosts[0].ssh.host_key", MISLABELLED)),
    s("host-key-type-only", "dev", 2, "hosts[0].ssh.host_key", ("hosts[0].ssh.host_key", "ssh-ed25519")),
    s("host-key-empty", "dev", 2, "hosts[0].ssh.host_key", ("hosts[0].ssh.host_key", "")),
    s("host-key-leading-space", "dev", 2, "hosts[3].ssh.host_key", ("hosts[3].ssh.host_key", " " + ED25519)),
    s("host-key-missing", "dev", 1, "hosts[3].ssh.host_key", ("hosts[3].ssh.host_key", DELETE)),
    s("jump-key-missing", "dev", 1, "ssh.jump.host_key", ("ssh.jump.host_key", DELETE)),
    # --- addresses and prefixes: parsed to the end, never guessed
    s("address-trailing-newline", "dev", 2, "hosts[1].ssh.address", ("hosts[1].ssh.address", "192.168.0.52\n")),
    s("address-leading-space", "dev", 2, "hosts[1].ssh.address", ("hosts[1].ssh.address", " 192.168.0.52")),
    s("address-ipv6", "dev", 2, "hosts[1].ssh.address", ("hosts[1].ssh.address", "fe80::1")),
    s("address-with-prefix", "dev", 2, "ssh.jump.address", ("ssh.jump.address", "192.168.0.52/32")),
    s("address-octet-256", "dev", 2, "ssh.jump.address", ("ssh.jump.address", "192.168.0.256")),
    s("address-leading-zero", "dev", 2, "ssh.jump.address", ("ssh.jump.address", "192.168.000.52")),
    s("address-shell", "dev", 2, "ssh.jump.address", ("ssh.jump.address", "192.168.0.52;reboot")),
    s("address-proxycommand", "dev", 2, "ssh.jump.address", ("ssh.jump.address", "-oProxyCommand=id")),
    s("address-hostname", "prod", 2, "gateways[1].proxies[0].upstream", ("gateways[1].proxies[0].upstream", "sso.example.com")),
    s("cidr-slash-33", "dev", 2, "networks.traffic.cidr", ("networks.traffic.cidr", "100.64.32.0/33")),
    s("cidr-no-prefix", "dev", 2, "networks.traffic.cidr", ("networks.traffic.cidr", "100.64.32.0")),
    s("cidr-newline", "dev", 2, "networks.storage.cidr", ("networks.storage.cidr", "100.64.64.0/21\n")),
    s("cidr-host-bits", "prod", 1, "networks.management.zones[1].reserved_blocks[0]",
      ("networks.management.zones[1].reserved_blocks[0]", "100.64.111.0/20")),
    s("outside-gateway-garbage", "prod", 2, "outside[0].gateway", ("outside[0].gateway", "gw")),
    s("mapping-outside-newline", "dev", 2, "gateways[0].mappings[0].outside",
      ("gateways[0].mappings[0].outside", "192.168.0.52\n")),
    # --- YAML itself
    s("yaml-duplicate-top-key", "dev", 2, "duplicate key",
      raw=lambda t: _must_replace(t, "  lanes:az: az-1\n", "  lanes:az: az-1\n  lanes:az: az-2\n")),
    s("yaml-duplicate-nested-key", "dev", 2, "duplicate key",
      raw=lambda t: _must_replace(t, "    number: 52\n", "    number: 52\n    number: 7\n")),
    s("yaml-alias-bomb", "dev", 2, "aliases", raw=lambda t: t + _alias_bomb()),
    s("yaml-recursive-alias", "dev", 2, "recursive", raw=lambda t: t + "  lanes:loop: &l [*l]\n"),
    s("yaml-deep-nesting", "dev", 2, "nested deeper", raw=lambda t: t + "  lanes:deep: " + "[" * 200 + "]" * 200 + "\n"),
    s("yaml-utf16", "dev", 2, "not UTF-8", raw=lambda t: t.encode("utf-16")),
    s("yaml-latin1", "dev", 2, "not UTF-8", raw=lambda t: _must_replace(t, "the lab host's", "le réseau").encode("latin-1")),
    s("yaml-nul-byte", "dev", 2, "not UTF-8", raw=lambda t: t.encode() + b"\x00"),
    s("yaml-config-is-list", "dev", 2, "config", raw=lambda t: "config:\n  - lanes:region: lab\n"),
    s("yaml-empty-file", "dev", 2, "config", raw=lambda t: ""),
    s("yaml-tab-indent", "dev", 2, "malformed YAML", raw=lambda t: _must_replace(t, "  lanes:az: az-1\n", "\tlanes:az: az-1\n")),
    s("yaml-unclosed-flow", "dev", 2, "malformed YAML",
      raw=lambda t: _must_replace(t, "  lanes:az: az-1\n", "  lanes:az: [az-1\n")),
    s("yaml-python-tag", "dev", 2, "malformed YAML",
      raw=lambda t: t + "  lanes:evil: !!python/object/apply:os.system ['id']\n"),
    s("yaml-binary-garbage", "dev", 2, "not UTF-8", raw=lambda t: bytes(range(256))),
    s("yaml-document-stream", "dev", 2, "malformed YAML", raw=lambda t: t + "---\nconfig: {}\n"),
    s("yaml-key-is-mapping", "dev", 2, "key", raw=lambda t: t + "  ? {a: 1}\n  : b\n"),
    # --- types: strict, bounded
    s("number-true", "dev", 2, "hosts[3].number", ("hosts[3].number", True)),
    s("number-string", "dev", 2, "hosts[3].number", ("hosts[3].number", "2")),
    s("number-float", "dev", 2, "hosts[3].number", ("hosts[3].number", 2.5)),
    s("number-negative", "dev", 2, "hosts[3].number", ("hosts[3].number", -1)),
    s("number-huge", "dev", 2, "hosts[3].number", ("hosts[3].number", 10**30)),
    s("number-beyond-block", "dev", 1, "hosts[3].number", ("hosts[3].number", 5000)),
    s("vlan-string", "dev", 2, "networks.traffic.vlan", ("networks.traffic.vlan", "20")),
    s("vlan-bool", "dev", 2, "networks.traffic.vlan", ("networks.traffic.vlan", True)),
    s("vlan-zero", "dev", 2, "networks.traffic.vlan", ("networks.traffic.vlan", 0)),
    s("vlan-4095", "prod", 2, "networks.storage.vlan", ("networks.storage.vlan", 4095)),
    s("mtu-huge", "prod", 2, "networks.storage.mtu", ("networks.storage.mtu", 100000)),
    s("port-zero", "prod", 2, "gateways[0].ingress[0].ports[0]", ("gateways[0].ingress[0].ports", [0])),
    s("port-too-big", "prod", 2, "gateways[1].proxies[0].port", ("gateways[1].proxies[0].port", 70000)),
    s("azs-string", "dev", 2, "azs", ("azs", "az-1")),
    s("hosts-mapping", "dev", 2, "hosts", ("hosts", {"router": {}})),
    s("nics-empty", "dev", 2, "hosts[3].nics", ("hosts[3].nics", [])),
    s("tagged-yes", "prod", 2, "hosts[5].nics[0].tagged", ("hosts[5].nics[0].tagged", "yes")),
    s("miimon-zero", "prod", 2, "hosts[5].nics[1].bond.miimon", ("hosts[5].nics[1].bond.miimon", 0)),
    s("role-unknown", "dev", 2, "hosts[3].role", ("hosts[3].role", "admin")),
    s("block-prefix-zero", "dev", 2, "networks.traffic.block_prefix", ("networks.traffic.block_prefix", 0)),
    # --- NICs
    s("nic-named-lo", "dev", 2, "hosts[3].nics[0].name", ("hosts[3].nics[0].name", "lo")),
    s("nic-named-all", "dev", 2, "hosts[3].nics[1].name", ("hosts[3].nics[1].name", "all")),
    s("nic-named-default", "dev", 2, "hosts[3].nics[2].name", ("hosts[3].nics[2].name", "default")),
    s("nic-name-shell", "dev", 2, "hosts[3].nics[0].name", ("hosts[3].nics[0].name", "eth0;reboot")),
    s("nic-name-too-long", "dev", 2, "hosts[3].nics[0].name", ("hosts[3].nics[0].name", "a" * 16)),
    s("nic-derived-clash", "prod", 1, "hosts[5].nics[2]",
      ("hosts[5].nics", [{"name": "eno1", "networks": ["management"]},
                         {"name": "ens1f0", "networks": ["traffic", "storage"]},
                         {"name": "ens1f0.200", "networks": ["adjacency"], "tagged": False}])),
    s("nic-mac-twice-on-host", "prod", 1, "hosts[5].nics[1].macaddress",
      ("hosts[5].nics[0].macaddress", "52:54:00:00:00:01"), ("hosts[5].nics[1].macaddress", "52:54:00:00:00:01")),
    s("nic-mac-twice-in-region", "prod", 1, "hosts[6].nics[0].macaddress",
      ("hosts[5].nics[0].macaddress", "52:54:00:00:00:02"), ("hosts[6].nics[0].macaddress", "52:54:00:00:00:02")),
    s("nic-mac-uppercase", "prod", 2, "hosts[5].nics[0].macaddress", ("hosts[5].nics[0].macaddress", "52:54:00:AA:00:01")),
    s("nic-same-name-twice", "dev", 1, "hosts[3].nics[1]", ("hosts[3].nics[1].name", "eth0")),
    s("bond-one-member", "prod", 1, "hosts[5].nics[1].bond.members", ("hosts[5].nics[1].bond.members", ["ens1f0"])),
    s("bond-primary-stranger", "prod", 1, "hosts[5].nics[1].bond.primary", ("hosts[5].nics[1].bond.primary", "ens9f9")),
    s("three-networks-one-nic", "dev", 1, "hosts[3].nics[0].networks",
      ("hosts[3].nics", [{"name": "eth0", "networks": ["management", "traffic", "storage"]}])),
    s("untagged-two-networks", "dev", 1, "hosts[3].nics[1].networks",
      ("hosts[3].nics[1].networks", ["traffic", "storage"]), ("hosts[3].nics[2]", DELETE)),
    s("nic-unknown-network", "dev", 1, "hosts[3].nics[2].networks[0]", ("hosts[3].nics[2].networks", ["backup"])),
    # --- hosts and zones
    s("host-in-reserved-zone", "prod", 1, "hosts[5].zones[0]", ("hosts[5].zones", ["reserved"])),
    s("host-in-unknown-zone", "prod", 1, "hosts[5].zones[0]", ("hosts[5].zones", ["nowhere"])),
    s("host-unknown-az", "dev", 1, "hosts[4].az", ("hosts[4].az", "az-2")),
    s("host-name-twice", "dev", 1, "hosts[4].name", ("hosts[4].name", "master-1")),
    s("host-number-twice", "dev", 1, "hosts[4].number", ("hosts[4].number", 2)),
    s("host-on-gateway-address", "dev", 1, "hosts[3].number", ("hosts[3].number", 1)),
    # --- gateways
    s("gateway-unknown-host", "dev", 1, "gateways[0].host", ("gateways[0].host", "nobody")),
    s("gateway-non-gateway-host", "dev", 1, "gateways[0].host", ("gateways[0].host", "jump")),
    s("gateway-twice-on-host", "prod", 1, "gateways[", ("gateways[1].host", "edge-1")),
    s("gateway-name-twice", "prod", 1, "gateways[1].name", ("gateways[1].name", "edge")),
    s("egress-unknown-network", "dev", 1, "gateways[0].egress[0].networks[0]", ("gateways[0].egress[0].networks", ["backup"])),
    s("egress-unknown-outside", "dev", 1, "gateways[0].egress[0].outside", ("gateways[0].egress[0].outside", "internet")),
    s("mapping-unknown-host", "dev", 1, "gateways[0].mappings[0].host", ("gateways[0].mappings[0].host", "nobody")),
    s("mapping-on-egress-address", "dev", 1, "gateways[0].mappings[0].outside",
      ("gateways[0].mappings[0].outside", "192.168.0.51")),
    s("mapping-not-owned", "dev", 1, "gateways[0].mappings[0].outside", ("gateways[0].mappings[0].outside", "192.168.0.99")),
    s("ingress-unknown-node", "prod", 1, "gateways[0].ingress[0].node", ("gateways[0].ingress[0].node", "ingress-9")),
    s("ingress-balancer-is-front", "prod", 1, "gateways[0].ingress[0].balancer",
      ("gateways[0].ingress[0].balancer", "10.0.1.2")),
    s("ingress-node-not-ingress", "prod", 1, "gateways[0].ingress[0].node", ("gateways[0].ingress[0].node", "worker-1")),
    s("consume-own-address", "prod", 1, "gateways[2].consume[0].target", ("gateways[2].consume[0].target", "100.127.0.201")),
    s("consume-own-listener", "prod", 1, "gateways[2].consume[0].target", ("gateways[2].consume[0].target", "192.168.0.200")),
    s("consume-unpublished-target", "prod", 1, "gateways[2].consume[0].target", ("gateways[2].consume[0].target", "100.127.0.99")),
    s("consume-outside-adjacency", "prod", 1, "gateways[2].consume[0].target", ("gateways[2].consume[0].target", "192.168.0.100")),
    s("consume-network-without-nic", "prod", 1, "gateways[2].consume[0].network", ("gateways[2].consume[0].network", "storage")),
    s("publish-unknown-network", "prod", 1, "gateways[3].publish[0].network", ("gateways[3].publish[0].network", "vpc-9")),
    s("proxy-listen-not-owned", "prod", 1, "gateways[1].proxies[0].listen", ("gateways[1].proxies[0].listen", "100.64.128.99")),
    s("two-listeners-one-port", "prod", 1, "gateways[0].ingress[1].front", ("gateways[0].ingress[1].front", "10.0.1.2")),
    # --- names that would reach a shell or a file name
    s("region-shell", "dev", 2, "region", ("region", "lab;reboot")),
    s("host-name-subshell", "dev", 2, "hosts[3].name", ("hosts[3].name", "$(id)")),
    s("az-with-space", "dev", 2, "az", ("az", "az 1")),
    s("zone-uppercase", "prod", 2, "networks.management.zones[0].name", ("networks.management.zones[0].name", "Cloud")),
    s("label-shell", "prod", 2, "hosts[5].labels", ("hosts[5].labels", {"team": "a`id`"})),
    s("tenant-system-namespace", "prod", 1, "cluster.tenants[0].name", ("cluster.tenants[0].name", "kube-system")),
    s("ssh-user-shell", "dev", 2, "ssh.user", ("ssh.user", "root;id")),
    # --- the cluster
    s("pods-in-ovn-join", "prod", 1, "cluster.pod_cidr", ("cluster.pod_cidr", "100.64.0.0/18")),
    s("services-in-pods", "prod", 1, "cluster.service_cidr", ("cluster.service_cidr", "100.96.0.0/16")),
    s("pools-too-few", "prod", 1, "cluster.pool_prefix", ("cluster.pool_prefix", 13)),
    s("calico-block-too-big", "prod", 2, "cluster.calico.block_size", ("cluster.calico.block_size", 19)),
    s("grant-traffic", "prod", 1, "cluster.tenants[0].egress[0].network", ("cluster.tenants[0].egress[0].network", "traffic")),
    s("tenant-twice", "prod", 1, "cluster.tenants[1].name", ("cluster.tenants[1].name", "shop")),
    s("region-az-unknown", "prod", 1, "cluster.region_az", ("cluster.region_az", "az-7")),
    # --- grants wider than what they name (issue 23): the consume at vpc-1-nat's management
    # address 100.64.0.201 is also where its host answers SSH
    s("grant-exposure-ssh-port", "prod", 1, "cluster.tenants[0].egress[2].ports[0]",
      ("gateways[2].consume[1]", CONSUME_ON_MANAGEMENT),
      ("cluster.tenants[0].egress[2]", {"exposure": "vpc-2-web", "ports": [22]})),
    s("grant-exposure-other-protocol", "prod", 1, "cluster.tenants[0].egress[2].protocol",
      ("gateways[2].consume[1]", CONSUME_ON_MANAGEMENT),
      ("cluster.tenants[0].egress[2]", {"exposure": "vpc-2-web", "protocol": "UDP"})),
    s("grant-protocol-icmp", "prod", 2, "cluster.tenants[0].egress[1].protocol",
      ("cluster.tenants[0].egress[1].protocol", "ICMP")),
    s("grant-protocol-lowercase", "prod", 2, "cluster.tenants[0].egress[1].protocol",
      ("cluster.tenants[0].egress[1].protocol", "udp")),
    # --- AS numbers an RFC keeps (issue 23)
    s("as-trans", "prod", 1, "cluster.calico.as_number", ("cluster.calico.as_number", 23456)),
    s("as-last-2-octet", "prod", 1, "cluster.calico.router_as_number",
      ("cluster.calico.router_as_number", 65535)),
    s("as-last-4-octet", "prod", 1, "cluster.calico.as_number", ("cluster.calico.as_number", 4294967295)),
    s("as-zero", "prod", 1, "cluster.calico.as_number", ("cluster.calico.as_number", 0)),
    s("as-documentation", "prod", 1, "cluster.calico.router_as_number",
      ("cluster.calico.router_as_number", 64500)),
    s("as-iana-reserved", "prod", 1, "cluster.calico.as_number", ("cluster.calico.as_number", 100000)),
    s("as-beyond-4-octets", "prod", 2, "cluster.calico.as_number", ("cluster.calico.as_number", 2**32)),
    s("as-string", "prod", 2, "cluster.calico.as_number", ("cluster.calico.as_number", "64512")),
    # --- an entry given twice: refused naming both, never deduplicated (issue 23)
    s("egress-network-twice", "prod", 1, "gateways[0].egress[0].networks[3]",
      ("gateways[0].egress[0].networks[3]", "management")),
    s("egress-network-in-two-entries", "prod", 1, "gateways[0].egress[1].networks[0]",
      ("gateways[0].egress[1]", {"networks": ["traffic"], "outside": "enterprise", "to": "10.0.1.3"})),
    s("hostname-twice", "prod", 1, "cluster.tenants[0].hostnames[2]",
      ("cluster.tenants[0].hostnames[2]", "shop.example.com")),
    s("grant-twice", "prod", 1, "cluster.tenants[0].egress[2]",
      ("cluster.tenants[0].egress[2]", {"network": "storage"})),
    s("grant-port-twice", "prod", 1, "cluster.tenants[0].egress[0].ports[1]",
      ("cluster.tenants[0].egress[0].ports[1]", 443)),
    s("ingress-port-twice", "prod", 1, "gateways[0].ingress[0].ports[2]",
      ("gateways[0].ingress[0].ports", [80, 443, 443])),
    s("host-zone-twice", "prod", 1, "hosts[0].zones[3]", ("hosts[0].zones[3]", "cloud-management")),
    s("host-outside-address-twice", "prod", 1, "hosts[0].outside.enterprise[5]",
      ("hosts[0].outside.enterprise[5]", "10.0.1.52")),
    s("outside-name-twice", "prod", 1, "outside[3].name",
      ("outside[3]", {"name": "vpc-2", "cidr": "192.168.0.0/24", "vlan": 603})),
    s("publish-name-twice", "prod", 1, "gateways[3].publish[1].name",
      ("gateways[3].publish[1]", {"name": "vpc-2-web", "network": "vpc-2", "address": "192.168.0.101",
                                  "port": 81, "at": "100.127.0.202"})),
    # --- keys the schema had: named with what replaced them, never with their value (issue 23)
    s("renamed-ingress-class", "prod", 2, "cluster.ingress_class: renamed to `gateway_class`",
      ("cluster.ingress_class", TOKEN)),
    s("retired-gateway-kind", "dev", 2, "gateways[0].kind: retired", ("gateways[0].kind", TOKEN)),
    # --- refused although right: provider keys and the project namespace are fine
    s("provider-kubernetes-context", "dev", 0, "", extra={"kubernetes:context": "admin@lab"}),
    s("provider-command-keys", "dev", 0, "", extra={"command:dialErrorLimit": 3}),
    s("pulumi-tags", "prod", 0, "", extra={"pulumi:tags": {"team": "platform"}}),
    s("unprefixed-key-is-the-project", "dev", 2, "given twice", extra={"region": "lab"}),
    s("description-multiline-ok", "prod", 0, "", ("outside[0].description", "line one\nline two\n")),
]


# --- matrix files for `lanes report --matrix` (issue 23): read as defensively as a stack file
def _flow(**changes: Any) -> dict[str, Any]:
    flow = {"kind": "lan", "source": "jump", "target": "master-1", "network": "management",
            "address": "100.64.0.2", "port": 22, "expect": "reach", "seen": None,
            "answer": "100.64.0.52", "ok": True}
    return {**flow, **changes}


def _matrix(*flows: dict[str, Any]) -> bytes:
    return json.dumps({"stack": "dev", "flows": list(flows)}).encode()


@dataclass
class MatrixCase:
    slug: str
    says: str  # a fragment of the one error line, after the file's name
    content: bytes


MATRIX_CASES: list[MatrixCase] = [
    MatrixCase("deep-arrays", "nested deeper than 64 levels",
               b'{"flows": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    MatrixCase("deep-objects", "nested deeper than 64 levels", b'{"a": ' * 65 + b"1" + b"}" * 65),
    MatrixCase("not-json", "not JSON", b"{flows: []}"),
    MatrixCase("utf16", "not UTF-8", _matrix(_flow()).decode().encode("utf-16")),
    MatrixCase("latin1", "not UTF-8 (byte",
               _matrix(_flow(source="dXploy")).replace(b"dXploy", "déploy".encode("latin-1"))),
    MatrixCase("empty", "not JSON", b""),
    MatrixCase("flows-mapping", "expected an object with a flows list", b'{"flows": {}}'),
    MatrixCase("port-string", "flows[0].port: '22' is not an integer", _matrix(_flow(port="22"))),
    MatrixCase("port-bool", "flows[0].port: True is not an integer", _matrix(_flow(port=True))),
    MatrixCase("port-nan", "flows[0].port: nan is not an integer",
               _matrix(_flow()).replace(b'"port": 22', b'"port": NaN')),
    MatrixCase("key-as-port", "flows[0].port: a multi-line value is not an integer",
               _matrix(_flow(port=PRIVATE_KEY), _flow())),
    MatrixCase("token-as-expect", f"flows[0].expect: a {len(TOKEN)}-character value is not reach or blocked",
               _matrix(_flow(expect=TOKEN))),
]


def _must_replace(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} is not in the stack file"
    return text.replace(old, new, 1)


def _alias_bomb() -> str:
    lines = ['  lanes:bomb:\n    a: &a ["x","x","x","x","x","x","x","x","x"]\n']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"    {cur}: &{cur} [{','.join(['*' + prev] * 9)}]\n")
    return "".join(lines)


def render(case: Case) -> bytes:
    values = copy.deepcopy(stack_values(case.stack))
    for path, value in case.sets:
        values = changed(values, path, value)
    config = {f"lanes:{k}": v for k, v in values.items()}
    config.update(case.extra)
    text = f"# hostile case {case.slug}: expect exit {case.exit} naming {case.path!r}\n"
    text += yaml.safe_dump({"config": config}, sort_keys=False, allow_unicode=True, width=1000)
    out = case.raw(text) if case.raw else text
    return out if isinstance(out, bytes) else out.encode()


def main() -> None:
    slugs = [c.slug for c in CASES]
    assert len(slugs) == len(set(slugs)), "slugs must be unique"
    shutil.rmtree(CORPUS, ignore_errors=True)
    CORPUS.mkdir()
    manifest = []
    for i, case in enumerate(CASES, 1):
        name = f"{i:03d}-{case.slug}.yaml"
        (CORPUS / name).write_bytes(render(case))
        manifest.append({"file": name, "exit": case.exit, "path": case.path})
    (CORPUS / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    matrices = []
    for i, matrix in enumerate(MATRIX_CASES, 1):
        name = f"matrix-{i:02d}-{matrix.slug}.json"
        (CORPUS / name).write_bytes(matrix.content)
        matrices.append({"file": name, "says": matrix.says})
    (CORPUS / "matrices.json").write_text(json.dumps(matrices, indent=1) + "\n")
    print(f"wrote {len(CASES)} stack files and {len(MATRIX_CASES)} matrix files to {CORPUS}")


if __name__ == "__main__":
    main()
