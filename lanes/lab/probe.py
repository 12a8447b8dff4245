"""Probes with real TCP: a peer server that says whom it sees, and a client that asks it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lanes.lab.netns import LabError, NsHost

__all__ = ["PEER", "Ask", "serve", "seen", "seen_many"]

PEER = Path(__file__).with_name("peer_server.py")

_PROBE = r"""
import socket, sys
address, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    s = socket.create_connection((address, port), timeout=float(sys.argv[4]))
    s.settimeout(float(sys.argv[4]))
    if mode == "http":
        s.sendall(b"GET / HTTP/1.0\r\nHost: lanes\r\n\r\n")
    data = b""
    while chunk := s.recv(4096):
        data += chunk
except OSError as exc:
    print(f"error {exc}", file=sys.stderr)
    sys.exit(1)
text = data.decode()
print(text.split("\r\n\r\n", 1)[1] if mode == "http" else text, end="")
"""


# The same probe for many targets at once, one process per source namespace: a thread per
# target, so a lab of hundreds of cells costs a process per namespace, not per cell.
# Mode "connect": a connection is the answer (the service is not a probe server, e.g. sshd).
_BATCH = r"""
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
def ask(item):
    address, port, mode, timeout = item
    try:
        s = socket.create_connection((address, port), timeout=timeout)
        if mode == "connect":
            s.close()
            return "connected"
        s.settimeout(timeout)
        if mode == "http":
            s.sendall(b"GET / HTTP/1.0\r\nHost: lanes\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        s.close()
    except OSError:
        return None
    text = data.decode(errors="replace")
    return (text.split("\r\n\r\n", 1)[1] if mode == "http" else text).strip()
items = json.load(sys.stdin)
with ThreadPoolExecutor(max_workers=max(1, min(int(sys.argv[1]), len(items)))) as pool:
    print(json.dumps(list(pool.map(ask, items))))
"""
BATCH_THREADS = 64

Ask = tuple[str, int, str, float]  # address, port, mode (tcp, http, connect), timeout


def serve(host: NsHost, name: str, address: str, port: int, mode: str = "tcp") -> None:
    """A peer server answering ``<name> <client address>`` (http: plus X-Forwarded-For).

    ``address`` 0.0.0.0 listens on every address of the namespace; the wait then uses loopback.
    """
    host.spawn([sys.executable, str(PEER), name, address, str(port), mode])
    host.tcp_wait("127.0.0.1" if address == "0.0.0.0" else address, port)


def seen(
    client: NsHost, address: str, port: int, mode: str = "tcp", timeout: float = 1.0
) -> str | None:
    """What the server at address:port says about the connection, or None when none is made."""
    proc = client.run(
        [sys.executable, "-c", _PROBE, address, str(port), mode, str(timeout)],
        check=False,
        timeout=timeout + 20,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def seen_many(client: NsHost, asks: list[Ask]) -> list[str | None]:
    """``seen`` for every (address, port, mode, timeout) at once, from one process in ``client``;
    answers in the order asked ("connected" for mode "connect")."""
    if not asks:
        return []
    rounds = len(asks) // BATCH_THREADS + 1
    proc = client.run(
        [sys.executable, "-c", _BATCH, str(BATCH_THREADS)],
        input=json.dumps([list(a) for a in asks]),
        check=False,
        timeout=max(a[3] for a in asks) * rounds + 30,
    )
    if proc.returncode != 0:
        raise LabError(f"{client.ns}: probe failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)
