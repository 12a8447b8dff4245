"""Rules of the cluster network: pod and service ranges, pools, tenants, grants, autodetection,
the Gateway's addresses and listeners."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from netaddr import IPNetwork

from lanes.config import K8S_ROLES, Grant, StackConfig
from lanes.model.addressing import overlaps
from lanes.model.cluster import NAMESPACE_NAME_LABEL, gateway_ports, ingress_hosts
from lanes.model.plan import PLATFORM_SPACE, NetworkPlan, OutsidePlan, Plan, PlanError, parse_cidr
from lanes.rules.catalog import RuleId
from lanes.rules.core import Violation, find_overlaps

__all__ = [
    "check_tenant_default_deny",
    "check_autodetect",
    "check_bgp_import",
    "check_pools_disjoint",
    "CNI_INTERNAL_RANGES",
    "SYSTEM_NAMESPACES",
    "check_cluster_config",
    "check_cluster_overlaps",
    "check_cluster_grants",
    "check_grant_within_exposure",
    "check_tenant_hostnames",
    "check_route_listeners",
    "MAX_LISTENERS",
    "check_gateway_listener_count",
    "check_cluster_plan",
    "AsRange",
    "AS_RANGES",
    "as_range",
    "check_as_number",
    "check_exposure_egress",
]


def _denies_everything(spec: Mapping[str, Any]) -> bool:
    selector = spec.get("podSelector") or {}
    return (
        not selector.get("matchLabels")
        and not selector.get("matchExpressions")
        and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or ())
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def check_tenant_default_deny(
    namespaces: Iterable[tuple[str, str]], policies: Iterable[tuple[str, Mapping[str, Any]]]
) -> list[Violation]:
    """``(path, name)`` tenant namespaces each hold a NetworkPolicy ``(namespace, spec)`` that
    selects every pod and denies all ingress and egress; everything else is allowed on top."""
    denied = {namespace for namespace, spec in policies if _denies_everything(spec)}
    return [
        Violation(
            path,
            RuleId.TENANT_DEFAULT_DENY,
            f"tenant namespace {name} has no default-deny NetworkPolicy (podSelector {{}}, "
            "policyTypes Ingress and Egress, no rules)",
        )
        for path, name in namespaces
        if name not in denied
    ]


def check_autodetect(path: str, cidrs: Iterable[str], traffic: NetworkPlan) -> list[Violation]:
    """Calico finds node addresses in the traffic blocks only, whatever holds the default route."""
    want = sorted(str(b.cidr) for b in traffic.blocks())
    have = sorted(str(c) for c in cidrs)
    if have == want:
        return []
    return [
        Violation(
            path,
            RuleId.CNI_AUTODETECT,
            f"node address autodetection uses {', '.join(have) or 'no CIDR'}; it must be "
            f"pinned to the {traffic.name} blocks {', '.join(want)}",
        )
    ]


def check_bgp_import(
    path: str, pool: str, pod_cidr: str, neighbors: Iterable[str], block: str
) -> list[Violation]:
    """An AZ router imports only pod prefixes (its pool inside the pod range), from nodes on
    the traffic network: a wider filter would let a node steer the router's platform routes."""
    found = []
    if IPNetwork(pool) not in IPNetwork(pod_cidr):
        found.append(
            Violation(
                f"{path}.pool",
                RuleId.BGP_IMPORT,
                f"the router imports {pool}, which is not inside the pod range {pod_cidr}",
            )
        )
    strays = [n for n in neighbors if IPNetwork(n) not in IPNetwork(block)]
    if strays:
        found.append(
            Violation(
                f"{path}.neighbors",
                RuleId.BGP_IMPORT,
                f"BGP neighbors {', '.join(strays)} are not in the router's traffic block "
                f"{block}: only its AZ's nodes' traffic addresses announce pod blocks",
            )
        )
    return found


