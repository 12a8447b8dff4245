"""Network-namespace lab: hosts, segments, veth links, sshd, and an SSH client like pulumi_command.

Every resource lives in a namespace named ``<prefix><name>``; bridges live in the lab's own
switch namespace ``<prefix>sw``, and veth pairs are created directly between namespaces, so the
root namespace never holds an interface of the lab, not even for a moment. Files go under
``/run/lanes-lab/<prefix>/`` and nowhere else.

A host may get a view of its own (``start_view``; every host of a site lab has one): a private
mount namespace, held by one process, with overlays on ``/etc`` and ``/var/lib`` (their upper
layers in the lab's state folder), a tmpfs on ``/run``, ``/proc/sys`` read-only outside ``net``,
the lab's stand-ins (``lanes.lab.standins``) at ``/usr/local/sbin`` and none of this machine's
services enabled. Its sshd, and so everything a session starts, runs in that view, as does every
command the lab runs in the host: the components' scripts write to the host's own ``/etc`` and
``/var/lib`` at their real paths, and nothing of this machine's ``/etc``, ``/var/lib`` or
sysctls changes.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lanes.lab.procs import start_time, stop_processes
from lanes.lab.standins import write_shims
from lanes.remote import ssh
from lanes.remote.ssh import SshEndpoint, SshResult

__all__ = [
    "STATE_ROOT",
    "LabError",
    "LabResources",
    "Link",
    "NetLab",
    "NsHost",
    "Segment",
    "SshClient",
    "SshEndpoint",
    "SshResult",
    "cleanup_stale",
    "list_resources",
]

STATE_ROOT = Path("/run/lanes-lab")
SSHD = "/usr/sbin/sshd"
SWITCH = "sw"
VIEWS = "views"  # <state dir>/views/<host>/: the upper layers of a host's /etc and /var/lib
SSHD_CONFIG = "/etc/ssh/sshd_config"  # in a host's view
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"
AUTHORIZED = "/etc/ssh/authorized_keys"  # a folder: one file per user (AuthorizedKeysFile %u)
UNITS = "/etc/systemd/system"

# Run by `ip netns exec NS unshare --mount --propagation private`: the host's own filesystem
# view, then a process that holds it (every other process of the host enters it: nsenter).
_VIEW = r"""set -eu
view=$1 shims=$2
for dir in etc var-lib; do mkdir -p "$view/$dir/upper" "$view/$dir/work"; done
mount -t overlay lanes-etc -o "lowerdir=/etc,upperdir=$view/etc/upper,workdir=$view/etc/work" /etc
mount -t overlay lanes-var-lib \
    -o "lowerdir=/var/lib,upperdir=$view/var-lib/upper,workdir=$view/var-lib/work" /var/lib
mount --bind "$shims" /usr/local/sbin
mount -o remount,bind,ro /usr/local/sbin
mount --bind /proc/sys /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,ro /proc/sys
mount -t tmpfs -o mode=0755,nosuid,nodev lanes-run /run
mkdir -p /run/sshd /run/lock
echo ready
exec sleep infinity
"""

_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,11}-?$")
# A lab's own prefix ends in "-" so that no other lab's prefix can start with it.
_LAB_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,11}-$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,22}$")
_IFNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")


class LabError(ssh.SshError):
    """A lab operation failed; the message names the namespace and the command."""


@dataclass(frozen=True)
class LabResources:
    namespaces: list[str]
    pids: list[int]
    state_dirs: list[Path]

    def empty(self) -> bool:
        return not (self.namespaces or self.pids or self.state_dirs)


@dataclass(frozen=True)
class Segment:
    """An L2 segment: one bridge inside the lab's switch namespace."""

    name: str
    bridge: str


@dataclass(frozen=True)
class Link:
    host: str
    segment: str
    ifname: str
    addresses: tuple[str, ...]


