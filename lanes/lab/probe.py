"""Probes with real TCP: a peer server that says whom it sees, and a client that asks it."""

from __future__ import annotations

import sys
from pathlib import Path

from lanes.lab.netns import NsHost

__all__ = ["PEER", "serve", "seen"]

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
