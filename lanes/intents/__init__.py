"""Gateway intent kinds: one module per kind (egress, mapping, ingress, exposure, proxy).

Each module holds its kind's config model, its derivation into NAT or proxy entries, its
nftables and nginx contributions, its rules and its lab flows, behind ``IntentKind``
(``lanes.intents.base``). ``lanes.intents.registry`` lists the kinds; adding one is a module
and a ``register`` line there.
"""

# The config schema reads the registry while it loads: load it first, so that whichever module
# is imported first, the registry is complete when the schema asks for it.
import lanes.config  # noqa: F401  isort: skip
from lanes.intents.base import IntentKind
from lanes.intents.registry import (
    NAT_MAPS,
    SNAT_ORDER,
    KindError,
    by_rank,
    kinds,
    register,
    step_kind,
    unregister,
)

__all__ = [
    "IntentKind",
    "KindError",
    "register",
    "unregister",
    "kinds",
    "by_rank",
    "step_kind",
    "SNAT_ORDER",
    "NAT_MAPS",
]
