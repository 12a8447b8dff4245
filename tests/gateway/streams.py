"""A long-lived TCP stream through a gateway, to see whether a change drops it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from lanes.lab.netns import NsHost

__all__ = ["ECHO", "Stream", "start_echo"]

# Echoes every byte back, one thread per connection.
ECHO = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
def echo(c):
    while True:
        d = c.recv(4096)
        if not d:
            return
        c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
"""

# One byte out and back every 20 ms for N seconds on one connection; the longest wait for an
# echo is what a disturbance costs.
CLIENT = r"""
import socket, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port), timeout=5)
s.settimeout(10)
print("connected", flush=True)
sent = got = 0; worst = 0.0; end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic()
    try:
        s.sendall(b"x"); sent += 1
        if s.recv(1) != b"x":
            print(f"closed {sent} {got} {worst:.3f}", flush=True); sys.exit(1)
    except OSError as e:
        print(f"error {e} {sent} {got} {worst:.3f}", flush=True); sys.exit(1)
    got += 1; worst = max(worst, time.monotonic() - t)
    time.sleep(0.02)
print(f"ok {sent} {got} {worst:.3f}", flush=True)
"""


def start_echo(host: NsHost, address: str, port: int) -> None:
    host.spawn([sys.executable, "-c", ECHO, address, str(port)])
    host.tcp_wait(address, port)


@dataclass
class Result:
    ok: bool
    sent: int
    echoed: int
    worst: float
    line: str


class Stream:
    """A client stream in ``host`` to address:port for ``seconds``; ``result()`` waits."""

    def __init__(self, host: NsHost, address: str, port: int, seconds: float):
        argv = host.argv([sys.executable, "-c", CLIENT, address, str(port), str(seconds)])
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        assert first == "connected", first

    def result(self) -> Result:
        out, _ = self.proc.communicate(timeout=120)
        line = out.strip().splitlines()[-1] if out.strip() else "no output"
        parts = line.split()
        if parts[0] != "ok":
            return Result(False, 0, 0, 0.0, line)
        return Result(
            self.proc.returncode == 0, int(parts[1]), int(parts[2]), float(parts[3]), line
        )
