"""The concrete NAT and proxy model of each gateway, derived from the plan and the gateway intents.

Nothing here is written by hand in the config: interfaces come from the gateway host's NICs,
egress sources from the AZ blocks, inside addresses from the inventory. The SNAT steps are
kept in the order the kernel must try them: the specific ones (ingress replies, exposures,
1:1 mappings) before the general egress SNAT (seed 000's warning), and no step that leaves
for an outside network ever translates a destination inside 100.64.0.0/10.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from netaddr import IPAddress, IPNetwork

from lanes.config import Gateway
from lanes.hostnet import device_for
from lanes.plan import PLATFORM_SPACE, HostPlan, Plan

__all__ = [
    "gateway_from_dict",
    "GatewayError",
    "GatewayPaths",
    "Egress",
    "AddressMapping",
    "IngressNat",
    "Exposure",
    "ProxyModel",
    "SnatStep",
    "GatewayModel",
    "SNAT_ORDER",
    "Ifname",
    "MapEntry",
    "NAT_MAPS",
    "nat_maps",
    "host_addresses",
    "derive_gateway",
    "derive_gateways",
    "content_hash",
]

SnatKind = Literal["ingress-reply", "exposure", "mapping", "egress"]
# The order of the SNAT steps: most specific first, the general egress SNAT last.
SNAT_ORDER: tuple[SnatKind, ...] = ("ingress-reply", "exposure", "mapping", "egress")
TABLE = "lanes"
_ROOT_RE = re.compile(r"^/[A-Za-z0-9_./-]*$")


class GatewayError(ValueError):
    """A gateway intent cannot be derived; rules.check_gateway_refs reports these first."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class GatewayPaths:
    """Where a gateway's files live, under ``root`` ("/" on a real host, a scratch dir in tests)."""

    root: str = "/"

    def __post_init__(self) -> None:
        # The paths also land in nginx.conf, which has its own quoting: allow only plain paths.
        if not _ROOT_RE.match(self.root):
            raise GatewayError("root", f"{self.root!r} is not an absolute path of [A-Za-z0-9_./-]")

    def _join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    @property
    def conf_dir(self) -> str:
        return self._join("etc", "lanes", "gateway")

    @property
    def ruleset(self) -> str:
        return self._join("etc", "lanes", "gateway", "lanes.nft")

    @property
    def nginx_conf(self) -> str:
        return self._join("etc", "lanes", "gateway", "nginx.conf")

    @property
    def state_dir(self) -> str:
        return self._join("var", "lib", "lanes", "gateway")

    @property
    def applied_listing(self) -> str:
        """``nft list table`` right after the last load: what an unchanged re-apply expects."""
        return self._join("var", "lib", "lanes", "gateway", "ruleset.applied")

    @property
    def nginx_prefix(self) -> str:
        return self._join("var", "lib", "lanes", "gateway", "nginx")

    @property
    def nginx_pid(self) -> str:
        return self._join("var", "lib", "lanes", "gateway", "nginx", "nginx.pid")

    @property
    def nginx_error_log(self) -> str:
        return self._join("var", "lib", "lanes", "gateway", "nginx", "error.log")

    @property
    def sysctl_conf(self) -> str:
        # After the host's 60-lanes.conf, so the gateway's forwarding wins.
        return self._join("etc", "sysctl.d", "61-lanes-gateway.conf")


@dataclass(frozen=True)
class Egress:
    """SNAT of ``sources`` leaving on ``interface`` to ``to``, except toward ``exempt``."""

    interface: str
    sources: tuple[IPNetwork, ...]
    to: IPAddress
    exempt: IPNetwork
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "sources": [str(s) for s in self.sources],
            "to": str(self.to),
            "exempt": str(self.exempt),
        }


@dataclass(frozen=True, order=True)
class AddressMapping:
    """1:1: ``outside`` on ``interface`` is ``inside``; ``inside`` leaves as ``outside``."""

    interface: str
    outside: IPAddress
    inside: IPAddress
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "outside": str(self.outside),
            "inside": str(self.inside),
        }


@dataclass(frozen=True, order=True)
class IngressNat:
    """``balancer`` -> ``front``:port becomes -> ``node``:port; ``node`` -> ``balancer`` leaves as ``front``."""

    balancer: IPAddress
    front: IPAddress
    port: int
    node: IPAddress
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "balancer": str(self.balancer),
            "front": str(self.front),
            "port": self.port,
            "node": str(self.node),
        }


