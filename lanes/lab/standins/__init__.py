"""Stand-ins for the three commands a lab host's namespace cannot run for real.

A lab host has its own network namespace and its own ``/etc``, ``/var/lib`` and ``/run``
(``lanes.lab.netns``), so the components' scripts run there unmodified, as root, at their real
paths. Three of the commands they call need what a namespace does not have, and only these are
stood in for, at ``/usr/local/sbin`` (first on root's ``PATH``, so a script's plain ``netplan
apply`` finds them; the real tools stay at ``/usr/sbin``):

- ``netplan apply`` (networkd): the real ``netplan generate`` checks the files and the real
  ``netplan get`` merges them; the namespace is then converged on the result with iproute2
  (links' MTU, addresses, routes, policy rules). Every other ``netplan`` command is the real one.
- ``sysctl --system`` (systemd-sysctl): the host's sysctl.d files in ``sysctl --system``'s order,
  their ``net.`` keys only (the namespace's own; every other key is this machine's, and
  ``/proc/sys`` is read-only there outside ``net``). Every other ``sysctl`` is the real one.
- ``systemctl``: starts and stops the units the scripts install and enable (BIRD's too), from the
  host's own unit files, and ``boot`` runs what is enabled, as a reboot would.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["STANDINS", "write_shims"]

STANDINS = ("netplan", "sysctl", "systemctl")

# Only these invocations go to the stand-in; anything else is the real tool.
_SHIM = """#!/bin/sh
# lanes lab stand-in for `{name}` (lanes/lab/standins/{name}.py); the real one is {real}.
{dispatch}exec {real} "$@"
"""
_BY_ARGUMENT = """for arg in "$@"; do
\tcase $arg in {argument}) exec {python} -m lanes.lab.standins {name} "$@" ;; esac
done
"""
_ALWAYS = 'exec {python} -m lanes.lab.standins {name} "$@"\n'
_REAL = {
    "netplan": "/usr/sbin/netplan",
    "sysctl": "/usr/sbin/sysctl",
    "systemctl": "/bin/systemctl",
}
_ARGUMENT = {"netplan": "apply", "sysctl": "--system"}


def write_shims(folder: Path, python: str = sys.executable) -> Path:
    """Write the three shims (executables) into ``folder``; the lab binds it at /usr/local/sbin."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in STANDINS:
        if name in _ARGUMENT:
            dispatch = _BY_ARGUMENT.format(argument=_ARGUMENT[name], python=python, name=name)
        else:
            dispatch = _ALWAYS.format(python=python, name=name)
        shim = folder / name
        shim.write_text(_SHIM.format(name=name, real=_REAL[name], dispatch=dispatch))
        shim.chmod(0o755)
    return folder
