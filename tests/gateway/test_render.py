"""Rendered gateway files: golden, deterministic, and accepted by the real tools (nft -c, nginx -t, sh -n)."""

import random
import shlex
import shutil
import subprocess

import pytest

from lanes.config import parse_stack_config
from lanes.intents.gateway import GatewayError, GatewayPaths, derive_gateways
from lanes.model.plan import plan_region
from lanes.render.gateway_scripts import render_gateway
from lanes.render.nftables import render_ruleset
from lanes.render.nginx import render_nginx
from tests.gateway.support import models_of, plan_of
from tests.gateway.test_netns_vpc import add_vpc3, use_nginx
from tests.support.golden import assert_golden
from tests.support.pulumi_run import stack_values

STACKS = {"dev": ["lab-router"], "prod": ["edge", "sso", "vpc-1-nat", "vpc-2-nat"]}
CASES = [(stack, name) for stack, names in STACKS.items() for name in names]


def nft_check(ruleset: str, tmp_path) -> subprocess.CompletedProcess:
    """``nft -c`` in a throwaway network namespace: the kernel checks, nothing is loaded."""
    path = tmp_path / "check.nft"
    path.write_text(ruleset)
    return subprocess.run(
        ["unshare", "--net", "nft", "-c", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def nginx_test(
    conf: str, paths: GatewayPaths, tmp_path, listen: list[str]
) -> subprocess.CompletedProcess:
    """``nginx -t`` (which binds) in a throwaway network namespace holding the listen addresses."""
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    prefix = paths.nginx_prefix
    subprocess.run(["mkdir", "-p", prefix], check=True)
    setup = ["ip link set lo up", *(f"ip addr add {a}/32 dev lo" for a in listen)]
    nginx = shlex.join(
        ["nginx", "-t", "-q", "-p", prefix + "/", "-c", str(path), "-e", paths.nginx_error_log]
    )
    return subprocess.run(
        ["unshare", "--net", "sh", "-ec", "; ".join([*setup, nginx])],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(("stack", "name"), CASES)
def test_gateway_files_match_golden(stack, name):
    files = render_gateway(models_of(plan_of(stack))[name])
    assert_golden(f"gateway/{stack}/{name}.nft", files.ruleset)
    assert_golden(f"gateway/{stack}/{name}.apply.sh", files.apply)
    assert_golden(f"gateway/{stack}/{name}.delete.sh", files.delete)
    # The component's one step and its delete: the pieces above, in a subshell each.
    assert_golden(f"gateway/{stack}/{name}.provision.sh", files.provision)
    assert_golden(f"gateway/{stack}/{name}.remove.sh", files.remove)
    for script in (files.provision, files.remove):
        proc = subprocess.run(["dash", "-n"], input=script, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    if files.nginx is not None:
        assert_golden(f"gateway/{stack}/{name}.nginx.conf", files.nginx)


@pytest.mark.parametrize(
    ("stack", "edit"), [("dev", None), ("prod", None), ("prod", add_vpc3), ("prod", use_nginx)]
)
def test_every_rendered_ruleset_passes_nft_check(stack, edit, tmp_path):
    for model in models_of(plan_of(stack, edit)).values():
        result = nft_check(render_ruleset(model), tmp_path)
        assert result.returncode == 0, f"{model.name}: {result.stderr}"


def test_nft_check_catches_a_broken_ruleset(tmp_path):
    ruleset = render_ruleset(models_of(plan_of("dev"))["lab-router"])
    broken = ruleset.replace("snat ip to 192.168.0.51", "snat ip to 192.168.0.")
    assert broken != ruleset
    assert nft_check(broken, tmp_path).returncode != 0


@pytest.mark.parametrize(("stack", "edit"), [("prod", None), ("prod", use_nginx)])
def test_every_nginx_config_passes_nginx_t(stack, edit, tmp_path):
    paths = GatewayPaths(str(tmp_path / "root"))
    models = [m for m in models_of(plan_of(stack, edit)).values() if m.proxies]
    assert models, "no proxies rendered"
    for model in models:
        conf = render_nginx(model, paths)
        listen = sorted({str(p.listen) for p in model.proxies})
        result = nginx_test(conf, paths, tmp_path, listen)
        assert result.returncode == 0, f"{model.name}: {result.stderr}"
        broken = conf.replace("proxy_pass ", "proxy_pas ", 1)
        assert nginx_test(broken, paths, tmp_path, listen).returncode != 0
        # The bind addresses are checked too: without them nginx -t fails.
        assert nginx_test(conf, paths, tmp_path, []).returncode != 0


def test_http_proxies_set_their_temp_paths_under_the_root():
    paths = GatewayPaths("/srv/gw")
    conf = render_nginx(models_of(plan_of("prod", use_nginx))["vpc-2-nat"], paths)
    assert conf is not None
    assert "proxy_temp_path /srv/gw/var/lib/lanes/gateway/nginx/proxy;" in conf
    assert "listen 100.127.0.202:80;" in conf and "proxy_bind 192.168.0.200;" in conf
    assert "load_module" not in conf  # http only: no stream module needed
    assert "/var/lib/nginx" not in conf and "/var/log" not in conf


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_scripts_are_posix_sh(stack):
    shells = [s for s in ("sh", "dash", "bash") if shutil.which(s)]
    for model in models_of(plan_of(stack)).values():
        files = render_gateway(model)
        for script in (files.prepare, files.apply, files.delete):
            for shell in shells:
                result = subprocess.run([shell, "-n"], input=script, capture_output=True, text=True)
                assert result.returncode == 0, f"{shell}: {result.stderr}"
            assert "set -eu" in script.splitlines()[:2]


def test_script_values_are_quoted():
    model = models_of(plan_of("dev"))["lab-router"]
    files = render_gateway(model, GatewayPaths("/srv/a-b.c_d"))
    assert "ruleset=/srv/a-b.c_d/etc/lanes/gateway/lanes.nft" in files.apply
    # Only plain absolute paths are accepted as roots: nginx.conf cannot quote the others.
    for root in ("relative", "/srv/a b", "/srv/$(reboot)", "/srv/a'b", "/srv/a;b"):
        with pytest.raises(GatewayError, match="root: .* is not an absolute path"):
            GatewayPaths(root)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_same_config_in_any_order_renders_byte_identical(stack):
    values = stack_values(stack)
    rng = random.Random(4)
    for _ in range(3):
        shuffled = dict(values)
        shuffled["hosts"] = rng.sample(values["hosts"], len(values["hosts"]))
        shuffled["gateways"] = [
            {key: rng.sample(v, len(v)) if isinstance(v, list) else v for key, v in gw.items()}
            for gw in rng.sample(values["gateways"], len(values["gateways"]))
        ]
        # Egress steps keep their written order (it is the rule order); one per gateway here.
        want = {m.name: render_gateway(m) for m in derive_gateways(plan_of(stack))}
        got = {
            m.name: render_gateway(m)
            for m in derive_gateways(plan_region(parse_stack_config(shuffled)))
        }
        assert got == want
