"""``lanes verify`` against a lab: the lab's sessions and the roots its hosts keep files under.

The deploy box reaches each host as provisioning did (a gateway on its network directly, the
others through the jump host), with the lab's key and the host keys pinned at ``lab up``.
"""

from __future__ import annotations

from lanes.lab.netns import LabError, SshClient
from lanes.lab.site import AttachedLab, Provisioner, SiteModel, check_prefix, read_state

__all__ = ["LabHosts"]


class LabHosts:
    """Sessions into a complete lab, and each host's file root in it."""

    def __init__(self, site: SiteModel, prefix: str):
        state = read_state(check_prefix(prefix))
        if state is None:
            raise LabError(f"lab {prefix} is not up: run lab up --stack {site.stack}")
        if state["stack"] != site.stack:
            raise LabError(f"lab {prefix} is a lab of stack {state['stack']}, not {site.stack}")
        self.prov = Provisioner(site, AttachedLab(prefix), state["endpoints"])

    def root(self, name: str) -> str:
        return self.prov.root(name)

    def session(self, name: str) -> SshClient:
        return self.prov.session(name)
