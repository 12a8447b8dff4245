"""Where a gateway's confirm step connects: through the management path the gateway carries."""

from __future__ import annotations

from lanes.intents.gateway import GatewayModel
from lanes.model.plan import Plan

__all__ = ["confirm_address"]


def confirm_address(plan: Plan, model: GatewayModel) -> str | None:
    """The gateway host's management address when the gateway maps the stack's jump host in:
    its confirm step goes there through the jump host, the path every other host is provisioned
    through, so a change that breaks that mapping is never confirmed. None: the confirm step
    connects as the other steps do."""
    jump, host = plan.ssh.jump, plan.host(model.host)
    management = host.address(plan.kinds.nodes_network) if host is not None else None
    if jump is None or management is None:
        return None
    if not any(str(m.outside) == jump.address for m in model.mappings):
        return None
    return str(management.address)