def _validate(regex: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or not regex.match(value):
        raise ValueError(f"{what}: {value!r} does not match {regex.pattern}")
    return value


def _run(
    argv: list[str], *, check: bool = True, input: str | bytes | None = None, timeout: float = 30
) -> subprocess.CompletedProcess:
    text = not isinstance(input, bytes)
    proc = subprocess.run(argv, input=input, capture_output=True, text=text, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"{shlex.join(argv)}: exit {proc.returncode}: {str(proc.stderr).strip()}")
    return proc


def _netns_names() -> list[str]:
    out = _run(["ip", "netns", "list"]).stdout
    # Lines look like "name" or "name (id: 3)".
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def _netns_pids(ns: str) -> list[int]:
    proc = _run(["ip", "netns", "pids", ns], check=False)
    return sorted(int(p) for p in proc.stdout.split() if p.isdigit())


def _recorded_pids(state_dir: Path) -> list[int]:
    """Pids from the lab's pidfiles that still belong to the process that wrote them."""
    pids = []
    for pidfile in sorted((state_dir / "pids").glob("*.pid")):
        try:
            pid_text, start = pidfile.read_text().split()
        except (OSError, ValueError):
            continue
        if start_time(int(pid_text)) == start:
            pids.append(int(pid_text))
    return pids


def _state_dirs(prefix: str) -> list[Path]:
    if not STATE_ROOT.is_dir():
        return []
    return sorted(p for p in STATE_ROOT.iterdir() if p.is_dir() and p.name.startswith(prefix))


def list_resources(prefix: str) -> LabResources:
    """Namespaces, live processes and state dirs left by labs whose prefix starts with prefix."""
    _validate(_PREFIX_RE, prefix, "prefix")
    namespaces = [ns for ns in _netns_names() if ns.startswith(prefix)]
    state_dirs = _state_dirs(prefix)
    pids = {pid for ns in namespaces for pid in _netns_pids(ns)}
    pids.update(pid for d in state_dirs for pid in _recorded_pids(d))
    return LabResources(namespaces, sorted(pids), state_dirs)


def cleanup_stale(prefix: str) -> LabResources:
    """Kill, delete and remove everything list_resources(prefix) finds; return what was found."""
    found = list_resources(prefix)
    stop_processes(found.pids, term_grace=2.0, kill_grace=2.0)
    errors = []
    for ns in found.namespaces:
        proc = _run(["ip", "netns", "delete", ns], check=False)
        if proc.returncode != 0:
            errors.append(f"ip netns delete {ns}: {proc.stderr.strip()}")
    for state_dir in found.state_dirs:
        shutil.rmtree(state_dir, ignore_errors=True)
    if errors:
        raise LabError("; ".join(errors))
    return found


class NsHost:
    """One host: a network namespace of the lab."""

    def __init__(self, lab: NetLab, name: str):
        self.lab = lab
        self.name = name
        self.ns = lab.prefix + name
        self.addresses: list[str] = []
        self.endpoint: SshEndpoint | None = None
        self.view_pid: int | None = _holder(self.view_dir)

    def __repr__(self) -> str:
        return f"NsHost({self.ns!r})"

    @property
    def view_dir(self) -> Path:
        """Where the host's view keeps its /etc and /var/lib upper layers (``start_view``)."""
        return self.lab.state_dir / VIEWS / self.name

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` run in the host: its network namespace, and its view when it has one."""
        if self.view_pid is not None:
            return ["nsenter", f"--target={self.view_pid}", "--mount", "--net", "--", *argv]
        return ["ip", "netns", "exec", self.ns, *argv]

    def start_view(self) -> None:
        """Give the host its own /etc, /var/lib and /run (see the module), with none of this
        machine's units enabled and none of its netplan files; every later command of the host
        runs in it."""
        if self.view_pid is not None:
            raise LabError(f"{self.ns}: the host has a view already")
        upper = self.view_dir / "etc" / "upper"
        for wants in sorted(Path(UNITS).glob("*.wants")):
            _opaque(upper / UNITS.removeprefix("/etc/") / wants.name)
        _opaque(upper / "netplan")  # its network is its own, never this machine's
        shims = write_shims(self.lab.state_dir / "standins")
        proc = self.lab._spawn(
            self,
            ["unshare", "--mount", "--propagation", "private", "--",
             "sh", "-c", _VIEW, "lanes-view", str(self.view_dir), str(shims)],
            f"view-{self.name}",
            wrap=["ip", "netns", "exec", self.ns],
        )  # fmt: skip
        log = self.lab.state_dir / "logs" / f"view-{self.name}.log"
        deadline = time.monotonic() + 10
        while "ready" not in (log.read_text() if log.exists() else ""):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise LabError(f"{self.ns}: the host's view did not come up: {log.read_text()}")
            time.sleep(0.02)
        start = start_time(proc.pid)
        (self.view_dir / "holder.pid").write_text(f"{proc.pid} {start}\n")
        self.view_pid = proc.pid

    def processes(self) -> dict[int, str]:
        """pid -> command name of every process in the host's view (this machine has one
        process table: a view's are those in its mount namespace), its holder's but."""
        if self.view_pid is None:
            raise LabError(f"{self.ns}: the host has no view")
        view = _mount_ns(self.view_pid)
        found = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != self.view_pid:
                if _mount_ns(int(entry.name)) == view:
                    try:
                        found[int(entry.name)] = (entry / "comm").read_text().strip()
                    except OSError:
                        continue
        return found

    def write_file(self, path: str, content: str, mode: str = "644") -> None:
        """Write a file of the host's own filesystem (its view's), its folder made if need be."""
        script = 'umask 077; mkdir -p "${1%/*}"; cat > "$1"; chmod "$2" "$1"'
        self.run(["sh", "-c", script, "write", path, mode], input=content)

    def read_file(self, path: str) -> str | None:
        """A file of the host's own filesystem (its view's), None when it has none."""
        proc = self.run(["cat", "--", path], check=False)
        return proc.stdout if proc.returncode == 0 else None

    @property
    def scratch_dir(self) -> Path:
        """Where an ssh client run from this host keeps its known_hosts and uploads."""
        return self.lab.state_dir

    def next_id(self) -> int:
        return self.lab._next_id()

    def run(
        self,
        argv: list[str],
        check: bool = True,
        input: str | bytes | None = None,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess:
        return _run(self.argv(argv), check=check, input=input, timeout=timeout)

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run(["ip", "-n", self.ns, *args], check=check)

    def sysctl(self, key: str, value: str | int) -> None:
        self.run(["sysctl", "-q", "-w", f"{key}={value}"])

    def enable_forwarding(self) -> None:
        self.sysctl("net.ipv4.ip_forward", 1)

    def add_route(
        self, dest: str, via: str | None = None, dev: str | None = None, table: str | None = None
    ) -> None:
        args = ["route", "add", dest]
        args += ["via", via] if via else []
        args += ["dev", dev] if dev else []
        args += ["table", table] if table else []
        self.ip(*args)

    def spawn(self, argv: list[str], log_name: str | None = None) -> subprocess.Popen:
        """Start a background process inside the namespace; the lab kills it at close."""
        return self.lab._spawn(self, argv, log_name)

    def tcp_wait(self, host: str, port: int, timeout: float = 5.0) -> None:
        """Wait until host:port accepts a TCP connection, seen from inside this namespace."""
        script = (
            "import socket,sys,time\n"
            "h,p,t=sys.argv[1],int(sys.argv[2]),float(sys.argv[3]);end=time.monotonic()+t\n"
            "while True:\n"
            " try:\n  socket.create_connection((h,p),0.5).close();break\n"
            " except OSError:\n"
            "  if time.monotonic()>end: sys.exit(1)\n"
            "  time.sleep(0.02)\n"
        )
        proc = self.run(
            [sys.executable, "-c", script, host, str(port), str(timeout)],
            check=False,
            timeout=timeout + 10,
        )
        if proc.returncode != 0:
            raise LabError(f"{self.ns}: {host}:{port} did not accept a connection in {timeout}s")

    def tcp_connects(self, host: str, port: int, timeout: float = 1.0) -> bool:
        try:
            self.tcp_wait(host, port, timeout)
        except LabError:
            return False
        return True

    def start_sshd(
        self, listen: list[str] | None = None, port: int = 22, view: bool = False
    ) -> SshEndpoint:
        """Run sshd in this namespace with a throwaway host key; return the pinned endpoint.

        ``view``: in the host's own view (``start_view``, made here if need be), configured as a
        real host's is, under ``/etc/ssh``; else from the lab's state folder."""
        if self.endpoint is not None:
            raise LabError(f"{self.ns}: sshd already started")
        listen = list(listen) if listen else []
        for address in listen:
            ipaddress.ip_address(address)
        address = listen[0] if listen else self._default_address()
        client_key = self.lab.client_key()
        if view:
            if self.view_pid is None:
                self.start_view()
            etc = self.view_dir / "etc" / "upper"
            host_key = etc / HOST_KEY.removeprefix("/etc/")
            host_key.parent.mkdir(parents=True, exist_ok=True)
            _keygen(host_key)
            authorized = etc / AUTHORIZED.removeprefix("/etc/")
            authorized.mkdir(parents=True, exist_ok=True)
            (authorized / "root").write_text(client_key.with_suffix(".pub").read_text())
            config = etc / SSHD_CONFIG.removeprefix("/etc/")
            config.write_text(
                _sshd_config(
                    port, listen, Path(HOST_KEY), Path("/run/sshd.pid"), AUTHORIZED + "/%u"
                )
            )
            argv = [SSHD, "-D", "-e", "-f", SSHD_CONFIG]
        else:
            ssh_dir = self.lab.state_dir / "hosts" / self.name
            ssh_dir.mkdir(parents=True, exist_ok=True)
            host_key = ssh_dir / "ssh_host_ed25519_key"
            _keygen(host_key)
            authorized_file = ssh_dir / "authorized_keys"
            authorized_file.write_text(client_key.with_suffix(".pub").read_text())
            config = ssh_dir / "sshd_config"
            config.write_text(
                _sshd_config(port, listen, host_key, ssh_dir / "sshd.pid", str(authorized_file))
            )
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
            argv = [SSHD, "-D", "-e", "-f", str(config)]
        proc = self.spawn(argv, log_name=f"sshd-{self.name}")
        try:
            self.tcp_wait(address, port)
        except LabError as exc:
            log = (self.lab.state_dir / "logs" / f"sshd-{self.name}.log").read_text()
            raise LabError(f"{exc}; sshd exit={proc.poll()} log: {log.strip()}") from None
        pub = host_key.with_suffix(".pub").read_text().split()
        self.endpoint = SshEndpoint(address, port, "root", client_key, f"{pub[0]} {pub[1]}")
        return self.endpoint

    def _default_address(self) -> str:
        for cidr in self.addresses:
            iface = ipaddress.ip_interface(cidr)
            if iface.version == 4:
                return str(iface.ip)
        return "127.0.0.1"


def _keygen(path: Path) -> None:
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lanes-lab", "-f", str(path)])


def _mount_ns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _holder(view_dir: Path) -> int | None:
    """The pid holding a host's view, if it still runs (a recycled pid is not it)."""
    try:
        pid_text, start = (view_dir / "holder.pid").read_text().split()
    except (OSError, ValueError):
        return None
    return int(pid_text) if start_time(int(pid_text)) == start else None


def _opaque(folder: Path) -> None:
    """An empty folder in an overlay's upper layer that hides the lower layer's (its units)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.setxattr(folder, "trusted.overlay.opaque", b"y")
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise LabError(f"{folder}: cannot mark it opaque for the host's view: {exc}") from None


def _sshd_config(
    port: int, listen: list[str], host_key: Path, pid_file: Path, authorized: str
) -> str:
    lines = [f"Port {port}"]
    lines += [f"ListenAddress {a}" for a in listen]
    lines += [
        f"HostKey {host_key}",
        f"PidFile {pid_file}",
        f"AuthorizedKeysFile {authorized}",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "MaxStartups 100",
        "LogLevel ERROR",
        "Subsystem sftp internal-sftp",
    ]
    return "\n".join(lines) + "\n"


class SshClient(ssh.SshClient):
    """lanes' SSH client run from a lab host's namespace; failures are LabErrors."""

    error = LabError


class NetLab:
    """A set of namespace hosts and segments with one prefix; close() removes all of it."""

    def __init__(self, prefix: str | None = None):
        self.prefix = _validate(_LAB_PREFIX_RE, prefix or f"lt{secrets.token_hex(3)}-", "prefix")
        self.state_dir = STATE_ROOT / self.prefix
        if self.state_dir.exists() or any(ns.startswith(self.prefix) for ns in _netns_names()):
            raise LabError(f"lab {self.prefix!r} exists; run cleanup_stale({self.prefix!r})")
        self.switch_ns = self.prefix + SWITCH
        self.hosts: dict[str, NsHost] = {}
        self.segments: dict[str, Segment] = {}
        self.links: list[Link] = []
        self._procs: list[subprocess.Popen] = []
        self._namespaces: list[str] = []
        self._counter = 0
        self._closed = False
        for sub in ("pids", "logs"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> NetLab:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _next_id(self) -> int:
        self._counter += 1
        return self._counter

    def client_key(self) -> Path:
        """The lab's one client key pair (private key path); every sshd of the lab trusts it."""
        key = self.state_dir / "client_ed25519"
        if not key.exists():
            _keygen(key)
        return key

    def _add_netns(self, ns: str) -> None:
        _run(["ip", "netns", "add", ns])
        self._namespaces.append(ns)
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def _ensure_switch(self) -> None:
        if self.switch_ns not in self._namespaces:
            self._add_netns(self.switch_ns)

    def host(self, name: str) -> NsHost:
        _validate(_NAME_RE, name, "host name")
        if name == SWITCH or name in self.hosts:
            raise LabError(f"host name {name!r} is taken in lab {self.prefix!r}")
        host = NsHost(self, name)
        self._add_netns(host.ns)
        self.hosts[name] = host
        return host

    def segment(self, name: str) -> Segment:
        _validate(_NAME_RE, name, "segment name")
        if name in self.segments:
            raise LabError(f"segment {name!r} exists in lab {self.prefix!r}")
        self._ensure_switch()
        seg = Segment(name, f"br{len(self.segments)}")
        _run(
            [
                "ip",
                "-n",
                self.switch_ns,
                "link",
                "add",
                seg.bridge,
                "type",
                "bridge",
                "stp_state",
                "0",
                "forward_delay",
                "0",
            ]
        )
        _run(["ip", "-n", self.switch_ns, "link", "set", seg.bridge, "up"])
        self.segments[name] = seg
        return seg

    def link(
        self,
        host: NsHost,
        segment: Segment,
        ifname: str,
        addresses: list[str] | None = None,
        mtu: int | None = None,
    ) -> Link:
        """A veth from host (named ifname) to segment's bridge; both ends up."""
        _validate(_IFNAME_RE, ifname, "ifname")
        addresses = [str(ipaddress.ip_interface(a)) for a in addresses or []]
        port = f"p{len(self.links)}"
        _run(
            [
                "ip",
                "-n",
                self.switch_ns,
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                ifname,
                "netns",
                host.ns,
            ]
        )
        mtu_args = ["mtu", str(mtu)] if mtu else []
        _run(
            [
                "ip",
                "-n",
                self.switch_ns,
                "link",
                "set",
                port,
                "master",
                segment.bridge,
                *mtu_args,
                "up",
            ]
        )
        host.ip("link", "set", ifname, *mtu_args, "up")
        for cidr in addresses:
            extra = ["nodad"] if ipaddress.ip_interface(cidr).version == 6 else []
            host.ip("addr", "add", cidr, "dev", ifname, *extra)
            host.addresses.append(cidr)
        link = Link(host.name, segment.name, ifname, tuple(addresses))
        self.links.append(link)
        return link

    def _spawn(
        self,
        host: NsHost,
        argv: list[str],
        log_name: str | None,
        wrap: list[str] | None = None,
    ) -> subprocess.Popen:
        n = self._next_id()
        log = self.state_dir / "logs" / f"{log_name or n}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [*wrap, *argv] if wrap is not None else host.argv(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._procs.append(proc)
        start = start_time(proc.pid)
        if start is not None:
            (self.state_dir / "pids" / f"{n}.pid").write_text(f"{proc.pid} {start}\n")
        return proc

    def resources(self) -> LabResources:
        return list_resources(self.prefix)

    def close(self) -> None:
        """Kill every process, delete every namespace, remove the state dir. Idempotent."""
        if self._closed:
            return
        pids = {p.pid for p in self._procs if p.poll() is None}
        pids.update(_recorded_pids(self.state_dir))
        for ns in self._namespaces:
            pids.update(_netns_pids(ns))
        stop_processes(sorted(pids), term_grace=2.0, kill_grace=2.0)
        for proc in self._procs:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        # Anything a partial failure left behind but did not record is found by prefix.
        cleanup_stale(self.prefix)
        self._closed = True
