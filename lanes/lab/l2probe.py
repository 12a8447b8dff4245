"""Layer-2 probes: an ARP request on a device, a broadcast datagram on a segment.

The ``arp`` cells send a raw ARP request (AF_PACKET) from the sender's device and address and
answer ``<address> is-at <mac>`` when the asked address replies; the ``broadcast`` cells start a
UDP listener in every target, send a datagram to 255.255.255.255 bound to the sender's device,
and answer ``<target> <source address>`` for the targets that heard it. One process per sender
(ARP) and per namespace (broadcast), all side by side.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from lanes.lab.netns import LabError, NsHost
from lanes.model.flows import Flow

__all__ = ["probe_l2", "ARP_TIMEOUT", "HEAR_TIME"]

ARP_TIMEOUT = 1.0
HEAR_TIME = 0.3  # how long listeners keep reading once the senders are done

_ARP = r"""
import json, socket, struct, sys, time
asks, timeout = json.load(sys.stdin), float(sys.argv[1])
socks, answers = {}, [None] * len(asks)
def ip(a): return socket.inet_aton(a)
for device, sender, target in asks:
    if device not in socks:
        s = socks[device] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
        s.bind((device, 0x0806))
        s.setblocking(False)
    s = socks[device]
    mac = s.getsockname()[4]
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, ip(sender), b"\0" * 6, ip(target))
    s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
end = time.monotonic() + timeout
while time.monotonic() < end and None in answers:
    for device, s in socks.items():
        try:
            frame = s.recv(2048)
        except BlockingIOError:
            continue
        op, sha, spa, tha, tpa = struct.unpack("!6xH6s4s6s4s", frame[14:42])
        for i, (d, sender, target) in enumerate(asks):
            if d == device and op == 2 and spa == ip(target) and tpa == ip(sender):
                answers[i] = f"{target} is-at {sha.hex(':')}"
    time.sleep(0.01)
print(json.dumps(answers))
"""

_LISTEN = r"""
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(0.05)
print("ready", flush=True)
sys.stdin.readline()  # the senders are done: listen a little longer
heard, end = set(), time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        data, (source, _) = s.recvfrom(2048)
    except socket.timeout:
        continue
    heard.add((data.decode(errors="replace"), source))
print(json.dumps(sorted(heard)))
"""

_SEND = r"""
import json, socket, sys, time
for device, source, port, token in json.load(sys.stdin):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    s.bind((source, 0))
    for _ in range(3):
        s.sendto(token.encode(), ("255.255.255.255", port))
        time.sleep(0.02)
    s.close()
"""


def _token(flow: Flow) -> str:
    return f"{flow.source} {flow.network}"


def _leaves(flow: Flow) -> tuple[str, str]:
    """The device and address an L2 cell's request or broadcast leaves from."""
    assert flow.l2 is not None  # every arp and broadcast cell names them (lanes.lab.crossaz)
    return flow.l2


def _arp(lab, source: str, flows: list[Flow]) -> list[str | None]:
    asks = [[*_leaves(f), f.address] for f in flows]
    proc = NsHost(lab, source).run(
        [sys.executable, "-c", _ARP, str(ARP_TIMEOUT)],
        input=json.dumps(asks),
        check=False,
        timeout=ARP_TIMEOUT + 20,
    )
    if proc.returncode != 0:
        raise LabError(f"{lab.prefix}{source}: arp probe failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def _broadcast(lab, flows: list[Flow]) -> dict[Flow, str | None]:
    if not flows:
        return {}
    listeners = {}
    try:
        for target in sorted({f.target for f in flows}):
            argv = NsHost(lab, target).argv(
                [sys.executable, "-c", _LISTEN, str(flows[0].port), str(HEAR_TIME)]
            )
            listeners[target] = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        for target, proc in listeners.items():
            assert proc.stdout is not None  # stdout=PIPE
            if proc.stdout.readline().strip() != "ready":
                raise LabError(f"{lab.prefix}{target}: the broadcast listener did not start")
        senders: dict[str, list] = {}
        for f in flows:
            sends = senders.setdefault(f.source, [])
            item = [*_leaves(f), f.port, _token(f)]
            if item not in sends:
                sends.append(item)
        for source, sends in senders.items():
            NsHost(lab, source).run([sys.executable, "-c", _SEND], input=json.dumps(sends))
        heard = {}
        for target, proc in listeners.items():
            out, _ = proc.communicate("done\n", timeout=HEAR_TIME + 20)
            heard[target] = {token: source for token, source in json.loads(out)}
    finally:
        for proc in listeners.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {
        f: (f"{f.target} {heard[f.target][_token(f)]}" if _token(f) in heard[f.target] else None)
        for f in flows
    }


def probe_l2(lab, flows: list[Flow], workers: int = 8) -> list[str | None]:
    """The answer of every ARP and broadcast cell (None: no reply, not heard), in flow order."""
    by_source: dict[str, list[Flow]] = {}
    for f in flows:
        if f.kind == "arp":
            by_source.setdefault(f.source, []).append(f)
    answers: dict[Flow, str | None] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sources = sorted(by_source)
        got = pool.map(lambda s: _arp(lab, s, by_source[s]), sources)
        for source, said in zip(sources, got, strict=True):
            answers.update(zip(by_source[source], said, strict=True))
    answers |= _broadcast(lab, [f for f in flows if f.kind == "broadcast"])
    return [answers[f] for f in flows]