def check_pools_disjoint(
    pools: Iterable[tuple[str, IPNetwork]],
    networks: Iterable[NetworkPlan],
    outside: Iterable[OutsidePlan] = (),
) -> list[Violation]:
    """``(path, cidr)`` pod pools overlap no network, no CNI-internal range, nor each other."""
    refs: list[tuple[IPNetwork, tuple[bool, str, object]]] = [
        (n.cidr, (True, n.path, f"the {n.name} network {n.cidr}")) for n in networks
    ]
    refs += [(n.cidr, (True, n.path, f"outside network {n.name} {n.cidr}")) for n in outside]
    refs += [(IPNetwork(c), (True, "", f"the {what} {c}")) for c, what in CNI_INTERNAL_RANGES]
    # A pool's label is formatted only when it is reported (str(IPNetwork) is not cheap).
    items = refs + [(cidr, (False, path, cidr)) for path, cidr in pools]
    found = []
    for earlier, later in find_overlaps(items, tolerated=lambda item: item[0]):
        pool, other = (later, earlier) if not later[0] else (earlier, later)
        what = other[2] if other[0] else f"pool {other[2]}"
        found.append(Violation(pool[1], RuleId.POOL_OVERLAP, f"pool {pool[2]} overlaps {what}"))
    return found


# Ranges CNIs keep for themselves: a pod or service range inside one breaks that CNI (or any
# later move to it), so they are refused like the plan's own networks.
CNI_INTERNAL_RANGES: tuple[tuple[str, str], ...] = (
    ("100.64.0.0/16", "OVN-Kubernetes join subnet"),
    ("100.88.0.0/16", "OVN-Kubernetes transit switch subnet"),
    ("169.254.0.0/17", "OVN-Kubernetes masquerade subnet"),
    ("169.254.0.0/16", "link-local (Calico refuses pools there)"),
)


# Namespaces the platform owns; a tenant may not take one.
SYSTEM_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "tigera-gateway",
        "tigera-operator",
        "calico-system",
        "calico-apiserver",
    }
)


def _cluster_cidr(path: str, value: str) -> tuple[IPNetwork | None, list[Violation]]:
    try:
        net = parse_cidr(value, path)
    except PlanError as exc:
        return None, [Violation(path, RuleId.CLUSTER_BOUNDARY, exc.message)]
    if net not in PLATFORM_SPACE:
        return net, [
            Violation(path, RuleId.CLUSTER_SPACE, f"{value} is not inside {PLATFORM_SPACE}")
        ]
    return net, []


def _check_cluster_ranges(cfg: StackConfig) -> list[Violation]:
    cluster = cfg.cluster
    pod, found = _cluster_cidr("cluster.pod_cidr", cluster.pod_cidr)
    found += _cluster_cidr("cluster.service_cidr", cluster.service_cidr)[1]
    if pod is None:
        return found
    pools = 1 << max(cluster.pool_prefix - pod.prefixlen, 0)
    if cluster.pool_prefix < pod.prefixlen or pools < len(cfg.azs):
        found.append(
            Violation(
                "cluster.pool_prefix",
                RuleId.CLUSTER_POOLS,
                f"/{cluster.pool_prefix} pools: {cluster.pod_cidr} holds "
                f"{pools if cluster.pool_prefix >= pod.prefixlen else 0}, fewer than the "
                f"{len(cfg.azs)} AZs",
            )
        )
    if cluster.calico.block_size < cluster.pool_prefix:
        found.append(
            Violation(
                "cluster.calico.block_size",
                RuleId.CLUSTER_POOLS,
                f"/{cluster.calico.block_size} blocks do not fit in /{cluster.pool_prefix} pools",
            )
        )
    return found


def _check_exposure_grant(cfg: StackConfig, grant: Grant, path: str) -> list[Violation]:
    """An exposure grant names an exposure consumed in a platform network, and nothing else."""
    found = [
        Violation(f"{path}.{key}", RuleId.CLUSTER_GRANT, f"an exposure grant takes no {key}")
        for key in ("network", "zone", "az")
        if getattr(grant, key) is not None
    ]
    platform = set(cfg.networks.KINDS.names)
    consumed = {c.network for gw in cfg.gateways for c in gw.consume if c.name == grant.exposure}
    if not consumed & platform:
        where = (
            f"only in {', '.join(sorted(consumed))}, which pods do not reach"
            if consumed
            else "by no gateway"
        )
        found.append(
            Violation(
                f"{path}.exposure",
                RuleId.CLUSTER_GRANT,
                f"{grant.exposure} is consumed {where}: grant an exposure a gateway consumes in "
                "a platform network",
            )
        )
        return found
    return found + check_grant_within_exposure(grant, path, _consume_points(cfg, grant))


