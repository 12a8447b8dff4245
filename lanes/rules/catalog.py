"""Every rule id a violation can carry, with what it guards: the catalogue the docs and the tests
read. A test fails when a rule module raises an id that is not here, when an id here is raised
nowhere, or when no test names it.
"""

from __future__ import annotations

__all__ = ["RULES"]

RULES: dict[str, str] = {
    # addressing: networks, zones, blocks
    "cidr-boundary": "every prefix sits on its own boundary; never masked",
    "platform-space": "platform networks lie inside 100.64.0.0/10 (RFC 6598)",
    "network-overlap": "platform networks overlap nothing; outside networks only each other",
    "vlan-range": "a network's VLAN id is within 1..4094",
    "vlan-distinct": "no two networks share a VLAN id",
    "az-list": "AZ names are unique and the stack's AZ is one of them",
    "plan-layout": "the networks can be carved at all: blocks for every AZ, zones that fit",
    "zone-outside-parent": "a zone lies inside its network",
    "zone-overlap": "zones of a network are disjoint",
    "zone-order": "a written-out zone CIDR is the one the plan gives it",
    "management-zones": "a zoned network of a kind with fixed zones has them, in order",
    "block-outside-parent": "a block lies inside its zone or network",
    "block-order": "blocks go to the AZs in order; written-out blocks match the plan",
    "block-overlap": "blocks of a zone are disjoint from each other and its reserved space",
    "block-gateway": "a block's gateway is its first usable address",
    "reserved-unused": "reserved zones and blocks hold nothing",
    # the line between the AZ routers
    "line-space": "the line lies in 100.64.0.0/10, apart from every network and range",
    "line-name": "the line's name is not a network's",
    "line-size": "the line holds a router address for every AZ",
    "line-router": "only an AZ's router carries the line",
    "line-missing": "a region with hosts in several AZs joins every such AZ to the line",
    # host addresses
    "host-in-block": "a host's address is a usable address of its AZ block",
    "host-number-same": "a host holds its own number in every platform network",
    "host-az-block": "a host's address lies in the block of its own AZ and zone",
    "address-unique": "no address is held twice",
    # hosts and NICs
    "host-unique": "host names are unique in the region",
    "host-number-unique": "host numbers are unique per AZ",
    "host-az": "a host's AZ is one of the region's",
    "host-zone": "a host sits in management zones that exist and are not reserved",
    "host-network": "a host carries only known networks and holds an address in each outside one",
    "nic-layout": "one NIC per network, devices used once, untagged NICs carry one network",
    "nic-device-clash": "no two NICs of a host make the same device (eno1.100 twice)",
    "nic-mac-unique": "a MAC address belongs to one NIC in the region",
    "nic-shared": "only traffic and storage may share a NIC",
    "nic-three-networks": "management, traffic and storage never share one NIC",
    "nic-vlan-missing": "a network sharing a NIC has a VLAN id",
    "nic-vlan-distinct": "networks on one NIC use distinct VLAN ids",
    "nic-vlan-range": "a rendered VLAN device's id is within 1..4094",
    "nic-mtu": "a NIC's MTU fits every network it carries",
    "bond-members": "an active-backup bond has two members or more and its primary among them",
    "kubelet-node-ip": "a Kubernetes node's kubelet binds its management (k8s-nodes) address",
    "ssh-host-key": "every host the stack provisions, and the jump host, has a pinned key",
    "ssh-address": "every host the stack provisions can be reached over SSH",
    "connection-host-key": "every SSH connection a resource makes pins the key it accepts",
    # gateways
    "gateway-ref": "gateways name hosts and networks that exist, with the role they need",
    "gateway-address": "a gateway translates to and listens on addresses its host holds",
    "gateway-listener": "no two intents of a gateway answer the same address and port",
    "gateway-map-conflict": "no nft map key of a gateway has two values",
    "gateway-snat-exempt": "SNAT toward an outside network never translates 100.64.0.0/10",
    "gateway-snat-order": "the specific SNAT steps come before the general egress SNAT",
    "gateway-intent": "an intent's addresses make sense together (front, balancer, targets)",
    # the cluster
    "cluster-boundary": "pod and service ranges sit on their boundary",
    "cluster-space": "pod and service ranges lie inside 100.64.0.0/10",
    "cluster-overlap": "pod and service ranges overlap no network and no CNI-internal range",
    "cluster-pools": "the pod range holds a pool for every AZ, and pools hold Calico blocks",
    "cluster-region-az": "the AZ owning the region-wide objects is one of the region's",
    "cluster-tenant": "tenant names are unique and no system namespace",
    "cluster-grant": "a tenant is granted only exposure networks and zones, never the nodes'",
    "cluster-gateway-address": "an ingress node carries the traffic network the Gateway listens on",
    "cluster-hostname": "a tenant's hostnames are its own, and the Gateway can hold them",
    "gateway-listener-scope": "a Gateway listener admits one tenant's routes and certificate",
    "pool-overlap": "declared pod pools overlap no network and no other pool",
    "cni-autodetect": "Calico finds node addresses in the traffic blocks only",
    "bgp-import": "an AZ router's BGP imports pod prefixes only, from nodes' traffic addresses",
    "tenant-default-deny": "every tenant namespace denies all traffic by default",
    # the rendered Kubernetes objects, against the API server's own limits
    "k8s-name": "every name, namespace and label lanes renders is within Kubernetes' limits, and "
    "a name Envoy Gateway makes a label of fits a label value",
    "gateway-listener-name": "a Gateway's listener names are unique and Gateway API SectionNames "
    "(a DNS subdomain of at most 253 characters)",
    "gateway-addresses": "an AZ's Gateway lists at most 16 addresses (its ingress nodes)",
    "hostname-dns": "every hostname is a DNS name: labels of 1 to 63 characters, 253 in all",
    "calico-as-number": "a BGP AS number fits Calico's asNumber (int32 in its CRDs)",
}