@dataclass(frozen=True, order=True)
class Exposure:
    """A published or consumed service: listen on one leg, DNAT to target, SNAT to our own address.

    Publish (vpc-2 side): listen on the adjacency address, target in the service's network.
    Consume (vpc-1 side): listen on an address of the consumers' network, target the publisher's
    adjacency address. Either way the target sees the gateway's own address on its leg.
    """

    name: str
    role: Literal["publish", "consume"]
    listen_interface: str
    listen: IPAddress
    protocol: str
    port: int
    target: IPAddress
    target_port: int
    target_interface: str
    source: IPAddress
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "listen_interface": self.listen_interface,
            "listen": str(self.listen),
            "protocol": self.protocol,
            "port": self.port,
            "target": str(self.target),
            "target_port": self.target_port,
            "target_interface": self.target_interface,
            "source": str(self.source),
        }


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


@dataclass(frozen=True)
class SnatStep:
    """One step of the postrouting chain; ``exempt`` destinations are never translated."""

    kind: SnatKind
    exempt: IPNetwork | None
    egress: Egress | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "exempt": str(self.exempt) if self.exempt else None,
        }
        if self.egress is not None:
            out["egress"] = self.egress.to_dict()
        return out


@dataclass(frozen=True)
class GatewayModel:
    """Everything one gateway host must do, in the order it must do it."""

    name: str
    host: str
    az: str
    path: str
    interfaces: tuple[tuple[str, str], ...]  # (network, interface), sorted by network
    outside_interfaces: tuple[str, ...]
    mappings: tuple[AddressMapping, ...]
    ingress: tuple[IngressNat, ...]
    exposures: tuple[Exposure, ...]
    proxies: tuple[ProxyModel, ...]
    snat: tuple[SnatStep, ...]
    table: str = TABLE

    @property
    def egress(self) -> tuple[Egress, ...]:
        return tuple(s.egress for s in self.snat if s.egress is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "az": self.az,
            "table": self.table,
            "interfaces": dict(self.interfaces),
            "outside_interfaces": list(self.outside_interfaces),
            "mappings": [m.to_dict() for m in self.mappings],
            "ingress": [i.to_dict() for i in self.ingress],
            "exposures": [e.to_dict() for e in self.exposures],
            "proxies": [p.to_dict() for p in self.proxies],
            "snat": [s.to_dict() for s in self.snat],
        }


class Ifname(str):
    """An interface name inside a map key (nft writes it quoted)."""


@dataclass(frozen=True, order=True)
class MapEntry:
    """One element of an nft map: key parts -> value parts; ``path`` is the intent it comes from."""

    key: tuple[Any, ...]
    value: tuple[Any, ...]
    path: str


# Every map of the lanes table: name -> (key type, value type), in the order they are written.
NAT_MAPS: dict[str, tuple[str, str]] = {
    "mapping_dnat": ("ifname . ipv4_addr", "ipv4_addr"),
    "mapping_snat": ("ifname . ipv4_addr", "ipv4_addr"),
    "ingress_dnat": ("ipv4_addr . ipv4_addr . inet_service", "ipv4_addr"),
    "ingress_snat": ("ipv4_addr . ipv4_addr", "ipv4_addr"),
    "exposure_dnat": ("ifname . ipv4_addr . inet_proto . inet_service", "ipv4_addr . inet_service"),
    "exposure_snat": ("ipv4_addr . ifname", "ipv4_addr"),
}


def nat_maps(model: GatewayModel) -> dict[str, list[MapEntry]]:
    """The elements of every map, per map name; one per intent, duplicates kept for the rules."""
    maps: dict[str, list[MapEntry]] = {name: [] for name in NAT_MAPS}
    for m in model.mappings:
        maps["mapping_dnat"].append(MapEntry((Ifname(m.interface), m.outside), (m.inside,), m.path))
        maps["mapping_snat"].append(MapEntry((Ifname(m.interface), m.inside), (m.outside,), m.path))
    for i in model.ingress:
        maps["ingress_dnat"].append(MapEntry((i.balancer, i.front, i.port), (i.node,), i.path))
        maps["ingress_snat"].append(MapEntry((i.node, i.balancer), (i.front,), i.path))
    for e in model.exposures:
        maps["exposure_dnat"].append(
            MapEntry(
                (Ifname(e.listen_interface), e.listen, e.protocol, e.port),
                (e.target, e.target_port),
                e.path,
            )
        )
        maps["exposure_snat"].append(
            MapEntry((e.listen, Ifname(e.target_interface)), (e.source,), e.path)
        )
    return maps


def content_hash(text: str) -> str:
    """sha256 of rendered content: the trigger that re-runs a provisioning step."""
    return hashlib.sha256(text.encode()).hexdigest()


def host_addresses(host: HostPlan, network: str) -> list[IPAddress]:
    """Every address ``host`` holds in ``network``, in plan order."""
    return [a.address for a in host.addresses if a.network == network]


