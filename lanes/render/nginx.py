"""The nginx config of one gateway's proxies: stream for TCP, http for L7, a bind address per leg.

It is a separate nginx instance owned by lanes (its own pid, log and temp paths under the
gateway's paths), so the host's own nginx, if any, is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from lanes.gateway import GatewayModel, GatewayPaths, ProxyModel

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


def _comment(p: ProxyModel) -> str:
    return f"# {p.name}: {p.listen}:{p.port} -> {p.upstream}:{p.upstream_port} from {p.source}"


def _stream_server(p: ProxyModel) -> list[str]:
    return [
        _comment(p),
        *_block(
            "server",
            [
                f"listen {p.listen}:{p.port};",
                f"proxy_bind {p.source};",
                f"proxy_pass {p.upstream}:{p.upstream_port};",
            ],
        ),
    ]


def _http_server(p: ProxyModel) -> list[str]:
    location = _block(
        "location /",
        [
            f"proxy_pass http://{p.upstream}:{p.upstream_port};",
            f"proxy_bind {p.source};",
            "proxy_set_header Host $host;",
            "proxy_set_header X-Real-IP $remote_addr;",
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        ],
    )
    return [_comment(p), *_block("server", [f"listen {p.listen}:{p.port};", *location])]


def _servers(proxies: list[ProxyModel], server) -> list[str]:
    lines: list[str] = []
    for p in proxies:
        lines += ([""] if lines else []) + server(p)
    return lines


def render_nginx(
    model: GatewayModel, paths: GatewayPaths, settings: NginxSettings = NginxSettings()
) -> str | None:
    """nginx.conf of the gateway's proxies, or None when it has none."""
    if not model.proxies:
        return None
    stream = [p for p in model.proxies if p.mode == "stream"]
    http = [p for p in model.proxies if p.mode == "http"]
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
        lines += ["", *_block("stream", _servers(stream, _stream_server))]
    if http:
        temp = [f"{name}_temp_path {paths.nginx_prefix}/{name};" for name in TEMP_PATHS]
        lines += [
            "",
            *_block("http", ["access_log off;", *temp, "", *_servers(http, _http_server)]),
        ]
    return "\n".join(lines) + "\n"