def _consume_points(cfg: StackConfig, grant: Grant) -> list[tuple[str, str, int, str]]:
    """``(path, address, port, protocol)`` of every consume of the grant's exposure in a
    platform network: what the grant may open, at most."""
    platform = cfg.networks.KINDS
    return [
        (f"gateways[{i}].consume[{j}]", c.at, c.port, c.protocol.upper())
        for i, gw in enumerate(cfg.gateways)
        for j, c in enumerate(gw.consume)
        if c.name == grant.exposure and c.network in platform
    ]


def _points_text(points: Iterable[tuple[str, str, int, str]]) -> str:
    return ", ".join(f"{port}/{protocol} at {at} ({where})" for where, at, port, protocol in points)


def check_grant_within_exposure(
    grant: Grant, path: str, points: list[tuple[str, str, int, str]]
) -> list[Violation]:
    """An exposure grant's ports and protocol are within what the exposure is consumed at
    (``points``: ``(path, address, port, protocol)``): a port it is not consumed at would open
    the consuming gateway's own address on that port (its SSH, its proxies) to the tenant."""
    found = []
    offered = _points_text(points)
    if grant.protocol is not None and all(p[3] != grant.protocol for p in points):
        found.append(
            Violation(
                f"{path}.protocol",
                RuleId.GRANT_EXPOSURE,
                f"{grant.protocol}: {grant.exposure} is consumed at {offered}; an exposure "
                f"grant opens only those (protocol {' or '.join(sorted({p[3] for p in points}))}, "
                "or leave protocol out)",
            )
        )
        return found
    same = [p for p in points if grant.protocol is None or p[3] == grant.protocol]
    allowed = sorted({p[2] for p in same})
    for k, port in enumerate(grant.ports):
        if port not in allowed:
            found.append(
                Violation(
                    f"{path}.ports[{k}]",
                    RuleId.GRANT_EXPOSURE,
                    f"{port}: {grant.exposure} is consumed at {offered}; an exposure grant opens "
                    f"only those (ports {', '.join(map(str, allowed))}, or leave ports out)",
                )
            )
    return found


def _opened(ports: Iterable[Mapping[str, Any]]) -> list[tuple[str, int | None]]:
    """A NetworkPolicy rule's ports as ``(protocol, port)``; None: every port (a range counts as
    every port too: only single consumed ports are ever rendered)."""
    found: list[tuple[str, int | None]] = []
    for entry in ports:
        port = entry.get("port")
        single = port if isinstance(port, int | float) and not entry.get("endPort") else None
        found.append((str(entry.get("protocol") or "TCP"), None if single is None else int(single)))
    return found


def check_exposure_egress(
    path: str,
    egress: Iterable[Mapping[str, Any]],
    consumed: Mapping[str, Iterable[tuple[str, int]]],
) -> list[Violation]:
    """A tenant's egress rule (``path[i]``) to a consume address (``consumed``: address ->
    ``(protocol, port)`` the gateways consume exposures at there) names that address alone
    only with the ports and protocols consumed there: any other port of it is the gateway
    host's own (its SSH, its proxies)."""
    found = []
    for i, rule in enumerate(egress):
        opened = _opened(rule.get("ports") or [])
        for peer in rule.get("to") or []:
            cidr = str((peer.get("ipBlock") or {}).get("cidr") or "")
            address = cidr.removesuffix("/32")
            if not cidr.endswith("/32") or address not in consumed:
                continue
            allowed = sorted(set(consumed[address]))
            stray = [o for o in opened if o not in allowed]
            if opened and not stray:
                continue
            said = (
                ", ".join(f"{port or 'every port'}/{protocol}" for protocol, port in stray)
                if opened
                else "every port and protocol"
            )
            offered = ", ".join(f"{port}/{protocol}" for protocol, port in allowed)
            found.append(
                Violation(
                    f"{path}[{i}]",
                    RuleId.GRANT_EXPOSURE,
                    f"opens {said} at {address}, where exposures are consumed on {offered} only: "
                    "a tenant's egress to a consume address opens nothing else of its gateway",
                )
            )
    return found