class _Deriver:
    """Resolves names of one gateway's intents against the plan; errors name the config path."""

    def __init__(self, plan: Plan, gw: Gateway, path: str):
        self.plan = plan
        self.gw = gw
        self.path = path
        host = plan.host(gw.host)
        if host is None:
            raise GatewayError(f"{path}.host", f"{gw.host} is not a host")
        self.host = host

    def iface(self, network: str, path: str) -> str:
        name = device_for(self.host, network, self.plan)
        if name is None:
            raise GatewayError(path, f"no NIC of {self.host.name} carries {network}")
        return name

    def own(self, network: str, path: str) -> IPAddress:
        found = host_addresses(self.host, network)
        if not found:
            raise GatewayError(path, f"{self.host.name} has no address in {network}")
        return found[0]

    def peer(self, name: str, network: str, path: str) -> IPAddress:
        other = self.plan.host(name)
        if other is None:
            raise GatewayError(path, f"{name} is not a host")
        found = host_addresses(other, network)
        if not found:
            raise GatewayError(path, f"{name} has no {network} address")
        return found[0]

    def egress_sources(self, networks: list[str], path: str) -> tuple[IPNetwork, ...]:
        sources = []
        for k, name in enumerate(networks):
            net = self.plan.network(name)
            if net is None:
                raise GatewayError(f"{path}.networks[{k}]", f"{name} is not a platform network")
            sources += [b.cidr for b in net.blocks() if b.az == self.host.az]
        return tuple(sorted(set(sources)))

    def egress(self) -> list[Egress]:
        return [
            Egress(
                self.iface(e.outside, f"{self.path}.egress[{j}].outside"),
                self.egress_sources(e.networks, f"{self.path}.egress[{j}]"),
                IPAddress(e.to),
                PLATFORM_SPACE,
                f"{self.path}.egress[{j}]",
            )
            for j, e in enumerate(self.gw.egress)
        ]

    def mappings(self) -> list[AddressMapping]:
        return [
            AddressMapping(
                self.iface(m.network, f"{self.path}.mappings[{j}].network"),
                IPAddress(m.outside),
                self.peer(m.host, "management", f"{self.path}.mappings[{j}].host"),
                f"{self.path}.mappings[{j}]",
            )
            for j, m in enumerate(self.gw.mappings)
        ]

    def ingress(self) -> list[IngressNat]:
        return [
            IngressNat(
                IPAddress(r.balancer),
                IPAddress(r.front),
                port,
                self.peer(r.node, "traffic", f"{self.path}.ingress[{j}].node"),
                f"{self.path}.ingress[{j}]",
            )
            for j, r in enumerate(self.gw.ingress)
            for port in sorted(set(r.ports))
        ]

    def exposures(self) -> list[Exposure]:
        found = []
        for j, p in enumerate(self.gw.publish):
            path = f"{self.path}.publish[{j}]"
            found.append(
                Exposure(
                    p.name,
                    "publish",
                    self.iface("adjacency", path),
                    IPAddress(p.at),
                    p.protocol,
                    p.port,
                    IPAddress(p.address),
                    p.port,
                    self.iface(p.network, f"{path}.network"),
                    self.own(p.network, f"{path}.network"),
                    path,
                )
            )
        for j, c in enumerate(self.gw.consume):
            path = f"{self.path}.consume[{j}]"
            found.append(
                Exposure(
                    c.name,
                    "consume",
                    self.iface(c.network, f"{path}.network"),
                    IPAddress(c.at),
                    c.protocol,
                    c.port,
                    IPAddress(c.target),
                    c.port,
                    self.iface("adjacency", path),
                    self.own("adjacency", path),
                    path,
                )
            )
        return found

    def proxies(self) -> list[ProxyModel]:
        return [
            ProxyModel(
                p.name,
                p.mode,
                IPAddress(p.listen),
                p.port,
                IPAddress(p.upstream),
                p.upstream_port,
                IPAddress(p.source),
                f"{self.path}.proxies[{j}]",
            )
            for j, p in enumerate(self.gw.proxies)
        ]

    def interfaces(self) -> tuple[tuple[str, str], ...]:
        nets = sorted({n for nic in self.host.config.nics for n in nic.networks})
        return tuple((n, self.iface(n, f"{self.host.path}.nics")) for n in nets)


def _snat_steps(
    mappings: list[AddressMapping],
    ingress: list[IngressNat],
    exposures: list[Exposure],
    egress: list[Egress],
) -> tuple[SnatStep, ...]:
    # Exposures leave toward the adjacency network, inside 100.64.0.0/10 on purpose: no exemption.
    present = {
        "ingress-reply": [SnatStep("ingress-reply", None)] if ingress else [],
        "exposure": [SnatStep("exposure", None)] if exposures else [],
        "mapping": [SnatStep("mapping", PLATFORM_SPACE)] if mappings else [],
        "egress": [SnatStep("egress", e.exempt, e) for e in egress],
    }
    return tuple(step for kind in SNAT_ORDER for step in present[kind])


