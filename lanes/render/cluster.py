"""The cluster network as objects: Calico pools and install, node labels, Gateway API, tenant policies.

``plan_cluster(plan)`` is a pure function of the region plan and its ``cluster`` config. It
types no address: pools are carved from the configured pod range, the autodetection blocks are
the plan's traffic blocks, the Gateway's addresses are the plan's ingress hosts' traffic
addresses (the very addresses the container-traffic router DNATs to), grants resolve to the
plan's zones and blocks.

Targets: Kubernetes 1.34 (built-in kinds, checked with kubernetes-validate), Calico 3.31
(tigera-operator chart v3.31.3, operator.tigera.io/v1 and projectcalico.org/v3 kinds) and
Gateway API v1 (gateway.networking.k8s.io, Gateway and ReferenceGrant).

Decisions, and why:

- Calico is installed by the tigera-operator; the ``Installation`` keeps ``ipPools: []`` so the
  operator creates no default pool, and lanes declares the pools as ``projectcalico.org/v3``
  ``IPPool`` objects (served by the Calico API server, hence the ``APIServer`` object).
- One pool per AZ, ``nodeSelector: topology.kubernetes.io/zone == '<az>'``: a pod gets an
  address of its node's AZ, so pod routes aggregate per AZ.
- Node address autodetection: ``Installation.spec.calicoNetwork.nodeAddressAutodetectionV4
  .cidrs`` lists every AZ's traffic block (the Installation is one per cluster; a node holds an
  address in its own AZ's block only), so Calico's node address, VXLAN/IPIP endpoint and
  CrossSubnet decisions use the traffic NIC whatever holds the default route.
- Outgoing NAT: ``natOutgoing: true`` on the pod pools, and the 100.64.0.0/10 exemption
  the Calico way: Felix never masquerades toward an address inside any IPPool, so disabled,
  never-allocated pools cover 100.64.0.0/10 minus the pod range (Calico refuses overlapping
  pools) minus the storage network (see the next point).
- Pods reach storage through the node, SNATed to the node's storage address (``storage:
  host-nat``), not through a Multus secondary interface. The node routes the storage network
  on its storage NIC (lanes.model.hostnet gives every node a route to the storage supernet there),
  so Calico's MASQUERADE for that destination takes the storage address. Why not Multus +
  whereabouts: Calico's NetworkPolicy does not see a secondary interface, so a tenant's storage
  leg would escape the isolation this module promises; a whereabouts range per AZ would need
  pods pinned to an AZ and addresses carved out of the storage block the host numbering owns;
  and two more daemons would run on every node. The cost: storage sees the node's address, not
  the pod's, so storage-side ACLs cannot tell tenants apart (the NetworkPolicy grants do).
- North-south HTTP: Gateway API through Calico Ingress Gateway, the Envoy Gateway build that
  the tigera-operator deploys when an ``operator.tigera.io/v1`` ``GatewayAPI`` object exists
  (ingress-nginx is retired upstream). One GatewayClass per AZ with ingress nodes, declared in
  the GatewayAPI object (``gatewayClasses``: the operator creates the GatewayClass and its
  EnvoyProxy) with ``gatewayKind: DaemonSet`` and a node selector of the AZ's ingress nodes, so
  the data plane runs there only, as ordinary pods that tenant policies can name. One Gateway
  per AZ of that class, whose ``addresses`` are the AZ's ingress nodes' traffic addresses:
  Envoy Gateway sets them as the externalIPs of the proxies' Service (externalTrafficPolicy
  Local), so kube-proxy accepts the router's DNATed traffic on exactly those addresses and keeps
  the front LB's address as the client; ``allocateLoadBalancerNodePorts: false`` opens no node
  port on any other node or address.
- Where a tenant's HTTPRoute may attach: each hostname a tenant is granted
  (``cluster.tenants[].hostnames``) is one listener per ingress port on every AZ's Gateway,
  whose ``allowedRoutes`` admit HTTPRoutes of that tenant's namespace only (selected by
  ``kubernetes.io/metadata.name``, which the API server sets and nobody can forge). A route of
  another namespace, or for another hostname, attaches nowhere. HTTPS listeners terminate TLS
  with the tenant's own Secret ``lanes-gateway-tls`` in its namespace, readable by the Gateways
  through a ReferenceGrant in that namespace that names the Secret only.
- Pods' return paths: BGP between Calico and the AZ routers. Pods keep their addresses toward
  100.64.0.0/10, so whatever they reach there answers to the pod range; the AZ router (the
  gateway host holding the AZ's traffic gateway address) learns the AZ's pod blocks from the
  nodes of that AZ, one ``BGPPeer`` per AZ selecting its nodes by zone and peering with the
  router's traffic address. ``BGPConfiguration``: the nodes' AS (``calico.as_number``), no
  node-to-node mesh (routes between nodes are Felix's with VXLAN pools: encapsulated across
  AZs, direct inside an AZ's subnet, so a mesh of n² sessions would add nothing), BIRD bound to
  the node address (the traffic address, see autodetection) and nothing advertised but the
  pools' blocks (no service ranges; the disabled no-NAT pools say ``disableBGPExport``). The
  router's side is ``lanes.render.bird``: passive sessions, an import filter that takes only
  prefixes inside its AZ's pool, nothing exported. Why BGP rather than a node NAT: the receiver
  sees the pod's address (an exposure's ACLs and logs can tell tenants apart), and the router
  keeps no state per flow; on the node a policy rule puts the pod range on the traffic table
  (``lanes.model.hostnet``), so the request and its reply use the traffic NIC.
- Ownership across stacks: the region-wide objects (operator, Installation, pools, GatewayAPI
  with every AZ's GatewayClass, tenant namespaces, policies and ReferenceGrants) are declared
  by the stack of ``cluster.region_az`` (default the first AZ); every stack declares its own
  AZ's node labels and Gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netaddr import IPAddress, IPNetwork

from lanes.config.cluster import Cluster, Grant, Tenant
from lanes.config.host import K8S_ROLES
from lanes.model.cluster import (
    DEFAULT_INGRESS_PORTS,
    NAMESPACE_NAME_LABEL,
    REGION_LABEL,
    ROLE_LABEL,
    TENANT_LABEL,
    ZONE_LABEL,
    BgpRouter,
    PodPool,
    bgp_routers,
    carve_pools,
    exposure_grant_points,
    gateway_class,
    gateway_name,
    gateway_ports,
    grant_ranges,
    ingress_addresses,
    ingress_hosts,
    listener_name,
    no_nat_ranges,
    region_owner,
)
from lanes.model.plan import HostPlan, Plan

__all__ = [
    "KUBERNETES_VERSION",
    "CALICO_VERSION",
    "Chart",
    "OPERATOR_CHART",
    "OPERATOR_NAMESPACE",
    "GATEWAY_API_NAME",
    "GATEWAY_NAMESPACE",
    "GATEWAY_POD_LABELS",
    "GATEWAY_GROUP",
    "GATEWAY_TLS_SECRET",
    "DNS_NAMESPACE",
    "DNS_POD_LABELS",
    "DEFAULT_INGRESS_PORTS",
    "LISTENER_PROTOCOLS",
    "ENCAPSULATION_MODES",
    "Manifest",
    "HelmRelease",
    "ClusterPlan",
    "plan_cluster",
]

KUBERNETES_VERSION = "1.34"


CALICO_VERSION = "3.31"


@dataclass(frozen=True)
class Chart:
    """A Helm chart pinned to a version."""

    name: str
    version: str
    repository: str


OPERATOR_CHART = Chart("tigera-operator", "v3.31.3", "https://docs.tigera.io/calico/charts")


OPERATOR_NAMESPACE = "tigera-operator"
# Calico Ingress Gateway: the operator's GatewayAPI singleton, the namespace where it runs Envoy
# Gateway and the proxies, and the labels Envoy Gateway gives every proxy pod.


GATEWAY_API_NAME = "tigera-secure"


GATEWAY_NAMESPACE = "tigera-gateway"


GATEWAY_POD_LABELS: dict[str, str] = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}


GATEWAY_GROUP = "gateway.networking.k8s.io"


GATEWAY_TLS_SECRET = "lanes-gateway-tls"


DNS_NAMESPACE = "kube-system"


DNS_POD_LABELS: dict[str, str] = {"k8s-app": "kube-dns"}


# A listener's protocol by port: 443 terminates TLS, every other port is plain HTTP.


LISTENER_PROTOCOLS: dict[int, str] = {80: "HTTP", 443: "HTTPS"}

# Operator encapsulation -> (ipipMode, vxlanMode) of a projectcalico.org/v3 IPPool.


ENCAPSULATION_MODES: dict[str, tuple[str, str]] = {
    "VXLANCrossSubnet": ("Never", "CrossSubnet"),
    "VXLAN": ("Never", "Always"),
    "IPIPCrossSubnet": ("CrossSubnet", "Never"),
    "IPIP": ("Always", "Never"),
    "None": ("Never", "Never"),
}


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object; ``role`` names the Pulumi child, ``after`` the roles it waits for."""

    role: str
    body: dict[str, Any]
    patch: bool = False
    protect: bool = False
    after: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return str(self.body["kind"])


