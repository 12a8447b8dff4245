"""``lanes verify`` against a lab: the lab's sessions and the roots its hosts keep files under.

The deploy box reaches each host as provisioning did (a gateway on its network directly, the
others through the jump host), with the lab's key and the host keys pinned at ``lab up``. A
region lab serves every AZ stack of its region: ``lanes verify --stack prod-az-2 --lab --prefix
<the region lab's>`` checks az-2's hosts in it; ``lab_targets`` is every AZ's.
"""

from __future__ import annotations

from collections.abc import Callable

from lanes.lab.netns import LabError, SshClient
from lanes.lab.site import (
    AttachedLab,
    Provisioner,
    SiteModel,
    az_plans,
    check_prefix,
    read_state,
    region_site_model,
)
from lanes.remote.verify import Target, expected_targets

__all__ = ["LabHosts", "lab_targets"]


class LabHosts:
    """Sessions into a complete lab, and each host's file root in it."""

    def __init__(self, site: SiteModel, prefix: str):
        state = read_state(check_prefix(prefix))
        if state is None:
            raise LabError(f"lab {prefix} is not up: run lab up --stack {site.stack}")
        region = state.get("region")
        if region is not None and not site.region:
            if region != site.plan.region:
                raise LabError(
                    f"lab {prefix} is the lab of region {region}, not {site.plan.region}"
                )
            site = region_site_model(site.plan, site.stack)
        elif state["stack"] != site.stack and not (site.region and region == site.plan.region):
            raise LabError(f"lab {prefix} is a lab of stack {state['stack']}, not {site.stack}")
        self.prov = Provisioner(site, AttachedLab(prefix), state["endpoints"])

    def root(self, name: str) -> str:
        return self.prov.root(name)

    def session(self, name: str) -> SshClient:
        return self.prov.session(name)


def lab_targets(site: SiteModel, root_of: Callable[[str], str]) -> list[Target]:
    """What ``lanes verify`` checks in the lab: the stack's AZ, or every AZ of a region lab."""
    if not site.region:
        return expected_targets(site.plan, root_of)
    return [t for plan in az_plans(site.plan).values() for t in expected_targets(plan, root_of)]
