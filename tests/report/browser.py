"""Headless Debian chromium driven over the Chrome DevTools Protocol (websocket-client).

``open_page(path)`` loads a local file in a fresh profile and returns what a reviewer's
browser saw: console messages, exceptions, every network request the page made, values
evaluated in the page, and screenshots. Never a browser of a tool's own download.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

__all__ = ["CHROMIUM", "Page", "open_page"]

CHROMIUM = "/usr/bin/chromium"
# As root chromium needs --no-sandbox; the rest keeps the browser itself off the network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]
TIMEOUT = 30.0


@dataclass
class Page:
    """One page target; events seen so far are kept per method."""

    ws: websocket.WebSocket
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_id: int = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.setdefault(message["method"], []).append(message.get("params", {}))
        raise TimeoutError(f"{method}: no answer in {TIMEOUT} s")

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while not self.events.get(method):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} in {TIMEOUT} s")
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.setdefault(message["method"], []).append(message.get("params", {}))
        return self.events[method][0]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and the browser log's errors
        (a refused request or a CSP violation lands there)."""
        found = [
            " ".join(str(a.get("value", a.get("description", ""))) for a in e.get("args", []))
            for e in self.events.get("Runtime.consoleAPICalled", [])
            if e.get("type") in ("error", "warning", "assert")
        ]
        found += [
            str(e["exceptionDetails"]) for e in self.events.get("Runtime.exceptionThrown", [])
        ]
        found += [
            f"{e['entry'].get('source')}: {e['entry'].get('text')}"
            for e in self.events.get("Log.entryAdded", [])
            if e["entry"].get("level") in ("error", "warning")
        ]
        return found

    def requests(self) -> list[str]:
        """Every URL the page asked for, the document itself included."""
        return [e["request"]["url"] for e in self.events.get("Network.requestWillBeSent", [])]

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = self.evaluate("document.documentElement.scrollHeight")
            width = self.evaluate("document.documentElement.scrollWidth")
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))


def _port(profile: Path, process: subprocess.Popen) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + TIMEOUT
    while not marker.exists() or not marker.read_text().strip():
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError("chromium did not open its DevTools port")
        time.sleep(0.05)
    return int(marker.read_text().split()[0])


def _page_socket(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as answer:
        targets = json.load(answer)
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


@contextmanager
def open_page(path: Path, width: int = 1440, height: int = 900) -> Iterator[Page]:
    """Load ``path`` at ``width`` x ``height`` in a fresh profile; the page is loaded on entry."""
    profile = Path(tempfile.mkdtemp(prefix="lanes-chromium-"))
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(profile)},
    )
    try:
        ws = websocket.create_connection(_page_socket(_port(profile, process)), timeout=TIMEOUT)
        page = Page(ws)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.events.clear()
        page.call("Page.navigate", url=path.resolve().as_uri())
        page.wait_for("Page.loadEventFired")
        page.evaluate("document.readyState")  # drains what arrived with the load
        try:
            yield page
        finally:
            ws.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)