@dataclass(frozen=True)
class HelmRelease:
    """A Helm release: chart, namespace and the values lanes derives."""

    role: str
    name: str
    namespace: str
    chart: Chart
    values: dict[str, Any]
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterPlan:
    """What the stack declares in the cluster, and the derived ranges behind it."""

    region: str
    az: str
    owner: bool
    pod_cidr: IPNetwork
    service_cidr: IPNetwork
    pools: tuple[PodPool, ...]
    no_nat: tuple[IPNetwork, ...]
    autodetect: tuple[IPNetwork, ...]
    ingress_addresses: tuple[IPAddress, ...]
    ingress_ports: tuple[int, ...]
    gateway: str | None
    listeners: tuple[str, ...]
    storage: IPNetwork | None
    manifests: tuple[Manifest, ...]
    releases: tuple[HelmRelease, ...]

    def manifest(self, role: str) -> Manifest:
        (found,) = [m for m in self.manifests if m.role == role]
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "kubernetes": KUBERNETES_VERSION,
            "calico": CALICO_VERSION,
            "region": self.region,
            "az": self.az,
            "owner": self.owner,
            "pod_cidr": str(self.pod_cidr),
            "service_cidr": str(self.service_cidr),
            "pools": {p.az: str(p.cidr) for p in self.pools},
            "no_nat": [str(c) for c in self.no_nat],
            "autodetect": [str(c) for c in self.autodetect],
            "ingress": {
                "gateway": self.gateway,
                "addresses": [str(a) for a in self.ingress_addresses],
                "ports": list(self.ingress_ports),
                "listeners": list(self.listeners),
            },
            "storage": str(self.storage) if self.storage else None,
            "objects": [f"{m.kind}/{m.body['metadata']['name']}" for m in self.manifests],
            "releases": [f"{r.namespace}/{r.name}" for r in self.releases],
        }


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(sorted(labels.items()))
    return meta