def derive_gateway(plan: Plan, index: int) -> GatewayModel:
    """The model of ``gateways[index]``. Raises GatewayError on a dangling reference."""
    gw = plan.config.gateways[index]
    d = _Deriver(plan, gw, f"gateways[{index}]")
    interfaces = d.interfaces()
    outside = {net.name for net in plan.outside}
    mappings = sorted(d.mappings())
    ingress = sorted(d.ingress())
    exposures = sorted(d.exposures())
    return GatewayModel(
        name=gw.name,
        host=d.host.name,
        az=d.host.az,
        path=d.path,
        interfaces=interfaces,
        outside_interfaces=tuple(sorted({i for n, i in interfaces if n in outside})),
        mappings=tuple(mappings),
        ingress=tuple(ingress),
        exposures=tuple(exposures),
        proxies=tuple(sorted(d.proxies())),
        snat=_snat_steps(mappings, ingress, exposures, d.egress()),
    )


def derive_gateways(plan: Plan) -> list[GatewayModel]:
    """Models of the gateways whose host is in the stack's AZ, sorted by name."""
    models = [
        derive_gateway(plan, i)
        for i, gw in enumerate(plan.config.gateways)
        if (host := plan.host(gw.host)) is not None and host.az == plan.az
    ]
    return sorted(models, key=lambda m: m.name)


def _optional_net(value: Any) -> IPNetwork | None:
    return IPNetwork(value) if value else None


def _ingress_from_dicts(entries: Iterable[Mapping[str, Any]], path: str) -> tuple[IngressNat, ...]:
    # One route of the config gives one entry per port, in order: entries of the same
    # (balancer, front, node) share the route's index, as _Deriver.ingress numbers them.
    routes: dict[tuple[str, str, str], int] = {}
    result = []
    for i in entries:
        j = routes.setdefault((i["balancer"], i["front"], i["node"]), len(routes))
        result.append(
            IngressNat(
                IPAddress(i["balancer"]),
                IPAddress(i["front"]),
                int(i["port"]),
                IPAddress(i["node"]),
                f"{path}.ingress[{j}]",
            )
        )
    return tuple(result)


def _exposures_from_dicts(entries: Iterable[Mapping[str, Any]], path: str) -> tuple[Exposure, ...]:
    # Numbered per intent list (publish[j], consume[j]), as _Deriver.exposures names them.
    seen: dict[str, int] = {}
    result = []
    for e in entries:
        j = seen[e["role"]] = seen.get(e["role"], -1) + 1
        result.append(
            Exposure(
                e["name"],
                e["role"],
                e["listen_interface"],
                IPAddress(e["listen"]),
                e["protocol"],
                int(e["port"]),
                IPAddress(e["target"]),
                int(e["target_port"]),
                e["target_interface"],
                IPAddress(e["source"]),
                f"{path}.{e['role']}[{j}]",
            )
        )
    return tuple(result)


def gateway_from_dict(props: Mapping[str, Any], path: str) -> GatewayModel:
    """``GatewayModel.to_dict`` back into the model; ``path`` names it in violations."""
    egress = 0
    snat = []
    for step in props.get("snat") or ():
        rule = step.get("egress")
        leg = None
        if rule is not None:
            leg = Egress(
                rule["interface"],
                tuple(IPNetwork(s) for s in rule["sources"]),
                IPAddress(rule["to"]),
                IPNetwork(rule["exempt"]) if rule.get("exempt") else None,  # type: ignore[arg-type]
                f"{path}.egress[{egress}]",
            )
            egress += 1
        snat.append(SnatStep(step["kind"], _optional_net(step.get("exempt")), leg))
    return GatewayModel(
        name=props["name"],
        host=props["host"],
        az=props.get("az") or "",
        path=path,
        interfaces=tuple(sorted((props.get("interfaces") or {}).items())),
        outside_interfaces=tuple(props.get("outside_interfaces") or ()),
        mappings=tuple(
            AddressMapping(
                m["interface"],
                IPAddress(m["outside"]),
                IPAddress(m["inside"]),
                f"{path}.mappings[{j}]",
            )
            for j, m in enumerate(props.get("mappings") or ())
        ),
        ingress=_ingress_from_dicts(props.get("ingress") or (), path),
        exposures=_exposures_from_dicts(props.get("exposures") or (), path),
        proxies=tuple(
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
            for j, p in enumerate(props.get("proxies") or ())
        ),
        snat=tuple(snat),
    )
