"""Benchmark: per-connection cost through a gateway with 10 and with 10,000 exposures, and the
time to check and load the 10,000-exposure ruleset. Prints figures; it is not a timed test.

Target (issue 4): the two per-connection costs within 10% of each other (every exposure is an
element of one nft map, so a packet costs the same lookups however many there are). Needs
root (network namespaces). Run: ``.venv/bin/python benchmarks/gateway_exposures.py
[--connections N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lanes.config import parse_stack_config  # noqa: E402
from lanes.intents.gateway import derive_gateways  # noqa: E402
from lanes.lab.netns import NetLab, NsHost  # noqa: E402
from lanes.render.nftables import render_ruleset  # noqa: E402
from lanes.rules import checked_plan  # noqa: E402
from tests.support.stacks import read_stack_values  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIRST_PORT = 10000
MEASURED_PORT = FIRST_PORT + 7  # an exposure present in both rulesets

# Accepts, answers one byte, closes: the server adds as little as it can per connection.
SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1024)
while True:
    c, _ = s.accept(); c.sendall(b"x"); c.close()
"""

# N sequential connections; prints the mean microseconds per connection.
CLIENT = r"""
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(50):
    socket.create_connection((host, port)).recv(1)
start = time.perf_counter()
for _ in range(n):
    c = socket.create_connection((host, port)); c.recv(1); c.close()
print((time.perf_counter() - start) / n * 1e6)
"""


def ruleset(exposures: int) -> str:
    """vpc-1-nat of the prod stack consuming ``exposures`` ports of the vpc-2 publisher."""
    values = copy.deepcopy(read_stack_values(ROOT, "prod"))
    gw = next(g for g in values["gateways"] if g["name"] == "vpc-1-nat")
    gw["consume"] = [
        {
            "name": f"svc-{i}",
            "network": "vpc-1",
            "at": "192.168.0.200",
            "target": "100.127.0.202",
            "port": FIRST_PORT + i,
        }
        for i in range(exposures)
    ]
    # Each consume calls something vpc-2-nat publishes (a consume of nothing is refused).
    publisher = next(g for g in values["gateways"] if g["name"] == "vpc-2-nat")
    template = publisher["publish"][0]
    publisher["publish"] = [
        {**template, "name": f"svc-{i}", "port": FIRST_PORT + i} for i in range(exposures)
    ]
    started = time.perf_counter()
    report = checked_plan(parse_stack_config(values))
    assert report.ok, report.violations[:3]
    model = next(m for m in derive_gateways(report.plan) if m.name == "vpc-1-nat")
    text = render_ruleset(model)
    print(
        f"  {exposures:>6} exposures: checked, derived and rendered in "
        f"{time.perf_counter() - started:.2f} s ({len(text) / 1024:.0f} KiB)"
    )
    return text


def timed(host: NsHost, argv: list[str], stdin: str) -> float:
    started = time.perf_counter()
    host.run(argv, input=stdin, timeout=300)
    return time.perf_counter() - started


def per_connection(client: NsHost, connections: int) -> float:
    out = client.run(
        [sys.executable, "-c", CLIENT, "192.168.0.200", str(MEASURED_PORT), str(connections)],
        timeout=600,
    ).stdout
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print("rendering:")
    files = {n: ruleset(n) for n in (10, 10_000)}
    with NetLab() as lab:
        vpc1, adjacency = lab.segment("vpc-1"), lab.segment("adjacency")
        gw, client, server = lab.host("gw"), lab.host("client"), lab.host("server")
        lab.link(gw, vpc1, "ens1f0.601", ["192.168.0.200/24"])
        lab.link(gw, adjacency, "ens1f0.400", ["100.127.0.201/20"])
        lab.link(client, vpc1, "eth0", ["192.168.0.100/24"])
        lab.link(server, adjacency, "eth0", ["100.127.0.202/20"])
        gw.enable_forwarding()
        server.spawn([sys.executable, "-c", SERVER, "100.127.0.202", str(MEASURED_PORT)])
        server.tcp_wait("100.127.0.202", MEASURED_PORT)

        check_s = timed(gw, ["nft", "-c", "-f", "-"], files[10_000])
        load_s = timed(gw, ["nft", "-f", "-"], files[10_000])
        reload_s = timed(gw, ["nft", "-f", "-"], files[10_000])
        print(
            f"10,000-exposure ruleset: nft -c {check_s:.2f} s, first load {load_s:.2f} s, "
            f"replace {reload_s:.2f} s"
        )

        costs: dict[int, list[float]] = {10: [], 10_000: []}
        for _ in range(args.rounds):  # alternate, so drift hits both sizes alike
            for n in (10, 10_000):
                gw.run(["nft", "-f", "-"], input=files[n], timeout=300)
                costs[n].append(per_connection(client, args.connections))
        print(
            f"per connection ({args.rounds} alternating rounds x {args.connections} connections; "
            "best round = least disturbed by other load):"
        )
        for n in (10, 10_000):
            rounds = ", ".join(f"{c:.0f}" for c in costs[n])
            print(
                f"  {n:>6} exposures: best {min(costs[n]):.1f} us, median "
                f"{statistics.median(costs[n]):.1f} us  (rounds: {rounds})"
            )
        for what, pick in (("best", min), ("median", statistics.median)):
            small, large = pick(costs[10]), pick(costs[10_000])
            diff = (large - small) / small * 100
            verdict = "ok" if abs(diff) <= 10 else "MISSED"
            print(f"difference ({what}): {diff:+.1f}% (target: within 10%) -> {verdict}")


if __name__ == "__main__":
    main()
