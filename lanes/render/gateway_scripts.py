"""POSIX sh scripts that apply and delete one gateway's ruleset and proxies, run over SSH as root.

apply: forwarding on (now and at boot), the ruleset checked by the kernel (``nft -c``) and then
loaded in one transaction, so a rejected file leaves the previous ruleset; the lanes nginx
started or reloaded. Running it again with unchanged files changes nothing, not even the order
of ``nft list ruleset``. delete: removes the lanes table, stops the lanes nginx and removes the
files lanes wrote; other tables, the host's nginx and the forwarding setting are left alone.
Every value is shell-quoted where it is assigned and used only as ``"$var"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from shlex import quote

from lanes.gateway import GatewayModel, GatewayPaths, content_hash
from lanes.render.nftables import FAMILY, render_ruleset
from lanes.render.nginx import NginxSettings, render_nginx

__all__ = ["GatewayFiles", "render_prepare", "render_apply", "render_delete", "render_gateway"]


def _assign(values: dict[str, str]) -> list[str]:
    return [f"{name}={quote(value)}" for name, value in values.items()]


def _variables(model: GatewayModel, paths: GatewayPaths) -> list[str]:
    return _assign(
        {
            "family": FAMILY,
            "table": model.table,
            "conf_dir": paths.conf_dir,
            "ruleset": paths.ruleset,
            "state": paths.state_dir,
            "listing": paths.applied_listing,
            "sysctl_conf": paths.sysctl_conf,
            "nginx_conf": paths.nginx_conf,
            "nginx_prefix": paths.nginx_prefix,
            "nginx_pid": paths.nginx_pid,
            "nginx_log": paths.nginx_error_log,
        }
    )


_RUNNING = '[ -f "$nginx_pid" ] && kill -0 "$(cat "$nginx_pid")" 2>/dev/null'

_APPLY_RULESET = r"""
for tool in nft sysctl cmp; do
	command -v "$tool" >/dev/null 2>&1 || { echo "lanes: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$state" "${sysctl_conf%/*}"

# Forwarding on, now and after a reboot (the drop-in is rewritten only when it differs).
forwarding='net.ipv4.ip_forward = 1'
if [ ! -f "$sysctl_conf" ] || [ "$(cat "$sysctl_conf")" != "$forwarding" ]; then
	printf '%s\n' "$forwarding" > "$sysctl_conf"
fi
sysctl -q -p "$sysctl_conf"

# The kernel checks the whole file first; nft -f is one transaction either way.
if ! nft -c -f "$ruleset"; then
	echo "lanes: the kernel rejects $ruleset; the previous ruleset stays" >&2
	exit 1
fi
live=$(nft -s list table "$family" "$table" 2>/dev/null || true)
if [ -f "$state/lanes.nft.loaded" ] && cmp -s "$ruleset" "$state/lanes.nft.loaded" \
	&& [ -f "$listing" ] && [ "$live" = "$(cat "$listing")" ]; then
	echo "lanes: table $family $table is up to date"
else
	nft -f "$ruleset"
	nft -s list table "$family" "$table" > "$listing"
	cp "$ruleset" "$state/lanes.nft.loaded"
	echo "lanes: loaded table $family $table"
fi
"""

_APPLY_NGINX = rf"""
# The lanes nginx: its own config, pid and log; the host's nginx is not touched.
command -v nginx >/dev/null 2>&1 || {{ echo "lanes: nginx is not installed" >&2; exit 1; }}
lanes_nginx() {{ nginx -p "$nginx_prefix/" -c "$nginx_conf" -e "$nginx_log" "$@"; }}
mkdir -p "$nginx_prefix"
lanes_nginx -t -q
if {_RUNNING}; then
	if ! cmp -s "$nginx_conf" "$state/nginx.conf.loaded"; then
		lanes_nginx -s reload
		echo "lanes: nginx reloaded"
	fi
else
	lanes_nginx
	echo "lanes: nginx started"
fi
cp "$nginx_conf" "$state/nginx.conf.loaded"
"""

_STOP_NGINX = rf"""
if {_RUNNING}; then
	kill -QUIT "$(cat "$nginx_pid")"
	echo "lanes: nginx stopped"
fi
"""

_DELETE = rf"""
if command -v nft >/dev/null 2>&1; then
	# Create-then-delete in one transaction: no error when the table is already gone.
	printf 'table %s %s\ndelete table %s %s\n' "$family" "$table" "$family" "$table" | nft -f -
fi
{_STOP_NGINX.strip()}
rm -f "$ruleset" "$nginx_conf" "$sysctl_conf"
rm -rf "$state"
rmdir "$conf_dir" 2>/dev/null || true
echo "lanes: gateway removed"
"""


def _script(model: GatewayModel, paths: GatewayPaths, what: str, body: list[str]) -> str:
    head = [
        f"# Gateway {model.name} on {model.host}: {what}, written by lanes. Run as root.",
        "set -eu",
        "umask 022",
        *_variables(model, paths),
    ]
    return "\n".join(head) + "\n" + "".join(body)


def render_apply(model: GatewayModel, paths: GatewayPaths) -> str:
    """The create/update command: idempotent, stops at the first failing step."""
    tail = (
        _APPLY_NGINX
        if model.proxies
        else _STOP_NGINX + 'rm -f "$nginx_conf" "$state/nginx.conf.loaded"\n'
    )
    return _script(model, paths, "apply", [_APPLY_RULESET, tail])


def render_delete(model: GatewayModel, paths: GatewayPaths) -> str:
    """The delete command: only what lanes wrote goes away."""
    return _script(model, paths, "delete", [_DELETE])


@dataclass(frozen=True)
class GatewayFiles:
    """Everything provisioning one gateway needs: files to copy and the commands to run."""

    paths: GatewayPaths
    ruleset: str
    nginx: str | None
    prepare: str
    apply: str
    delete: str

    def hashes(self) -> dict[str, str]:
        """sha256 per rendered piece: the triggers of the provisioning steps."""
        pieces = {
            "ruleset": self.ruleset,
            "nginx": self.nginx or "",
            "apply": self.apply,
            "delete": self.delete,
        }
        return {name: content_hash(text) for name, text in pieces.items()}


def render_prepare(paths: GatewayPaths) -> str:
    """Create the directory the files are copied into (CopyToRemote does not create parents)."""
    return "\n".join(["set -eu", f"mkdir -p {quote(paths.conf_dir)}"]) + "\n"


def render_gateway(
    model: GatewayModel, paths: GatewayPaths | None = None, nginx: NginxSettings | None = None
) -> GatewayFiles:
    """All of one gateway's rendered files and scripts (default: at "/", Debian's nginx)."""
    paths = paths or GatewayPaths()
    nginx = nginx or NginxSettings()
    return GatewayFiles(
        paths,
        render_ruleset(model),
        render_nginx(model, paths, nginx),
        render_prepare(paths),
        render_apply(model, paths),
        render_delete(model, paths),
    )