def _installation(plan: Plan, autodetect: tuple[IPNetwork, ...]) -> Manifest:
    # BGP on whatever the encapsulation: the AZ routers learn the pod blocks over it.
    bgp = "Enabled"
    body = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "Installation",
        "metadata": _meta("default"),
        "spec": {
            "variant": "Calico",
            "cni": {"type": "Calico", "ipam": {"type": "Calico"}},
            "calicoNetwork": {
                "bgp": bgp,
                "ipPools": [],
                "nodeAddressAutodetectionV4": {"cidrs": [str(c) for c in autodetect]},
            },
        },
    }
    return Manifest("installation", body, protect=True, after=("calico-operator",))


def _apiserver() -> Manifest:
    body = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "APIServer",
        "metadata": _meta("default"),
        "spec": {},
    }
    return Manifest("apiserver", body, after=("calico-operator",))


def _pod_pool(cluster: Cluster, pool: PodPool) -> Manifest:
    ipip, vxlan = ENCAPSULATION_MODES[cluster.calico.encapsulation]
    body = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "IPPool",
        "metadata": _meta(f"lanes-{pool.az}", labels={ZONE_LABEL: pool.az}),
        "spec": {
            "cidr": str(pool.cidr),
            "blockSize": cluster.calico.block_size,
            "ipipMode": ipip,
            "vxlanMode": vxlan,
            "natOutgoing": cluster.calico.nat_outgoing,
            "nodeSelector": f"{ZONE_LABEL} == '{pool.az}'",
            "allowedUses": ["Workload", "Tunnel"],
            "assignmentMode": "Automatic",
        },
    }
    return Manifest(f"ippool-{pool.az}", body, protect=True, after=("apiserver",))


