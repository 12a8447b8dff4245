"""How a change reaches a host: armed rollback, confirmed over a fresh SSH connection."""

from __future__ import annotations

from pydantic import Field

from lanes.config.base import Model

__all__ = ["Apply", "DEFAULT_CONFIRM_TIMEOUT"]

# Long enough for netplan apply, sysctl and a kubelet restart on every file of a slow host and
# a fresh SSH connection through the jump host; short enough that nobody walks to the racks.
DEFAULT_CONFIRM_TIMEOUT = 120


class Apply(Model):
    """``lanes:apply``: before a host or gateway changes, it arms a rollback of the change; a
    second SSH connection, made afresh through the new configuration, confirms it. Without that
    confirmation the host puts the previous files back and re-applies them by itself."""

    confirm_timeout: int = Field(
        default=DEFAULT_CONFIRM_TIMEOUT,
        ge=5,
        le=3600,
        description="Seconds from arming until the host rolls the change back unless confirmed.",
    )
