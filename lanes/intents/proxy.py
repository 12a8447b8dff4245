"""Multi-NIC reverse proxies (nginx): listen on one leg, connect to the upstream from another
(seed 000's recommended exposure, the enterprise-app gateway, internet ingress). No NAT: the
upstream sees the proxy's ``source``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from netaddr import IPAddress

from lanes.config.gateway import Gateway, Proxy
from lanes.config.kinds import NetworkKinds
from lanes.intents.base import (
    Deriver,
    GatewayView,
    IntentKind,
    Listener,
    MatrixView,
    NginxBlock,
    OwnAddress,
    PartyMaker,
)
from lanes.model.flows import DEPLOY, Flow, Mode
from lanes.model.hostnet import source_address

__all__ = ["ProxyModel", "KIND"]


@dataclass(frozen=True, order=True)
class ProxyModel:
    """An nginx proxy: listen on one leg, connect to the upstream from ``source`` on another."""

    name: str
    mode: str
    listen: IPAddress
    port: int
    upstream: IPAddress
    upstream_port: int
    source: IPAddress
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mode": self.mode,
            "listen": str(self.listen),
            "port": self.port,
            "upstream": str(self.upstream),
            "upstream_port": self.upstream_port,
            "source": str(self.source),
        }


def _comment(p: ProxyModel) -> str:
    return f"# {p.name}: {p.listen}:{p.port} -> {p.upstream}:{p.upstream_port} from {p.source}"


def _stream_server(p: ProxyModel) -> NginxBlock:
    return NginxBlock(
        "server",
        (
            f"listen {p.listen}:{p.port};",
            f"proxy_bind {p.source};",
            f"proxy_pass {p.upstream}:{p.upstream_port};",
        ),
        _comment(p),
    )


def _http_server(p: ProxyModel) -> NginxBlock:
    location = NginxBlock(
        "location /",
        (
            f"proxy_pass http://{p.upstream}:{p.upstream_port};",
            f"proxy_bind {p.source};",
            "proxy_set_header Host $host;",
            "proxy_set_header X-Real-IP $remote_addr;",
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        ),
    )
    return NginxBlock("server", (f"listen {p.listen}:{p.port};", location), _comment(p))


class ProxyKind(IntentKind):
    name = "proxy"
    config = {"proxies": list[Proxy]}
    field = "proxies"

    def derive(self, d: Deriver, gw: Gateway, path: str) -> tuple[ProxyModel, ...]:
        return tuple(
            sorted(
                ProxyModel(
                    p.name,
                    p.mode,
                    IPAddress(p.listen),
                    p.port,
                    IPAddress(p.upstream),
                    p.upstream_port,
                    IPAddress(p.source),
                    f"{path}.proxies[{j}]",
                )
                for j, p in enumerate(gw.proxies)
            )
        )

    def from_dicts(self, entries: Iterable[Mapping[str, Any]], path: str) -> tuple[Any, ...]:
        return tuple(
            ProxyModel(
                p["name"],
                p["mode"],
                IPAddress(p["listen"]),
                int(p["port"]),
                IPAddress(p["upstream"]),
                int(p["upstream_port"]),
                IPAddress(p["source"]),
                f"{path}.proxies[{j}]",
            )
            for j, p in enumerate(entries)
        )

    def nginx(self, entries: tuple[Any, ...]) -> dict[str, list[NginxBlock]]:
        return {
            "stream": [_stream_server(p) for p in entries if p.mode == "stream"],
            "http": [_http_server(p) for p in entries if p.mode == "http"],
        }

    def own_addresses(self, gw: Gateway, path: str, kinds: NetworkKinds) -> Iterator[OwnAddress]:
        for j, x in enumerate(gw.proxies):
            yield OwnAddress(f"{path}.proxies[{j}].listen", x.listen, None)
            yield OwnAddress(f"{path}.proxies[{j}].source", x.source, None)

    def listeners(self, gw: Gateway, path: str) -> Iterator[Listener]:
        for j, x in enumerate(gw.proxies):
            yield Listener(f"{path}.proxies[{j}].listen", x.listen, "tcp", x.port)

    def parties(self, make: PartyMaker, model: GatewayView) -> None:
        """An upstream in an outside network: ``<proxy>-upstream``."""
        for p in self.entries(model):
            network = make.holding(model, p.source)
            make.add(f"{p.name}-upstream", "upstream", model, network, p.upstream, p.path)

    def clients(self, make: PartyMaker, model: GatewayView) -> None:
        """A client in the listen address's network, when that is an outside one."""
        for p in self.entries(model):
            make.client(make.holding(model, p.listen), model, p.path)

    def flows(self, view: MatrixView) -> list[Flow]:
        """Every end host that routes to the listen address (or the outside network's client)
        reaches the upstream, which sees ``source``; the deploy box to a listen address inside
        100.64.0.0/10: blocked."""
        deploy = view.deploy
        flows = []
        for m in view.models:
            for p in self.entries(m):
                upstream = view.end_at(view.holding(m.host, p.source), p.upstream)
                network = view.holding(m.host, p.listen)
                if upstream is None or network is None:
                    continue
                if view.is_platform_network(network):
                    clients = [n.host for n in view.ends if source_address(n, str(p.listen))]
                else:
                    clients = [c for c in [view.client_in(network)] if c]
                mode: Mode = "http" if p.mode == "http" else "tcp"
                listen, seen, served = str(p.listen), str(p.source), p.upstream_port
                for client in clients:
                    flows.append(
                        Flow(
                            "proxy",
                            client,
                            upstream,
                            network,
                            listen,
                            p.port,
                            "reach",
                            seen,
                            mode,
                            served,
                        )
                    )
                if (
                    deploy is not None
                    and view.in_platform_space(p.listen)
                    and DEPLOY not in clients
                ):
                    flows.append(
                        Flow(
                            "proxy",
                            DEPLOY,
                            upstream,
                            network,
                            listen,
                            p.port,
                            "blocked",
                            None,
                            mode,
                            served,
                        )
                    )
        return flows


KIND = ProxyKind()