def _cidr_slug(cidr: IPNetwork) -> str:
    return f"{cidr.ip}-{cidr.prefixlen}".replace(".", "-")


def _no_nat_pool(cidr: IPNetwork) -> Manifest:
    body = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "IPPool",
        "metadata": _meta(f"lanes-no-nat-{_cidr_slug(cidr)}"),
        "spec": {
            "cidr": str(cidr),
            "disabled": True,
            "natOutgoing": False,
            "disableBGPExport": True,
            "ipipMode": "Never",
            "vxlanMode": "Never",
        },
    }
    return Manifest(f"ippool-no-nat-{_cidr_slug(cidr)}", body, after=("apiserver",))


def _bgp_configuration(plan: Plan) -> Manifest:
    """The nodes' AS, no mesh, BIRD on the node address, nothing advertised but pod blocks."""
    body = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "BGPConfiguration",
        "metadata": _meta("default"),
        "spec": {
            "asNumber": plan.cluster.calico.as_number,
            "nodeToNodeMeshEnabled": False,
            "bindMode": "NodeIP",
            "logSeverityScreen": "Info",
        },
    }
    return Manifest("bgp-configuration", body, after=("apiserver",))


def _bgp_peer(router: BgpRouter) -> Manifest:
    """Every node of the router's AZ peers with the router's traffic address."""
    body = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "BGPPeer",
        "metadata": _meta(f"lanes-{router.az}-router", labels={ZONE_LABEL: router.az}),
        "spec": {
            "peerIP": str(router.address),
            "asNumber": router.router_as,
            "nodeSelector": f"{ZONE_LABEL} == '{router.az}'",
            "sourceAddress": "UseNodeIP",
        },
    }
    return Manifest(f"bgp-peer-{router.az}", body, after=("bgp-configuration",))


def _gateway_api(plan: Plan, azs: list[str]) -> Manifest:
    """The operator's GatewayAPI: one DaemonSet GatewayClass per AZ, on its ingress nodes only."""
    cluster = plan.cluster
    classes = [
        {
            "name": gateway_class(cluster, az),
            "gatewayKind": "DaemonSet",
            "gatewayDaemonSet": {
                "spec": {"template": {"spec": {"nodeSelector": _ingress_selector(az)}}}
            },
            "gatewayService": {"spec": {"allocateLoadBalancerNodePorts": False}},
        }
        for az in azs
    ]
    body = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "GatewayAPI",
        "metadata": _meta(GATEWAY_API_NAME),
        "spec": {"crdManagement": "PreferExisting", "gatewayClasses": classes},
    }
    return Manifest("gateway-api", body, after=("calico-operator",))


def _ingress_selector(az: str) -> dict[str, str]:
    return {"kubernetes.io/os": "linux", ROLE_LABEL: "ingress", ZONE_LABEL: az}


def _listener(tenant: Tenant, hostname: str, port: int) -> dict[str, Any]:
    protocol = LISTENER_PROTOCOLS.get(port, "HTTP")
    listener: dict[str, Any] = {
        "name": listener_name(tenant.name, hostname, port),
        "hostname": hostname,
        "port": port,
        "protocol": protocol,
        "allowedRoutes": {
            "namespaces": {
                "from": "Selector",
                "selector": {"matchLabels": {NAMESPACE_NAME_LABEL: tenant.name}},
            },
            "kinds": [{"group": GATEWAY_GROUP, "kind": "HTTPRoute"}],
        },
    }
    if protocol == "HTTPS":
        secret = {
            "group": "",
            "kind": "Secret",
            "name": GATEWAY_TLS_SECRET,
            "namespace": tenant.name,
        }
        listener["tls"] = {"mode": "Terminate", "certificateRefs": [secret]}
    return listener


