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

from lanes.config.apply import DEFAULT_CONFIRM_TIMEOUT
from lanes.intents.gateway import GatewayModel, GatewayPaths, content_hash
from lanes.render.bundle import Part, bundle, receive_lines
from lanes.render.nftables import FAMILY, render_ruleset
from lanes.render.nginx import NginxSettings, render_nginx
from lanes.render.rollback import Expect, Undo, arm_script, confirm_script, disarm_script
from lanes.render.systemd import NGINX_UNIT, TABLE_UNIT, Unit, render_units, unit_dir

__all__ = [
    "GatewayFiles",
    "render_prepare",
    "render_apply",
    "render_delete",
    "render_arm",
    "render_confirm",
    "render_unprepare",
    "render_disarm",
    "render_gateway",
    "render_provision",
    "render_remove",
    "gateway_parts",
]


def _assign(values: dict[str, str]) -> list[str]:
    return [f"{name}={quote(value)}" for name, value in values.items()]


def _variables(model: GatewayModel, paths: GatewayPaths) -> list[str]:
    return _assign(_values(model, paths))


def _values(model: GatewayModel, paths: GatewayPaths) -> dict[str, str]:
    return dict(
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
            "unit_dir": unit_dir(paths),
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


_UNITS_END = "LANES_UNIT_END"


def _install_units(units: tuple[Unit, ...], daemon_reload: bool) -> str:
    """Boot persistence: each unit written only when it differs, enabled by its wants link
    (what ``systemctl enable`` does, also without a running systemd), units no longer
    rendered removed."""
    lines = ["", "# Boot: the lanes table, forwarding and nginx come back after a reboot."]
    lines.append('mkdir -p "$unit_dir"')
    for unit in units:
        if _UNITS_END in unit.content:
            raise ValueError(f"{unit.name}: must not contain {_UNITS_END}")
        lines += [
            f"cat > \"$unit_dir/{unit.name}.lanes-new\" <<'{_UNITS_END}'",
            unit.content.rstrip("\n"),
            _UNITS_END,
            f'if cmp -s "$unit_dir/{unit.name}.lanes-new" "$unit_dir/{unit.name}"; then',
            f'\trm -f "$unit_dir/{unit.name}.lanes-new"',
            "else",
            f'\tmv -f "$unit_dir/{unit.name}.lanes-new" "$unit_dir/{unit.name}"',
            f'\techo "lanes: installed {unit.name}"',
            "fi",
            f'mkdir -p "$unit_dir/{unit.wanted_by}.wants"',
            f'ln -sfn "../{unit.name}" "$unit_dir/{unit.wanted_by}.wants/{unit.name}"',
        ]
    rendered = {unit.name for unit in units}
    for name, wanted_by in ((TABLE_UNIT, "sysinit.target"), (NGINX_UNIT, "multi-user.target")):
        if name not in rendered:
            lines.append(f'rm -f "$unit_dir/{wanted_by}.wants/{name}" "$unit_dir/{name}"')
    if daemon_reload:
        lines.append("if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi")
    return "\n".join(lines) + "\n"


def _remove_units(daemon_reload: bool) -> str:
    lines = [
        f'rm -f "$unit_dir/sysinit.target.wants/{TABLE_UNIT}" "$unit_dir/{TABLE_UNIT}"',
        f'rm -f "$unit_dir/multi-user.target.wants/{NGINX_UNIT}" "$unit_dir/{NGINX_UNIT}"',
    ]
    if daemon_reload:
        lines.append("if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi")
    return "\n".join(lines) + "\n"


def _script(model: GatewayModel, paths: GatewayPaths, what: str, body: list[str]) -> str:
    head = [
        f"# Gateway {model.name} on {model.host}: {what}, written by lanes. Run as root.",
        "set -eu",
        "umask 022",
        *_variables(model, paths),
    ]
    return "\n".join(head) + "\n" + "".join(body)


def _on_this_machine(paths: GatewayPaths) -> bool:
    """Only the real root's units are systemd's: a scratch root (tests, the lab) is not."""
    return paths.root.rstrip("/") == ""


def render_apply(model: GatewayModel, paths: GatewayPaths) -> str:
    """The create/update command: idempotent, stops at the first failing step."""
    tail = (
        _APPLY_NGINX
        if model.proxies
        else _STOP_NGINX + 'rm -f "$nginx_conf" "$state/nginx.conf.loaded"\n'
    )
    units = render_units(model.name, paths, bool(model.proxies))
    boot = _install_units(units, _on_this_machine(paths))
    return _script(model, paths, "apply", [_APPLY_RULESET, tail, boot])


def render_delete(model: GatewayModel, paths: GatewayPaths) -> str:
    """The delete command: only what lanes wrote goes away."""
    return _script(model, paths, "delete", [_DELETE, _remove_units(_on_this_machine(paths))])


# After a rollback put the previous files back: load them (or remove what was not there).
_REAPPLY = rf"""
if [ -f "$ruleset" ]; then
	nft -f "$ruleset" && cp "$ruleset" "$state/lanes.nft.loaded"
	nft -s list table "$family" "$table" > "$listing"
	echo "lanes: $name: rollback: loaded the previous table $family $table"
else
	printf 'table %s %s\ndelete table %s %s\n' "$family" "$table" "$family" "$table" | nft -f -
	rm -f "$state/lanes.nft.loaded" "$listing"
fi
lanes_nginx() {{ nginx -p "$nginx_prefix/" -c "$nginx_conf" -e "$nginx_log" "$@"; }}
if [ -f "$nginx_conf" ]; then
	if {_RUNNING}; then lanes_nginx -s reload; else lanes_nginx; fi
	cp "$nginx_conf" "$state/nginx.conf.loaded"
	echo "lanes: $name: rollback: nginx back on the previous config"
else
{_STOP_NGINX.strip()}
	rm -f "$state/nginx.conf.loaded"
fi
"""


def render_arm(
    model: GatewayModel, paths: GatewayPaths, timeout: int, watchdog: str = "auto"
) -> str:
    """Before the copies: snapshot the ruleset and nginx config, arm their rollback."""
    undos = (Undo("ruleset", paths.ruleset), Undo("nginx", paths.nginx_conf))
    after = "\n".join([*_variables(model, paths), _REAPPLY.strip()])
    return arm_script(model.name, paths.state_dir, undos, timeout, after, watchdog)


def render_disarm(model: GatewayModel, paths: GatewayPaths) -> str:
    """The arm step's delete: no rollback of the gateway after ``pulumi destroy``."""
    return disarm_script(model.name, paths.state_dir)


def render_confirm(
    model: GatewayModel, paths: GatewayPaths, ruleset: str, nginx: str | None
) -> str:
    """After the apply, over a fresh connection: the files are the new ones, and loaded."""
    loaded = f"{paths.state_dir}/lanes.nft.loaded"
    expects = [Expect("ruleset", paths.ruleset, content_hash(ruleset))]
    expects.append(Expect("loaded-ruleset", loaded, content_hash(ruleset)))
    if nginx is not None:
        expects.append(Expect("nginx", paths.nginx_conf, content_hash(nginx)))
        expects.append(
            Expect("loaded-nginx", f"{paths.state_dir}/nginx.conf.loaded", content_hash(nginx))
        )
    return confirm_script(model.name, paths.state_dir, tuple(expects))


def gateway_parts(paths: GatewayPaths, ruleset: str, nginx: str | None) -> tuple[Part, ...]:
    """The files the gateway's step receives on stdin, each staged beside its target."""
    parts = [Part("ruleset", ruleset, f"{paths.ruleset}.lanes-staged")]
    if nginx is not None:
        parts.append(Part("nginx", nginx, f"{paths.nginx_conf}.lanes-staged"))
    return tuple(parts)


def _subshell(script: str) -> str:
    """One step's script inside the combined one: its ``exit`` ends only that step."""
    return "(\n" + script.rstrip("\n") + "\n)\n"


def render_provision(
    model: GatewayModel,
    paths: GatewayPaths,
    ruleset: str,
    nginx: str | None,
    timeout: int,
    watchdog: str = "auto",
) -> str:
    """The gateway's one step (create and update), its files on stdin: prepare, receive and
    check them, arm the rollback of the ruleset and nginx config (before they are overwritten),
    put the new ones in place and apply them."""
    parts = gateway_parts(paths, ruleset, nginx)
    receive = receive_lines(model.name, parts, paths.conf_dir)
    # A file that already holds the content is left alone (its mtime too): a re-run writes nothing.
    install = [
        f"if cmp -s {quote(p.staged)} {quote(target)}; then rm -f {quote(p.staged)}; "
        f"else mv -f {quote(p.staged)} {quote(target)}; fi"
        for p, target in ((p, p.staged.removesuffix(".lanes-staged")) for p in parts)
    ]
    return "".join(
        [
            f"# Gateway {model.name} on {model.host}: provision, written by lanes. Run as root.\n",
            "set -eu\numask 022\n",
            _subshell(render_prepare(paths)),
            "\n".join(receive) + "\n",
            _subshell(render_arm(model, paths, timeout, watchdog)),
            "\n".join(install) + "\n",
            _subshell(render_apply(model, paths)),
        ]
    )


def render_remove(model: GatewayModel, paths: GatewayPaths) -> str:
    """The step's delete (``pulumi destroy``): lanes' table, nginx, units and files removed, the
    rollback disarmed, lanes' folders removed once empty."""
    steps = (render_delete(model, paths), render_disarm(model, paths), render_unprepare(paths))
    return "set -eu\n" + "".join(_subshell(step) for step in steps)


@dataclass(frozen=True)
class GatewayFiles:
    """Everything provisioning one gateway needs: files to copy and the commands to run."""

    paths: GatewayPaths
    ruleset: str
    nginx: str | None
    prepare: str
    apply: str
    delete: str
    arm: str = ""
    confirm: str = ""
    units: tuple[Unit, ...] = ()
    unprepare: str = ""
    disarm: str = ""
    provision: str = ""
    remove: str = ""

    @property
    def stdin(self) -> str:
        """What the gateway's step receives: the ruleset, then the nginx config (with proxies)."""
        return bundle(gateway_parts(self.paths, self.ruleset, self.nginx))

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


def render_unprepare(paths: GatewayPaths) -> str:
    """The prepare step's delete (after the apply's delete removed lanes' files): lanes' config
    and state folders go once they are empty."""
    dirs = [paths.conf_dir, paths.conf_dir.rsplit("/", 1)[0], paths.state_dir.rsplit("/", 1)[0]]
    return "\n".join(["set -eu", *(f"rmdir {quote(d)} 2>/dev/null || true" for d in dirs)]) + "\n"


def render_gateway(
    model: GatewayModel,
    paths: GatewayPaths | None = None,
    nginx: NginxSettings | None = None,
    timeout: int = DEFAULT_CONFIRM_TIMEOUT,
    watchdog: str = "auto",
) -> GatewayFiles:
    """All of one gateway's rendered files and scripts (default: at "/", Debian's nginx)."""
    paths = paths or GatewayPaths()
    nginx = nginx or NginxSettings()
    ruleset, conf = render_ruleset(model), render_nginx(model, paths, nginx)
    return GatewayFiles(
        paths,
        ruleset,
        conf,
        render_prepare(paths),
        render_apply(model, paths),
        render_delete(model, paths),
        render_arm(model, paths, timeout, watchdog),
        render_confirm(model, paths, ruleset, conf),
        render_units(model.name, paths, bool(model.proxies)),
        render_unprepare(paths),
        render_disarm(model, paths),
        render_provision(model, paths, ruleset, conf, timeout, watchdog),
        render_remove(model, paths),
    )
