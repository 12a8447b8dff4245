"""Every rule id a violation can carry, with what it guards: the catalogue the docs and the tests
read. A test fails when an id here is raised nowhere, or when no test names it.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RuleId"]


class RuleId(StrEnum):
    """A rule: its value is the id users see (``[cidr-boundary]``), ``guards`` what it keeps."""

    guards: str

    def __new__(cls, value: str, guards: str) -> RuleId:
        member = str.__new__(cls, value)
        member._value_ = value
        member.guards = guards
        return member

    # addressing: networks, zones, blocks
    CIDR_BOUNDARY = "cidr-boundary", "every prefix sits on its own boundary; never masked"
    PLATFORM_SPACE = "platform-space", "platform networks lie inside 100.64.0.0/10 (RFC 6598)"
    NETWORK_OVERLAP = (
        "network-overlap",
        "platform networks overlap nothing; outside networks only each other",
    )
    VLAN_RANGE = "vlan-range", "a network's VLAN id is within 1..4094"
    VLAN_DISTINCT = "vlan-distinct", "no two networks share a VLAN id"
    AZ_LIST = "az-list", "AZ names are unique and the stack's AZ is one of them"
    PLAN_LAYOUT = (
        "plan-layout",
        "the networks can be carved at all: blocks for every AZ, zones that fit",
    )
    ZONE_OUTSIDE_PARENT = "zone-outside-parent", "a zone lies inside its network"
    ZONE_OVERLAP = "zone-overlap", "zones of a network are disjoint"
    ZONE_ORDER = "zone-order", "a written-out zone CIDR is the one the plan gives it"
    MANAGEMENT_ZONES = (
        "management-zones",
        "a zoned network of a kind with fixed zones has them, in order",
    )
    BLOCK_OUTSIDE_PARENT = "block-outside-parent", "a block lies inside its zone or network"
    BLOCK_ORDER = "block-order", "blocks go to the AZs in order; written-out blocks match the plan"
    BLOCK_OVERLAP = (
        "block-overlap",
        "blocks of a zone are disjoint from each other and its reserved space",
    )
    BLOCK_GATEWAY = "block-gateway", "a block's gateway is its first usable address"
    RESERVED_UNUSED = "reserved-unused", "reserved zones and blocks hold nothing"
    # the line between the AZ routers
    LINE_SPACE = "line-space", "the line lies in 100.64.0.0/10, apart from every network and range"
    LINE_NAME = "line-name", "the line's name is not a network's"
    LINE_SIZE = "line-size", "the line holds a router address for every AZ"
    LINE_ROUTER = "line-router", "only an AZ's router carries the line"
    LINE_MISSING = (
        "line-missing",
        "a region with hosts in several AZs joins every such AZ to the line",
    )
    # host addresses
    HOST_IN_BLOCK = "host-in-block", "a host's address is a usable address of its AZ block"
    HOST_NUMBER_SAME = "host-number-same", "a host holds its own number in every platform network"
    HOST_AZ_BLOCK = "host-az-block", "a host's address lies in the block of its own AZ and zone"
    ADDRESS_UNIQUE = "address-unique", "no address is held twice"
    # lists
    DUPLICATE_ENTRY = (
        "duplicate-entry",
        "a list names each entry once: a network, zone, address, port, hostname, grant or name "
        "given twice is refused, naming both",
    )
    # hosts and NICs
    HOST_UNIQUE = "host-unique", "host names are unique in the region"
    HOST_NUMBER_UNIQUE = "host-number-unique", "host numbers are unique per AZ"
    HOST_AZ = "host-az", "a host's AZ is one of the region's"
    HOST_ZONE = "host-zone", "a host sits in management zones that exist and are not reserved"
    HOST_NETWORK = (
        "host-network",
        "a host carries only known networks and holds an address in each outside one",
    )
    NIC_LAYOUT = (
        "nic-layout",
        "one NIC per network, devices used once, untagged NICs carry one network",
    )
    NIC_DEVICE_CLASH = (
        "nic-device-clash",
        "no two NICs of a host make the same device (eno1.100 twice)",
    )
    NIC_MAC_UNIQUE = "nic-mac-unique", "a MAC address belongs to one NIC in the region"
    NIC_SHARED = "nic-shared", "only traffic and storage may share a NIC"
    NIC_THREE_NETWORKS = "nic-three-networks", "management, traffic and storage never share one NIC"
    NIC_VLAN_MISSING = "nic-vlan-missing", "a network sharing a NIC has a VLAN id"
    NIC_VLAN_DISTINCT = "nic-vlan-distinct", "networks on one NIC use distinct VLAN ids"
    NIC_VLAN_RANGE = "nic-vlan-range", "a rendered VLAN device's id is within 1..4094"
    NIC_MTU = "nic-mtu", "a NIC's MTU fits every network it carries"
    BOND_MEMBERS = (
        "bond-members",
        "an active-backup bond has two members or more and its primary among them",
    )
    KUBELET_NODE_IP = (
        "kubelet-node-ip",
        "a Kubernetes node's kubelet binds its management (k8s-nodes) address",
    )
    SSH_HOST_KEY = (
        "ssh-host-key",
        "every host the stack provisions, and the jump host, has a pinned key",
    )
    SSH_ADDRESS = "ssh-address", "every host the stack provisions can be reached over SSH"
    CONNECTION_HOST_KEY = (
        "connection-host-key",
        "every SSH connection a resource makes pins the key it accepts",
    )
    # gateways
    GATEWAY_REF = (
        "gateway-ref",
        "gateways name hosts and networks that exist, with the role they need",
    )
    GATEWAY_ADDRESS = (
        "gateway-address",
        "a gateway translates to and listens on addresses its host holds",
    )
    GATEWAY_LISTENER = (
        "gateway-listener",
        "no two intents of a gateway answer the same address and port",
    )
    GATEWAY_MAP_CONFLICT = "gateway-map-conflict", "no nft map key of a gateway has two values"
    GATEWAY_SNAT_EXEMPT = (
        "gateway-snat-exempt",
        "SNAT toward an outside network never translates 100.64.0.0/10",
    )
    GATEWAY_SNAT_ORDER = (
        "gateway-snat-order",
        "the specific SNAT steps come before the general egress SNAT",
    )
    GATEWAY_INTENT = (
        "gateway-intent",
        "an intent's addresses make sense together (front, balancer, targets)",
    )
    # the cluster
    CLUSTER_BOUNDARY = "cluster-boundary", "pod and service ranges sit on their boundary"
    CLUSTER_SPACE = "cluster-space", "pod and service ranges lie inside 100.64.0.0/10"
    CLUSTER_OVERLAP = (
        "cluster-overlap",
        "pod and service ranges overlap no network and no CNI-internal range",
    )
    CLUSTER_POOLS = (
        "cluster-pools",
        "the pod range holds a pool for every AZ, and pools hold Calico blocks",
    )
    CLUSTER_REGION_AZ = (
        "cluster-region-az",
        "the AZ owning the region-wide objects is one of the region's",
    )
    CLUSTER_TENANT = "cluster-tenant", "tenant names are unique and no system namespace"
    CLUSTER_GRANT = (
        "cluster-grant",
        "a tenant is granted only exposure networks and zones, never the nodes'",
    )
    GRANT_EXPOSURE = (
        "grant-exposure",
        "an exposure grant opens only the ports and protocol the exposure is consumed at",
    )
    BGP_AS_NUMBER = (
        "bgp-as-number",
        "a BGP AS number is usable: not reserved (RFC 6793, 7300, 7607) nor documentation's",
    )
    CLUSTER_GATEWAY_ADDRESS = (
        "cluster-gateway-address",
        "an ingress node carries the traffic network the Gateway listens on",
    )
    CLUSTER_HOSTNAME = (
        "cluster-hostname",
        "a tenant's hostnames are its own, and the Gateway can hold them",
    )
    GATEWAY_LISTENER_SCOPE = (
        "gateway-listener-scope",
        "a Gateway listener admits one tenant's routes and certificate",
    )
    POOL_OVERLAP = "pool-overlap", "declared pod pools overlap no network and no other pool"
    CNI_AUTODETECT = "cni-autodetect", "Calico finds node addresses in the traffic blocks only"
    BGP_IMPORT = (
        "bgp-import",
        "an AZ router's BGP imports pod prefixes only, from nodes' traffic addresses",
    )
    TENANT_DEFAULT_DENY = (
        "tenant-default-deny",
        "every tenant namespace denies all traffic by default",
    )
    # the rendered Kubernetes objects, against the API server's own limits
    K8S_NAME = (
        "k8s-name",
        "every name, namespace and label lanes renders is within Kubernetes' limits, and a "
        "name Envoy Gateway makes a label of fits a label value",
    )
    GATEWAY_LISTENER_NAME = (
        "gateway-listener-name",
        "a Gateway's listener names are unique and Gateway API SectionNames (a DNS subdomain "
        "of at most 253 characters)",
    )
    GATEWAY_ADDRESSES = (
        "gateway-addresses",
        "an AZ's Gateway lists at most 16 addresses (its ingress nodes)",
    )
    HOSTNAME_DNS = (
        "hostname-dns",
        "every hostname is a DNS name: labels of 1 to 63 characters, 253 in all",
    )
    CALICO_AS_NUMBER = (
        "calico-as-number",
        "a BGP AS number fits Calico's asNumber (int32 in its CRDs)",
    )