def _gateway(
    plan: Plan, addresses: tuple[IPAddress, ...], listeners: list[dict[str, Any]], owner: bool
) -> Manifest:
    cluster = plan.cluster
    body = {
        "apiVersion": f"{GATEWAY_GROUP}/v1",
        "kind": "Gateway",
        "metadata": _meta(gateway_name(cluster, plan.az), GATEWAY_NAMESPACE, {ZONE_LABEL: plan.az}),
        "spec": {
            "gatewayClassName": gateway_class(cluster, plan.az),
            "addresses": [{"type": "IPAddress", "value": str(a)} for a in addresses],
            "listeners": listeners,
        },
    }
    return Manifest(f"gateway-{plan.az}", body, after=("gateway-api",) if owner else ())


def _tls_grant(tenant: Tenant) -> Manifest:
    """The Gateways (in GATEWAY_NAMESPACE) may read the tenant's TLS Secret, and nothing else."""
    body = {
        "apiVersion": f"{GATEWAY_GROUP}/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": _meta(GATEWAY_TLS_SECRET, tenant.name, {TENANT_LABEL: tenant.name}),
        "spec": {
            "from": [{"group": GATEWAY_GROUP, "kind": "Gateway", "namespace": GATEWAY_NAMESPACE}],
            "to": [{"group": "", "kind": "Secret", "name": GATEWAY_TLS_SECRET}],
        },
    }
    return Manifest(f"referencegrant-{tenant.name}", body, after=(f"namespace-{tenant.name}",))


def _namespace(tenant: Tenant) -> Manifest:
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta(tenant.name, labels={TENANT_LABEL: tenant.name}),
    }
    return Manifest(f"namespace-{tenant.name}", body)


def _policy(tenant: Tenant, name: str, spec: dict[str, Any]) -> Manifest:
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(f"lanes-{name}", tenant.name, {TENANT_LABEL: tenant.name}),
        "spec": spec,
    }
    return Manifest(f"netpol-{tenant.name}-{name}", body, after=(f"namespace-{tenant.name}",))


def _peer(namespace: str, pods: dict[str, str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}},
        "podSelector": {"matchLabels": dict(sorted(pods.items()))},
    }


def _grant_rules(plan: Plan, grant: Grant) -> list[dict[str, Any]]:
    """A network grant: its ranges, on its ports (TCP unless it says), or every port of its
    protocol, or everything. An exposure grant: each consume address on exactly the ports it
    is consumed at there (never one address's port at another: that may be the gateway's SSH)."""
    if grant.exposure is not None:
        return _exposure_rules(exposure_grant_points(plan, grant))
    rule: dict[str, Any] = {
        "to": [{"ipBlock": {"cidr": str(c)}} for c in grant_ranges(plan, grant)]
    }
    if grant.ports:
        protocol = grant.protocol or "TCP"
        rule["ports"] = [{"protocol": protocol, "port": p} for p in sorted(grant.ports)]
    elif grant.protocol is not None:
        rule["ports"] = [{"protocol": grant.protocol}]
    return [rule]


def _exposure_rules(points: list[tuple[IPNetwork, int, str]]) -> list[dict[str, Any]]:
    """One egress rule per set of ports, naming the addresses consumed on exactly that set."""
    ports_at: dict[IPNetwork, set[tuple[str, int]]] = {}
    for cidr, port, protocol in points:
        ports_at.setdefault(cidr, set()).add((protocol, port))
    by_ports: dict[tuple[tuple[str, int], ...], list[IPNetwork]] = {}
    for cidr, ports in sorted(ports_at.items()):
        by_ports.setdefault(tuple(sorted(ports)), []).append(cidr)
    return [
        {
            "to": [{"ipBlock": {"cidr": str(c)}} for c in cidrs],
            "ports": [{"protocol": protocol, "port": port} for protocol, port in ports],
        }
        for ports, cidrs in sorted(by_ports.items(), key=lambda item: (item[1], item[0]))
    ]


