"""EdgeGateway under the SDK's mocks: resource tree, commands, triggers, pinned connections."""

import copy
import json

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


def children(name: str) -> set[tuple[str, str, str]]:
    """Three resources per gateway: the component, its one apply step and its confirm step."""
    parent = f"{GATEWAY}${name}"
    return {
        (GATEWAY, name, ""),
        (COMMAND, f"{name}-apply", parent),
        (COMMAND, f"{name}-confirm", parent),
    }


@pytest.fixture(scope="module")
def dev() -> Run:
    return run_program("dev", secrets=SECRETS)


def test_dev_has_the_lab_router(dev):
    assert gateway_tree(dev) == children("lab-router")


def test_prod_has_every_az_1_gateway_and_nginx_only_where_there_are_proxies():
    run = run_program("prod", secrets=SECRETS)
    assert gateway_tree(run) == (
        children("edge") | children("sso") | children("vpc-1-nat") | children("vpc-2-nat")
    )
    assert not [r for r in run.resources if r.type == COPY and f"{GATEWAY}$" in r.urn]
    files = render_gateway(models_of(plan_of("prod"))["sso"])
    assert run.by_name("sso-apply").inputs["stdin"] == files.ruleset + files.nginx
    assert run.by_name("sso-confirm").inputs["triggers"][1] == f"nginx={files.hashes()['nginx']}"
    edge = render_gateway(models_of(plan_of("prod"))["edge"])
    assert run.by_name("edge-apply").inputs["stdin"] == edge.ruleset
    assert [t.split("=")[0] for t in run.by_name("edge-confirm").inputs["triggers"]] == [
        "ruleset",
        "step",
    ]


def test_apply_runs_the_rendered_scripts_and_the_confirm_carries_the_hashes(dev):
    files = render_gateway(models_of(plan_of("dev"))["lab-router"])
    apply = dev.by_name("lab-router-apply").inputs
    assert apply["create"] == sh_command(files.provision)
    assert "update" not in apply  # an update runs create again
    assert apply["delete"] == sh_command(files.remove)
    assert apply["stdin"] == files.ruleset == files.stdin
    assert "triggers" not in apply  # a change updates in place
    confirm = dev.by_name("lab-router-confirm").inputs
    assert confirm["triggers"][0] == f"ruleset={files.hashes()['ruleset']}"
    assert confirm["create"] == sh_command(files.confirm)


def test_steps_run_in_order(dev):
    urn = {r.name: r.urn for r in dev.resources}
    assert dev.by_name("lab-router-confirm").dependencies == [urn["lab-router-apply"]]
    # The script arms the rollback before it overwrites the previous ruleset, then applies.
    script = render_gateway(models_of(plan_of("dev"))["lab-router"]).provision
    armed = script.index("armed rollback")
    staged = "/etc/lanes/gateway/lanes.nft.lanes-staged"
    assert armed < script.index(f"else mv -f {staged} /etc/lanes/gateway/lanes.nft; fi\n")
    assert script.index("received content is not sha256") < armed


def test_the_router_is_reached_directly_and_confirmed_through_its_jump_mapping(dev):
    # The router maps the jump host in: the deploy box reaches it at its own enterprise address
    # (a new site has no other path), and the confirm step through the mapping it just loaded.
    connection = dev.by_name("lab-router-apply").inputs["connection"]["value"]
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

    def inputs(run: Run) -> dict[str, str]:
        mine = [r for r in run.resources if r.type == GATEWAY or f"{GATEWAY}$" in r.urn]
        return {r.name: json.dumps(r.inputs, sort_keys=True) for r in mine}

    assert inputs(again) == inputs(before)
    changed = {n for n, t in inputs(after).items() if t != inputs(before)[n]}
    assert changed == {"edge", "edge-apply", "edge-confirm"}
