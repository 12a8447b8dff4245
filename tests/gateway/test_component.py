"""EdgeGateway under the SDK's mocks: resource tree, commands, triggers, pinned connections."""

import copy
import json

import pulumi
import pytest

from lanes.render.gateway_scripts import render_gateway
from lanes.render.scripts import sh_command
from tests.gateway.support import models_of, plan_of
from tests.support.pulumi_run import Run, run_program, stack_values

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nlanes-gateway-test-key\n-----END OPENSSH PRIVATE KEY-----\n"
SECRETS = {"sshPrivateKey": KEY}
GATEWAY = "lanes:gateway:EdgeGateway"
COPY = "command:remote:CopyToRemote"
COMMAND = "command:remote:Command"
DEV_JUMP_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILBTKmbLNLhxWzUNPjyXVfx5KzH0YI3gyxc6UMI9SV93"
ROUTER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzriHCz6j971DBwOVqU3wrZpcL0+PjqMrsgOzrDB0kH"


def gateway_tree(run: Run) -> set[tuple[str, str, str]]:
    return {t for t in run.tree() if t[0] == GATEWAY or t[2].startswith(f"{GATEWAY}$")}


def children(name: str, nginx: bool = False) -> set[tuple[str, str, str]]:
    parent = f"{GATEWAY}${name}"
    tree = {
        (GATEWAY, name, ""),
        (COMMAND, f"{name}-prepare", parent),
        (COMMAND, f"{name}-arm", parent),
        (COPY, f"{name}-ruleset", parent),
        (COMMAND, f"{name}-apply", parent),
        (COMMAND, f"{name}-confirm", parent),
    }
    return tree | ({(COPY, f"{name}-nginx", parent)} if nginx else set())


@pytest.fixture(scope="module")
def dev() -> Run:
    return run_program("dev", secrets=SECRETS)


def test_dev_has_the_lab_router(dev):
    assert gateway_tree(dev) == children("lab-router")


def test_prod_has_every_az_1_gateway_and_nginx_only_where_there_are_proxies():
    run = run_program("prod", secrets=SECRETS)
    assert gateway_tree(run) == (
        children("edge")
        | children("sso", nginx=True)
        | children("vpc-1-nat")
        | children("vpc-2-nat")
    )
    files = render_gateway(models_of(plan_of("prod"))["sso"])
    nginx = run.by_name("sso-nginx").inputs
    assert nginx["source"].text == files.nginx
    assert nginx["remotePath"] == "/etc/lanes/gateway/nginx.conf"


def test_apply_runs_the_rendered_scripts_with_content_triggers(dev):
    files = render_gateway(models_of(plan_of("dev"))["lab-router"])
    apply = dev.by_name("lab-router-apply").inputs
    assert apply["create"] == apply["update"] == sh_command(files.apply)
    assert apply["delete"] == sh_command(files.delete)
    hashes = files.hashes()
    assert apply["triggers"] == [hashes[k] for k in ("apply", "delete", "nginx", "ruleset")]
    ruleset = dev.by_name("lab-router-ruleset").inputs
    assert isinstance(ruleset["source"], pulumi.StringAsset)
    assert ruleset["source"].text == files.ruleset
    assert ruleset["remotePath"] == "/etc/lanes/gateway/lanes.nft"
    assert ruleset["triggers"] == [hashes["ruleset"]]
    assert dev.by_name("lab-router-prepare").inputs["create"] == sh_command(files.prepare)


def test_steps_run_in_order(dev):
    urn = {r.name: r.urn for r in dev.resources}
    # The rollback is armed before the copies overwrite the previous ruleset.
    assert urn["lab-router-prepare"] in dev.by_name("lab-router-arm").dependencies
    assert urn["lab-router-arm"] in dev.by_name("lab-router-ruleset").dependencies
    assert urn["lab-router-ruleset"] in dev.by_name("lab-router-apply").dependencies
    assert urn["lab-router-apply"] in dev.by_name("lab-router-confirm").dependencies


def test_the_router_is_reached_directly_and_confirmed_through_its_jump_mapping(dev):
    # The router maps the jump host in: the deploy box reaches it at its own enterprise address
    # (a new site has no other path), and the confirm step through the mapping it just loaded.
    for name in (f"lab-router-{step}" for step in ("prepare", "arm", "ruleset", "apply")):
        connection = dev.by_name(name).inputs["connection"]["value"]
        assert connection["host"] == "192.168.0.51"
        assert connection["hostKey"] == ROUTER_KEY
        assert connection["privateKey"] == KEY
        assert "proxy" not in connection
    confirm = dev.by_name("lab-router-confirm").inputs["connection"]["value"]
    assert confirm["host"] == "100.64.0.1" and confirm["hostKey"] == ROUTER_KEY
    assert confirm["proxy"]["host"] == "192.168.0.52"
    assert confirm["proxy"]["hostKey"] == DEV_JUMP_KEY


def test_props_carry_the_model_and_file_hashes_but_no_secret(dev):
    props = dev.by_name("lab-router").inputs
    model = models_of(plan_of("dev"))["lab-router"]
    assert props["snat"] == json.loads(json.dumps(model.to_dict()["snat"]))
    assert props["files"]["ruleset"]["sha256"] == render_gateway(model).hashes()["ruleset"]
    assert "gateway-test-key" not in json.dumps(props, default=str)


def test_a_change_touches_only_the_gateway_it_concerns():
    values = copy.deepcopy(stack_values("prod"))
    before = run_program("prod", values=values, secrets=SECRETS)
    again = run_program("prod", values=values, secrets=SECRETS)
    next(g for g in values["gateways"] if g["name"] == "edge")["ingress"][0]["ports"] = [80]
    after = run_program("prod", values=values, secrets=SECRETS)

    def triggers(run: Run) -> dict[str, list]:
        names = {f"{n}-apply" for n in ("edge", "sso", "vpc-1-nat", "vpc-2-nat")}
        return {r.name: r.inputs["triggers"] for r in run.of_type(COMMAND) if r.name in names}

    assert triggers(again) == triggers(before)
    changed = {n for n, t in triggers(after).items() if t != triggers(before)[n]}
    assert changed == {"edge-apply"}