def _check_grant(cfg: StackConfig, grant: Grant, path: str) -> list[Violation]:
    nets = dict(cfg.networks.items())
    kinds = cfg.networks.KINDS
    if grant.exposure is not None:
        return _check_exposure_grant(cfg, grant, path)
    if grant.network is None:
        return [
            Violation(
                f"{path}.network", RuleId.CLUSTER_GRANT, "a grant names a network or an exposure"
            )
        ]
    if grant.network == kinds.exposure_network:
        # Pods never reach the adjacency network itself: its addresses are the gateways'
        # publish addresses, reached through a consume (the matrix refuses them directly).
        return [
            Violation(
                f"{path}.network",
                RuleId.CLUSTER_GRANT,
                f"{grant.network} carries no pod packets (exposures are called at a consume "
                f"address, never on the {grant.network} network itself); grant the exposure by "
                "name: {exposure: <name>}",
            )
        ]
    if grant.network not in kinds.grantable:
        return [
            Violation(
                f"{path}.network",
                RuleId.CLUSTER_GRANT,
                f"{grant.network} is never granted: a grant names {kinds.grant_text}",
            )
        ]
    found = []
    zones = {z.name: z for z in nets[grant.network].zones}
    if grant.zone is not None and grant.zone not in zones:
        found.append(
            Violation(
                f"{path}.zone",
                RuleId.CLUSTER_GRANT,
                f"{grant.zone} is not a zone of {grant.network}",
            )
        )
    elif grant.zone is not None and zones[grant.zone].reserved:
        found.append(
            Violation(f"{path}.zone", RuleId.CLUSTER_GRANT, f"{grant.zone} is a reserved zone")
        )
    elif grant.zone is None and grant.network == kinds.nodes_network:
        found.append(
            Violation(
                f"{path}.zone",
                RuleId.CLUSTER_GRANT,
                f"{grant.network} is granted by zone only (never the whole network: it holds the "
                "API server, etcd and kubelet)",
            )
        )
    if grant.az is not None and grant.az not in cfg.azs:
        found.append(
            Violation(f"{path}.az", RuleId.CLUSTER_GRANT, f"{grant.az} is not one of azs {cfg.azs}")
        )
    if grant.network == kinds.storage_network and cfg.cluster.storage == "none":
        found.append(
            Violation(
                f"{path}.network",
                RuleId.CLUSTER_GRANT,
                f"{grant.network} is granted but cluster.storage is none: pods have no way to "
                f"{grant.network}",
            )
        )
    return found  # ports: bounded by the schema (config.base.Port)


def _check_tenants(cfg: StackConfig) -> list[Violation]:
    found = []
    seen: dict[str, int] = {}
    for i, tenant in enumerate(cfg.cluster.tenants):
        path = f"cluster.tenants[{i}]"
        if tenant.name in seen:
            found.append(
                Violation(
                    f"{path}.name",
                    RuleId.CLUSTER_TENANT,
                    f"{tenant.name} is also cluster.tenants[{seen[tenant.name]}]",
                )
            )
        seen.setdefault(tenant.name, i)
        if tenant.name in SYSTEM_NAMESPACES:
            found.append(
                Violation(
                    f"{path}.name",
                    RuleId.CLUSTER_TENANT,
                    f"{tenant.name} is a system namespace, not a tenant",
                )
            )
        for j, grant in enumerate(tenant.egress):
            found += _check_grant(cfg, grant, f"{path}.egress[{j}]")
    return found


