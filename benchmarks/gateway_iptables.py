"""Benchmark: the source documents' iptables rule pairs against lanes' nft maps, in one run.

The same 1:1 mappings (vpc-1-nat of the prod stack consuming N ports of the vpc-2 publisher, as
in ``gateway_exposures.py``) written two ways: as seeds 000/001 write them, one iptables DNAT
rule in PREROUTING and one SNAT rule in POSTROUTING per mapping (``iptables-restore``), and as
lanes renders them, one element of an nft map each (``nft -f``). For 10 and 10,000 mappings it
measures the cost of a new connection through the gateway to the *last* mapping (a rule list is
walked in order; a map is one lookup), and the time to replace the whole 10,000 set. Prints the
figures and the ratios; it is not a timed test. Needs root (network namespaces).
Run: ``.venv/bin/python benchmarks/gateway_iptables.py [--connections N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.gateway_exposures import CLIENT, FIRST_PORT, SERVER, ruleset  # noqa: E402
from lanes.lab.netns import NetLab, NsHost  # noqa: E402

SIZES = (10, 10_000)
AT, TARGET, SOURCE = "192.168.0.200", "100.127.0.202", "100.127.0.201"
DROP_LANES = "table ip lanes\ndelete table ip lanes\n"
EMPTY_NAT = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n"


def iptables_rules(mappings: int) -> str:
    """``iptables-restore`` input: one DNAT and one SNAT rule per mapping, in mapping order."""
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    for i in range(mappings):
        port = FIRST_PORT + i
        lines.append(
            f"-A PREROUTING -d {AT}/32 -p tcp -m tcp --dport {port} "
            f"-j DNAT --to-destination {TARGET}:{port}"
        )
        lines.append(
            f"-A POSTROUTING -d {TARGET}/32 -p tcp -m tcp --dport {port} -j SNAT --to-source {SOURCE}"
        )
    return "\n".join([*lines, "COMMIT", ""])


def timed(host: NsHost, argv: list[str], stdin: str) -> float:
    started = time.perf_counter()
    host.run(argv, input=stdin, timeout=600)
    return time.perf_counter() - started


def load(gw: NsHost, mechanism: str, text: str) -> None:
    """Only one mechanism holds the mappings at a time."""
    if mechanism == "iptables":
        gw.run(["nft", "-f", "-"], input=DROP_LANES)
        gw.run(["iptables-restore"], input=text, timeout=600)
    else:
        gw.run(["iptables-restore"], input=EMPTY_NAT)
        gw.run(["nft", "-f", "-"], input=text, timeout=600)


def per_connection(client: NsHost, port: int, connections: int) -> float:
    out = client.run(
        [sys.executable, "-c", CLIENT, AT, str(port), str(connections)], timeout=600
    ).stdout
    return float(out)


def version() -> str:
    return subprocess.run(["iptables", "-V"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"iptables: {version()}; lanes: nft maps")
    print("rendering:")
    texts = {("nft", n): ruleset(n) for n in SIZES}
    texts |= {("iptables", n): iptables_rules(n) for n in SIZES}
    with NetLab() as lab:
        vpc1, adjacency = lab.segment("vpc-1"), lab.segment("adjacency")
        gw, client, server = lab.host("gw"), lab.host("client"), lab.host("server")
        lab.link(gw, vpc1, "ens1f0.601", [f"{AT}/24"])
        lab.link(gw, adjacency, "ens1f0.400", [f"{SOURCE}/20"])
        lab.link(client, vpc1, "eth0", ["192.168.0.100/24"])
        lab.link(server, adjacency, "eth0", [f"{TARGET}/20"])
        gw.enable_forwarding()
        last = {n: FIRST_PORT + n - 1 for n in SIZES}  # the last mapping of each set
        for port in sorted(set(last.values())):
            server.spawn([sys.executable, "-c", SERVER, TARGET, str(port)])
            server.tcp_wait(TARGET, port)

        replace = {}
        for mechanism, tool in (("iptables", ["iptables-restore"]), ("nft", ["nft", "-f", "-"])):
            load(gw, mechanism, texts[(mechanism, 10_000)])
            # The set is live: replacing it with itself is the whole-set replace an apply does.
            replace[mechanism] = min(timed(gw, tool, texts[(mechanism, 10_000)]) for _ in range(3))
        print(
            f"replace the 10,000-mapping set (best of 3): iptables-restore "
            f"{replace['iptables']:.2f} s, nft -f {replace['nft']:.2f} s"
        )

        costs: dict[tuple[str, int], list[float]] = {k: [] for k in texts}
        for _ in range(args.rounds):  # interleaved, so drift hits every case alike
            for key in sorted(texts):
                load(gw, key[0], texts[key])
                costs[key].append(per_connection(client, last[key[1]], args.connections))
        print(
            f"per new connection to the last mapping ({args.rounds} interleaved rounds x "
            f"{args.connections} connections; best round, median):"
        )
        for key in sorted(texts):
            print(
                f"  {key[0]:>8} {key[1]:>6} mappings: {min(costs[key]):8.1f} us, "
                f"{statistics.median(costs[key]):8.1f} us"
            )
        best = {key: min(values) for key, values in costs.items()}
        print("ratios (best rounds):")
        for mechanism in ("iptables", "nft"):
            growth = best[(mechanism, 10_000)] / best[(mechanism, 10)]
            print(f"  {mechanism:>8}: 10,000 / 10 mappings = {growth:.2f}x")
        for n in SIZES:
            print(
                f"  {n:>6} mappings: iptables / nft = {best[('iptables', n)] / best[('nft', n)]:.2f}x"
            )
        print(f"  replace: iptables-restore / nft -f = {replace['iptables'] / replace['nft']:.2f}x")


if __name__ == "__main__":
    main()
