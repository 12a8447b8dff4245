"""Config of the gateways: a name, a host, and one list per key of each intent kind.

The intent models live with their kinds (``lanes.intents``); ``Gateway`` takes its keys from the
registry (egress, mappings, ingress, publish, consume, proxies, and any kind registered later).
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo

from lanes.config.base import Model, Name
from lanes.intents.base import Port
from lanes.intents.egress import Egress
from lanes.intents.exposure import Consume, Publish
from lanes.intents.ingress import IngressRoute
from lanes.intents.mapping import Mapping
from lanes.intents.proxy import Proxy
from lanes.intents.registry import kinds, watch

__all__ = ["Port", "Egress", "Mapping", "IngressRoute", "Publish", "Consume", "Proxy", "Gateway"]


class Gateway(Model):
    """A gateway and what it must do; the rules it needs are derived, never written here."""

    # Besides these, one list per config key of each registered intent kind (_sync_schema):
    # egress, mappings, ingress, publish, consume, proxies, in registration order.
    name: Name
    host: Name = Field(description="Inventory host (role gateway) that runs it.")


_OWN_FIELDS = dict(Gateway.__pydantic_fields__)


def _intent_field(annotation: Any) -> FieldInfo:
    return FieldInfo.from_annotated_attribute(annotation, Field(default_factory=list))


def _sync_schema() -> None:
    """Give ``Gateway`` one field per config key of the registered kinds, and rebuild it and
    the stack configs that hold it (pydantic bakes a model's schema into its holders)."""
    fields = dict(_OWN_FIELDS)
    for kind in kinds():
        fields.update({key: _intent_field(t) for key, t in kind.config.items()})
    Gateway.__pydantic_fields__ = fields
    Gateway.model_rebuild(force=True)
    # The package imports this module: at the first sync it has no StackConfig yet.
    stack = getattr(sys.modules.get("lanes.config"), "StackConfig", None)
    for holder in _with_subclasses(stack) if stack is not None else ():
        holder.model_rebuild(force=True)


def _with_subclasses(cls: type) -> list[type]:
    """``cls`` and its subclasses (the stack config of each set of network kinds)."""
    return [cls, *(sub for child in cls.__subclasses__() for sub in _with_subclasses(child))]


watch(_sync_schema)