def _check_ingress_nodes(cfg: StackConfig) -> list[Violation]:
    pods = cfg.networks.KINDS.pods_network
    return [
        Violation(
            f"hosts[{i}].nics",
            RuleId.CLUSTER_GATEWAY_ADDRESS,
            f"{host.name} has role ingress but no NIC carries {pods}: the AZ's Gateway listens "
            f"on the ingress nodes' {pods} addresses (the router's DNAT targets)",
        )
        for i, host in enumerate(cfg.hosts)
        if host.role == "ingress" and pods not in host.networks
    ]


# A Gateway holds at most 64 listeners (gateway.networking.k8s.io/v1 Gateway, spec.listeners).
MAX_LISTENERS = 64


def _covers(wildcard: str, hostname: str) -> bool:
    """``*.a.com`` covers ``b.a.com`` and ``c.b.a.com`` (Gateway API), never ``a.com``."""
    return wildcard.startswith("*.") and hostname.endswith(wildcard[1:]) and hostname != wildcard


def check_tenant_hostnames(cfg: StackConfig) -> list[Violation]:
    """A hostname is one tenant's: no two tenants claim it or cover it with a wildcard (a route
    would attach to the other tenant's listener); hostnames need an ingress node in the region
    (whether each AZ Gateway holds its listeners is ``check_gateway_listener_count``'s)."""
    found = []
    owners: list[tuple[str, str, str]] = []
    for i, tenant in enumerate(cfg.cluster.tenants):
        for j, hostname in enumerate(tenant.hostnames):
            path = f"cluster.tenants[{i}].hostnames[{j}]"
            for other, name, where in owners:
                if other != tenant.name and (
                    hostname == name or _covers(hostname, name) or _covers(name, hostname)
                ):
                    found.append(
                        Violation(
                            path,
                            RuleId.CLUSTER_HOSTNAME,
                            f"{hostname} of tenant {tenant.name} overlaps {name} of tenant "
                            f"{other} ({where}): a hostname's routes attach for one tenant only",
                        )
                    )
            owners.append((tenant.name, hostname, path))
    claimed = {name for _, name, _ in owners}
    if claimed and not any(h.role == "ingress" for h in cfg.hosts):
        found.append(
            Violation(
                "cluster.tenants",
                RuleId.CLUSTER_HOSTNAME,
                "tenants claim hostnames but the region has no ingress node to run a Gateway on",
            )
        )
    return found


def check_gateway_listener_count(plan: Plan) -> list[Violation]:
    """Each AZ's Gateway holds its listeners: every tenant hostname on every port of that AZ's
    own ingress routes (80 and 443 when none reach its ingress nodes), at most 64. Every AZ is
    judged on its own: one AZ's routes say nothing of another's ports."""
    hostnames = sum(len(set(t.hostnames)) for t in plan.cluster.tenants)
    found = []
    for az in plan.azs:
        if not hostnames or not ingress_hosts(plan, az):
            continue
        ports = gateway_ports(plan, az)
        if hostnames * len(ports) > MAX_LISTENERS:
            found.append(
                Violation(
                    "cluster.tenants",
                    RuleId.CLUSTER_HOSTNAME,
                    f"{hostnames} hostnames on {len(ports)} ingress ports make "
                    f"{hostnames * len(ports)} listeners on {az}'s Gateway; a Gateway holds "
                    f"{MAX_LISTENERS}",
                )
            )
    return found


def _admitted_namespace(listener: Mapping[str, Any]) -> str | None:
    """The one namespace a listener admits routes from, or None when it admits any other set."""
    namespaces = (listener.get("allowedRoutes") or {}).get("namespaces") or {}
    selector = namespaces.get("selector") or {}
    labels = selector.get("matchLabels") or {}
    if namespaces.get("from") != "Selector" or selector.get("matchExpressions"):
        return None
    if list(labels) != [NAMESPACE_NAME_LABEL]:
        return None
    return str(labels[NAMESPACE_NAME_LABEL])


