"""The nginx config of one gateway's proxies: stream for TCP, http for L7, a bind address per leg.

It is a separate nginx instance owned by lanes (its own pid, log and temp paths under the
gateway's paths), so the host's own nginx, if any, is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from lanes.intents.base import NginxBlock
from lanes.intents.gateway import GatewayModel, GatewayPaths

__all__ = ["NginxSettings", "render_nginx"]

INDENT = "    "
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@dataclass(frozen=True)
class NginxSettings:
    """What differs between distributions: the worker user and where the stream module lives."""

    user: str = "www-data"
    stream_module: str | None = "/usr/lib/nginx/modules/ngx_stream_module.so"
    worker_connections: int = 4096


def _block(name: str, body: list[str]) -> list[str]:
    return [f"{name} {{", *(f"{INDENT}{line}" if line else "" for line in body), "}"]


def _lines(block: NginxBlock) -> list[str]:
    body: list[str] = []
    for item in block.body:
        body += _lines(item) if isinstance(item, NginxBlock) else [item]
    return ([block.comment] if block.comment else []) + _block(block.name, body)


def _servers(blocks: list[NginxBlock]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        lines += ([""] if lines else []) + _lines(block)
    return lines


def _contexts(model: GatewayModel) -> dict[str, list[NginxBlock]]:
    """The servers of every kind, per context."""
    found: dict[str, list[NginxBlock]] = {"stream": [], "http": []}
    for kind in model.kinds:
        if entries := kind.entries(model):
            for context, servers in kind.nginx(entries).items():
                found[context] += servers
    return found


def render_nginx(
    model: GatewayModel, paths: GatewayPaths, settings: NginxSettings = NginxSettings()
) -> str | None:
    """nginx.conf of the gateway's proxies, or None when it has none."""
    contexts = _contexts(model)
    stream, http = contexts["stream"], contexts["http"]
    if not stream and not http:
        return None
    lines = [f"# Gateway {model.name} on {model.host}: written by lanes, do not edit."]
    if stream and settings.stream_module:
        lines.append(f"load_module {settings.stream_module};")
    lines += [
        f"user {settings.user};",
        "worker_processes auto;",
        f"pid {paths.nginx_pid};",
        f"error_log {paths.nginx_error_log} warn;",
        "",
        *_block("events", [f"worker_connections {settings.worker_connections};"]),
    ]
    if stream:
        lines += ["", *_block("stream", _servers(stream))]
    if http:
        temp = [f"{name}_temp_path {paths.nginx_prefix}/{name};" for name in TEMP_PATHS]
        lines += [
            "",
            *_block("http", ["access_log off;", *temp, "", *_servers(http)]),
        ]
    return "\n".join(lines) + "\n"
