"""Where a tenant's HTTPRoute may attach: the rendered Gateway, routes checked by their CRD."""

from __future__ import annotations

import copy

import pytest

from lanes.render.cluster import plan_cluster
from tests.cluster.conftest import region_plan
from tests.cluster.crd_schema import validate_object
from tests.cluster.routes import attachments

GATEWAY = "lanes-az-1"
WILD_80, WILD_443 = "shop-80-wildcard.shop.example.com", "shop-443-wildcard.shop.example.com"
SHOP_80, SHOP_443 = "shop-80-shop.example.com", "shop-443-shop.example.com"
EVERY_SHOP_LISTENER = [WILD_80, WILD_443, SHOP_80, SHOP_443]


def route(namespace: str, hostnames: list[str] | None = None, **ref: object) -> dict:
    spec: dict = {
        "parentRefs": [{"name": GATEWAY, "namespace": "tigera-gateway", **ref}],
        "rules": [{"backendRefs": [{"name": "web", "port": 8080}]}],
    }
    if hostnames is not None:
        spec["hostnames"] = hostnames
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": spec,
    }


ROUTES = [
    # the tenant's own hostnames, on both ports
    ("shop", ["shop.example.com"], {}, {}, [SHOP_80, SHOP_443]),
    ("shop", ["api.shop.example.com"], {}, {}, [WILD_80, WILD_443]),
    ("shop", None, {}, {}, EVERY_SHOP_LISTENER),
    ("shop", ["shop.example.com"], {"sectionName": SHOP_443}, {}, [SHOP_443]),
    ("shop", ["shop.example.com"], {"port": 80}, {}, [SHOP_80]),
    # a hostname nobody granted the tenant, the wildcard's bare parent
    ("shop", ["evil.example.com"], {}, {}, []),
    ("shop", ["example.com"], {}, {}, []),
    # another tenant, with or without the shop's hostnames, even naming the listener
    ("analytics", ["shop.example.com"], {}, {}, []),
    ("analytics", None, {}, {}, []),
    ("analytics", None, {"sectionName": SHOP_80}, {}, []),
    # a namespace that copies the shop's labels is still not the shop
    ("shop-copy", None, {}, {"lanes.io/tenant": "shop"}, []),
    # the gateway's own namespace gets nothing either (from: Selector, never Same)
    ("tigera-gateway", None, {}, {}, []),
]


def gateways() -> list[dict]:
    return [plan_cluster(region_plan("prod")).manifest("gateway-az-1").body]


@pytest.mark.parametrize(("namespace", "hostnames", "ref", "labels", "want"), ROUTES)
def test_a_route_attaches_where_its_tenants_grants_allow(namespace, hostnames, ref, labels, want):
    body = route(namespace, hostnames, **ref)
    assert validate_object(body)  # the route itself is a valid HTTPRoute
    assert attachments(gateways(), body, labels) == [(GATEWAY, name) for name in want]


def test_without_the_namespace_selector_other_tenants_would_attach():
    # the table is not vacuous: open one listener to every namespace and analytics gets in
    (gateway,) = gateways()
    opened = copy.deepcopy(gateway)
    opened["spec"]["listeners"][2]["allowedRoutes"]["namespaces"] = {"from": "All"}
    found = attachments([opened], route("analytics", ["shop.example.com"]))
    assert found == [(GATEWAY, SHOP_80)]


def test_without_listener_hostnames_a_tenant_would_serve_any_hostname():
    (gateway,) = gateways()
    for listener in gateway["spec"]["listeners"]:
        del listener["hostname"]
    assert attachments([gateway], route("shop", ["evil.example.com"])) == [
        (GATEWAY, name) for name in EVERY_SHOP_LISTENER
    ]


def test_a_route_to_another_gateway_attaches_nowhere():
    body = route("shop", ["shop.example.com"])
    body["spec"]["parentRefs"][0]["name"] = "lanes-az-2"
    assert attachments(gateways(), body) == []