def _tenant_policies(plan: Plan, tenant: Tenant) -> list[Manifest]:
    """Default deny both ways; then DNS, the tenant itself, the gateway's proxies (a tenant with
    hostnames), grants."""
    everything: dict[str, Any] = {}
    policies = [
        _policy(
            tenant,
            "default-deny",
            {"podSelector": everything, "policyTypes": ["Ingress", "Egress"]},
        ),
        _policy(
            tenant,
            "allow-dns",
            {
                "podSelector": everything,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [_peer(DNS_NAMESPACE, DNS_POD_LABELS)],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
        _policy(
            tenant,
            "allow-same-tenant",
            {
                "podSelector": everything,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": everything}]}],
                "egress": [{"to": [{"podSelector": everything}]}],
            },
        ),
    ]
    if tenant.hostnames:
        policies.append(
            _policy(
                tenant,
                "allow-from-gateway",
                {
                    "podSelector": everything,
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [_peer(GATEWAY_NAMESPACE, GATEWAY_POD_LABELS)]}],
                },
            )
        )
    if tenant.egress:
        policies.append(
            _policy(
                tenant,
                "allow-egress-grants",
                {
                    "podSelector": everything,
                    "policyTypes": ["Egress"],
                    "egress": [r for g in tenant.egress for r in _grant_rules(plan, g)],
                },
            )
        )
    return policies


def _node_patch(plan: Plan, host: HostPlan) -> Manifest:
    labels = {
        **host.labels,
        ZONE_LABEL: host.az,
        REGION_LABEL: plan.region,
        ROLE_LABEL: host.role,
    }
    body = {"apiVersion": "v1", "kind": "Node", "metadata": _meta(host.name, labels=labels)}
    return Manifest(f"node-{host.name}", body, patch=True)


def _operator_release() -> HelmRelease:
    values = {
        "installation": {"enabled": False},
        "apiServer": {"enabled": False},
        "goldmane": {"enabled": False},
        "whisker": {"enabled": False},
    }
    return HelmRelease("calico-operator", "calico", OPERATOR_NAMESPACE, OPERATOR_CHART, values)


def plan_cluster(plan: Plan) -> ClusterPlan:
    """Everything this stack declares in the cluster; assumes ``rules.checked_plan`` passed."""
    cluster = plan.cluster
    owner = region_owner(plan) == plan.az
    traffic = plan.network(plan.kinds.pods_network)
    storage_net = plan.network(plan.kinds.storage_network)
    assert traffic is not None and storage_net is not None
    pools = carve_pools(cluster, plan.azs)
    storage = storage_net.cidr if cluster.storage == "host-nat" else None
    no_nat = no_nat_ranges(IPNetwork(cluster.pod_cidr), storage)
    autodetect = tuple(b.cidr for b in traffic.blocks())
    ingress = ingress_addresses(plan)
    addresses = tuple(entry.address for _, entry in ingress)
    ports = gateway_ports(plan)
    tenants = sorted(cluster.tenants, key=lambda t: t.name)
    gateway_azs = [az for az in plan.azs if ingress_hosts(plan, az)]
    listeners = [
        _listener(t, hostname, port)
        for t in tenants
        for hostname in sorted(t.hostnames)
        for port in ports
    ]

    manifests: list[Manifest] = []
    releases: list[HelmRelease] = []
    if owner:
        releases.append(_operator_release())
        manifests += [_installation(plan, autodetect), _apiserver()]
        manifests += [_pod_pool(cluster, p) for p in pools]
        manifests += [_no_nat_pool(c) for c in no_nat]
        manifests.append(_bgp_configuration(plan))
        manifests += [_bgp_peer(r) for r in bgp_routers(plan)]
        if gateway_azs:
            manifests.append(_gateway_api(plan, gateway_azs))
        for tenant in tenants:
            manifests += [_namespace(tenant), *_tenant_policies(plan, tenant)]
            if tenant.hostnames and gateway_azs:
                manifests.append(_tls_grant(tenant))
    nodes = sorted((h for h in plan.stack_hosts() if h.role in K8S_ROLES), key=lambda h: h.name)
    manifests += [_node_patch(plan, h) for h in nodes]
    gateway = None
    if addresses and listeners:
        gateway = _gateway(plan, addresses, listeners, owner)
        manifests.append(gateway)
    return ClusterPlan(
        region=plan.region,
        az=plan.az,
        owner=owner,
        pod_cidr=IPNetwork(cluster.pod_cidr),
        service_cidr=IPNetwork(cluster.service_cidr),
        pools=pools,
        no_nat=no_nat,
        autodetect=autodetect,
        ingress_addresses=addresses,
        ingress_ports=ports,
        gateway=gateway.body["metadata"]["name"] if gateway else None,
        listeners=tuple(str(entry["name"]) for entry in listeners) if gateway else (),
        storage=storage,
        manifests=tuple(manifests),
        releases=tuple(releases),
    )