def check_route_listeners(
    path: str, listeners: Iterable[Mapping[str, Any]], gateway_namespace: str
) -> list[Violation]:
    """Every listener of a Gateway admits routes of one namespace only, selected by
    ``kubernetes.io/metadata.name`` (the API server sets it; a namespace cannot copy it), and
    terminates TLS only with a Secret of that namespace: a tenant's route attaches to its own
    listeners and serves its own certificate, never another's."""
    found = []
    for i, listener in enumerate(listeners):
        where = f"{path}[{i}]"
        admitted = _admitted_namespace(listener)
        if admitted is None:
            found.append(
                Violation(
                    f"{where}.allowedRoutes.namespaces",
                    RuleId.GATEWAY_LISTENER_SCOPE,
                    f"listener {listener.get('name')} admits routes of more than one tenant: it "
                    f"must select one namespace by {NAMESPACE_NAME_LABEL} (from: Selector)",
                )
            )
            continue
        refs = (listener.get("tls") or {}).get("certificateRefs") or []
        for j, ref in enumerate(refs):
            owner = ref.get("namespace") or gateway_namespace
            if owner != admitted:
                found.append(
                    Violation(
                        f"{where}.tls.certificateRefs[{j}]",
                        RuleId.GATEWAY_LISTENER_SCOPE,
                        f"listener {listener.get('name')} serves tenant {admitted} with a "
                        f"certificate of namespace {owner}",
                    )
                )
    return found


