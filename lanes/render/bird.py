"""BIRD 2 on an AZ router: the config that learns the AZ's pod blocks from Calico, and its scripts.

The router (the gateway host holding the AZ's traffic gateway address) runs Debian's ``bird2``
with the file this module renders as ``/etc/bird/bird.conf``:

- one passive BGP session per Kubernetes node of the AZ, at the node's traffic address (Calico's
  BIRD binds to it, ``bindMode: NodeIP``), from the router's traffic address: the nodes connect,
  the router never dials a node that is not up yet;
- import: only prefixes inside the AZ's pod pool, from the pool's length to /32 (Calico
  announces its /26 blocks and the /32 of an address borrowed from another node's block);
  anything else a node announces (another AZ's pool, a platform network, a default route) is
  refused, so a misconfigured or hostile node cannot steer the router;
- export: none, to the nodes (they route through Felix and their default route); the learnt
  blocks go to the kernel's main table, with the node as next hop on the traffic segment.

Every value in the file is an address, a prefix or an AS number from the plan (``BgpRouter``),
never free text. The apply script checks the file with ``bird -p -c`` before it replaces the
live one, then asks a running BIRD to reload (``birdc configure``) or starts the service.
"""

from __future__ import annotations

from shlex import quote

from netaddr import IPAddress

from lanes.model.cluster import BgpRouter

__all__ = [
    "BIRD_CONF",
    "STAGED_CONF",
    "neighbor_name",
    "render_bird",
    "render_bird_prepare",
    "render_bird_apply",
    "render_bird_delete",
]

BIRD_CONF = "/etc/bird/bird.conf"  # Debian's bird.service reads this file
STAGED_CONF = "/var/lib/lanes/bgp/bird.conf"  # where the copy lands; apply moves it in


def neighbor_name(address: IPAddress) -> str:
    """A BIRD protocol name for a node's session: ``node_100_65_0_21``."""
    return "node_" + str(address).replace(".", "_")


def _filter_name(router: BgpRouter) -> str:
    return "lanes_pods_" + router.az.replace("-", "_")


def render_bird(router: BgpRouter) -> str:
    """The router's whole ``bird.conf``."""
    pool, name = router.pool, _filter_name(router)
    lines = [
        f"# /etc/bird/bird.conf of {router.host}, router of {router.az}, written by lanes: edit the",
        "# stack config, not this file. Learns the AZ's pod blocks from its Kubernetes nodes",
        "# (Calico), accepts nothing outside the AZ's pod pool, announces nothing.",
        f"router id {router.address};",
        "",
        "protocol device {",
        "}",
        "",
        "# Learnt pod blocks go to the main table, next hop the announcing node.",
        "protocol kernel lanes_kernel {",
        "\tipv4 {",
        "\t\timport none;",
        "\t\texport where source = RTS_BGP;",
        "\t};",
        "}",
        "",
        f"# Only the {router.az} pool, from /{pool.prefixlen} (the pool) to /32 (borrowed addresses).",
        f"filter {name} {{",
        f"\tif net ~ [ {pool.cidr}{{{pool.prefixlen},32}} ] then accept;",
        "\treject;",
        "}",
        "",
        "template bgp lanes_node {",
        f"\tlocal {router.address} as {router.router_as};",
        "\tpassive on;",
        "\tipv4 {",
        f"\t\timport filter {name};",
        "\t\texport none;",
        "\t};",
        "}",
    ]
    for address in router.neighbors:
        lines += [
            "",
            f"protocol bgp {neighbor_name(address)} from lanes_node {{",
            f"\tneighbor {address} as {router.node_as};",
            "}",
        ]
    return "\n".join(lines) + "\n"


def render_bird_prepare(staged: str = STAGED_CONF) -> str:
    """The folder the staged copy lands in."""
    return f'#!/bin/sh\nset -eu\nstaged={quote(staged)}\nmkdir -p "${{staged%/*}}"\n'


def render_bird_apply(staged: str = STAGED_CONF, conf: str = BIRD_CONF) -> str:
    """Check the staged file, move it in when it differs, then reload or start BIRD."""
    return f"""#!/bin/sh
# lanes: BGP of the AZ router. The staged file is checked by BIRD itself before it is used.
set -eu
staged={quote(staged)}
conf={quote(conf)}
for tool in bird birdc cmp; do
	command -v "$tool" >/dev/null 2>&1 || {{ echo "lanes: $tool is not installed (bird2)" >&2; exit 1; }}
done
if ! bird -p -c "$staged"; then
	echo "lanes: bird rejects $staged; the running BGP config stays" >&2
	exit 1
fi
changed=0
if ! cmp -s "$staged" "$conf"; then
	mkdir -p "${{conf%/*}}"
	if [ -f "$conf" ] && [ ! -f "$conf.lanes-orig" ]; then cp -p "$conf" "$conf.lanes-orig"; fi
	cp "$staged" "$conf.lanes-new"
	mv "$conf.lanes-new" "$conf"
	changed=1
fi
if birdc show status >/dev/null 2>&1; then
	if [ "$changed" = 1 ]; then birdc configure; else echo unchanged; fi
else
	systemctl enable bird >/dev/null 2>&1 || true
	systemctl restart bird
fi
"""


def render_bird_delete(staged: str = STAGED_CONF, conf: str = BIRD_CONF) -> str:
    """Put the distribution's file back (or remove lanes'), reload BIRD, drop the staged copy."""
    return f"""#!/bin/sh
# lanes: remove the AZ router's BGP config; the file that was there before comes back.
set -eu
staged={quote(staged)}
conf={quote(conf)}
if [ -f "$conf.lanes-orig" ]; then mv "$conf.lanes-orig" "$conf"; else rm -f "$conf"; fi
rm -f "$staged"
if birdc show status >/dev/null 2>&1; then
	if [ -f "$conf" ]; then birdc configure; else systemctl stop bird; fi
fi
"""
