"""The table of gateway intent kinds: egress, mapping, ingress, exposure, proxy.

The table's order is the order of the config keys, of the model's attributes and of ``to_dict``;
``by_rank`` is the order of the postrouting and forward chains. ``INTENT_KINDS`` is a plain
value: a test that adds a kind builds a table of its own and hands it to the functions that read
one (the gateway model, the rules, the lab's matrix), with a schema that has the kind's keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lanes.config.kinds import KindError
from lanes.intents import egress, exposure, ingress, mapping, proxy
from lanes.intents.base import IntentKind

__all__ = ["KindError", "IntentKinds", "INTENT_KINDS"]


def _names(kind: IntentKind) -> set[str]:
    # Every name a kind takes in a shared namespace: config keys, model field, SNAT step, maps.
    return {*kind.config, *([kind.field] if kind.field else []), *kind.nat_maps} | (
        {f"snat:{kind.snat}"} if kind.snat else set()
    )


@dataclass(frozen=True)
class IntentKinds:
    """The kinds in config order; none of one kind's names may be another's."""

    kinds: tuple[IntentKind, ...]

    def __post_init__(self) -> None:
        for i, kind in enumerate(self.kinds):
            for old in self.kinds[:i]:
                taken = _names(kind) & _names(old)
                if kind.name == old.name or taken:
                    clash = ", ".join(sorted(taken)) or kind.name
                    raise KindError(f"{kind.name}: {clash} already taken by {old.name}")

    def __iter__(self) -> Iterator[IntentKind]:
        return iter(self.kinds)

    def by_rank(self) -> tuple[IntentKind, ...]:
        """Kinds in chain order: the specific SNATs first, the general egress SNAT last."""
        return tuple(sorted(self.kinds, key=lambda k: k.rank))

    def step_kind(self, snat: str) -> IntentKind | None:
        """The kind whose SNAT steps are of kind ``snat``."""
        return next((k for k in self.kinds if k.snat == snat), None)

    @property
    def snat_order(self) -> tuple[str, ...]:
        """The SNAT step kinds in postrouting order."""
        return tuple(k.snat for k in self.by_rank() if k.snat)

    @property
    def nat_maps(self) -> dict[str, tuple[str, str]]:
        """Every map of the lanes table: name -> (key type, value type), in the order they are
        written (the table's order)."""
        return {name: types for k in self.kinds for name, types in k.nat_maps.items()}


INTENT_KINDS = IntentKinds((egress.KIND, mapping.KIND, ingress.KIND, exposure.KIND, proxy.KIND))