@dataclass(frozen=True)
class AsRange:
    """A range of the 4-octet AS numbers (RFC 6793) that an RFC sets apart."""

    first: int
    last: int
    use: Literal["reserved", "documentation", "private"]
    rfc: str
    what: str

    @property
    def numbers(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


# IANA's registry of AS numbers, by the RFCs that set ranges apart; a number in none of them is
# a public AS (the operator's own, assigned by a registry). Reserved and documentation numbers
# are refused; private ones (RFC 6996) are what a private BGP fabric is meant to use.
AS_RANGES: tuple[AsRange, ...] = (
    AsRange(0, 0, "reserved", "RFC 7607", "reserved: never in a BGP session"),
    AsRange(
        23456,
        23456,
        "reserved",
        "RFC 6793",
        "AS_TRANS, reserved: what a 2-octet speaker sees in place of a 4-octet AS",
    ),
    AsRange(64496, 64511, "documentation", "RFC 5398", "kept for documentation and examples"),
    AsRange(64512, 65534, "private", "RFC 6996", "for private use"),
    AsRange(65535, 65535, "reserved", "RFC 7300", "reserved: the last 2-octet AS"),
    AsRange(65536, 65551, "documentation", "RFC 5398", "kept for documentation and examples"),
    AsRange(65552, 131071, "reserved", "IANA registry", "reserved by IANA"),
    AsRange(4200000000, 4294967294, "private", "RFC 6996", "for private use"),
    AsRange(4294967295, 4294967295, "reserved", "RFC 7300", "reserved: the last 4-octet AS"),
)


def as_range(number: int) -> AsRange | None:
    """The range of AS_RANGES ``number`` is in; None: a public AS."""
    return next((r for r in AS_RANGES if r.first <= number <= r.last), None)


def check_as_number(path: str, number: int) -> list[Violation]:
    """A BGP AS number a session may use: not reserved, not for documentation."""
    found = as_range(number)
    if found is None or found.use == "private":
        return []
    private = next(r for r in AS_RANGES if r.use == "private")
    return [
        Violation(
            path,
            RuleId.BGP_AS_NUMBER,
            f"AS {number} is {found.what} ({found.rfc}); use a private AS, "
            f"{private.numbers} ({private.rfc}), or one assigned to you",
        )
    ]


def check_cluster_config(cfg: StackConfig) -> list[Violation]:
    """Cluster ranges on their boundary inside 100.64.0.0/10, pools that fit, tenants, grants,
    hostnames, ingress nodes on the traffic network."""
    found = _check_cluster_ranges(cfg) + _check_tenants(cfg) + _check_ingress_nodes(cfg)
    found += check_tenant_hostnames(cfg)
    calico = cfg.cluster.calico
    found += check_as_number("cluster.calico.as_number", calico.as_number)
    found += check_as_number("cluster.calico.router_as_number", calico.router_as_number)
    region_az = cfg.cluster.region_az
    if region_az is not None and region_az not in cfg.azs:
        found.append(
            Violation(
                "cluster.region_az",
                RuleId.CLUSTER_REGION_AZ,
                f"{region_az} is not one of azs {cfg.azs}",
            )
        )
    return found


def _cluster_references(
    networks: Iterable[NetworkPlan], outside: Iterable[OutsidePlan]
) -> list[tuple[IPNetwork, tuple[bool, str, str]]]:
    refs = [(n.cidr, (True, f"{n.path}.cidr", f"the {n.name} network {n.cidr}")) for n in networks]
    refs += [
        (n.cidr, (True, f"{n.path}.cidr", f"outside network {n.name} {n.cidr}")) for n in outside
    ]
    refs += [(IPNetwork(c), (True, "", f"the {what} {c}")) for c, what in CNI_INTERNAL_RANGES]
    return refs


def check_cluster_overlaps(
    pod_cidr: str,
    service_cidr: str,
    networks: Iterable[NetworkPlan] = (),
    outside: Iterable[OutsidePlan] = (),
) -> list[Violation]:
    """Pod and service ranges overlap no network of the plan, no outside network, no range a
    CNI keeps for itself, nor each other. Every reference a range overlaps is named (the
    references are few: one interval test each), not only the one a sweep would pair it with."""
    ranges = [
        ("cluster.pod_cidr", pod_cidr),
        ("cluster.service_cidr", service_cidr),
    ]
    refs = _cluster_references(networks, outside)
    found = []
    for path, value in ranges:
        mine = IPNetwork(value).cidr
        hits = [
            ref
            for net, ref in sorted(refs, key=lambda r: (r[0].first, -r[0].last))
            if overlaps(net, mine)
        ]
        if hits:
            names = ", ".join(f"{h[2]}" + (f" ({h[1]})" if h[1] else "") for h in hits)
            found.append(Violation(path, RuleId.CLUSTER_OVERLAP, f"{value} overlaps {names}"))
    pair = [(IPNetwork(v).cidr, (False, p, v)) for p, v in ranges]
    found += [
        Violation(
            later[1], RuleId.CLUSTER_OVERLAP, f"{later[2]} overlaps {earlier[1]} {earlier[2]}"
        )
        for earlier, later in find_overlaps(pair)
    ]
    return found


def check_cluster_grants(plan: Plan) -> list[Violation]:
    """A zone of the nodes' network (management) granted to a tenant holds no cluster node's
    address (kubelet, etcd)."""
    found = []
    network = plan.network(plan.kinds.nodes_network)
    if network is None:
        return []
    nodes = [
        (h, e)
        for h in plan.hosts
        if h.role in K8S_ROLES
        for e in h.addresses
        if e.network == network.name
    ]
    for i, tenant in enumerate(plan.cluster.tenants):
        for j, grant in enumerate(tenant.egress):
            if grant.network != network.name or grant.zone is None:
                continue
            zone = network.zone(grant.zone)
            held = sorted(h.name for h, e in nodes if zone is not None and e.address in zone.cidr)
            if held:
                found.append(
                    Violation(
                        f"cluster.tenants[{i}].egress[{j}].zone",
                        RuleId.CLUSTER_GRANT,
                        f"{grant.zone} holds the cluster nodes {', '.join(held)}; a tenant is never "
                        f"granted the nodes' {network.name} addresses",
                    )
                )
    return found


def check_cluster_plan(plan: Plan) -> list[Violation]:
    """The cluster rules that need the computed plan."""
    cluster = plan.cluster
    overlapping = check_cluster_overlaps(
        cluster.pod_cidr, cluster.service_cidr, plan.networks, plan.outside
    )
    return overlapping + check_cluster_grants(plan) + check_gateway_listener_count(plan)
