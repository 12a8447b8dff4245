"""The registry of gateway intent kinds: one ``register`` line per kind module.

Registration order is the order of the config keys, of the model's attributes and of
``to_dict``; ``by_rank`` is the order of the postrouting and forward chains. The config schema
watches the registry, so a kind registered later (a test's) is accepted in the stack config too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from lanes.intents import egress, exposure, ingress, mapping, proxy
from lanes.intents.base import IntentKind

__all__ = [
    "KindError",
    "register",
    "unregister",
    "watch",
    "kinds",
    "by_rank",
    "step_kind",
    "SNAT_ORDER",
    "NAT_MAPS",
]


class KindError(ValueError):
    """A kind that cannot be registered: one of its names is already another kind's."""


_KINDS: dict[str, IntentKind] = {}
_WATCHERS: list[Callable[[], None]] = []


def _names(kind: IntentKind) -> set[str]:
    # Every name a kind takes in a shared namespace: config keys, model field, SNAT step, maps.
    return {*kind.config, *([kind.field] if kind.field else []), *kind.nat_maps} | (
        {f"snat:{kind.snat}"} if kind.snat else set()
    )


def register(kind: IntentKind) -> IntentKind:
    """Add a kind after the registered ones; none of its names may be taken."""
    for old in _KINDS.values():
        taken = _names(kind) & _names(old)
        if kind.name == old.name or taken:
            clash = ", ".join(sorted(taken)) or kind.name
            raise KindError(f"{kind.name}: {clash} already taken by {old.name}")
    _KINDS[kind.name] = kind
    _notify()
    return kind


def unregister(name: str) -> None:
    """Remove a kind (tests that register one of their own)."""
    if _KINDS.pop(name, None) is not None:
        _notify()


def watch(callback: Callable[[], None]) -> None:
    """Call ``callback`` now and whenever the registry changes (the config schema does)."""
    _WATCHERS.append(callback)
    callback()


def _notify() -> None:
    for callback in _WATCHERS:
        callback()


def kinds() -> tuple[IntentKind, ...]:
    """Every kind, in registration order."""
    return tuple(_KINDS.values())


def by_rank() -> tuple[IntentKind, ...]:
    """Kinds in chain order: the specific SNATs first, the general egress SNAT last."""
    return tuple(sorted(_KINDS.values(), key=lambda k: k.rank))


def step_kind(snat: str) -> IntentKind | None:
    """The kind whose SNAT steps are of kind ``snat``."""
    return next((k for k in _KINDS.values() if k.snat == snat), None)


class _SnatOrder(Sequence[str]):
    """The SNAT step kinds in postrouting order, read at every use."""

    def _order(self) -> tuple[str, ...]:
        return tuple(k.snat for k in by_rank() if k.snat)

    def __getitem__(self, index):  # type: ignore[override]
        return self._order()[index]

    def __len__(self) -> int:
        return len(self._order())

    def __repr__(self) -> str:
        return repr(self._order())


class _NatMaps(Mapping[str, tuple[str, str]]):
    """Every map of the lanes table: name -> (key type, value type), in the order they are
    written (registration order), read at every use."""

    def _maps(self) -> dict[str, tuple[str, str]]:
        return {name: types for k in _KINDS.values() for name, types in k.nat_maps.items()}

    def __getitem__(self, name: str) -> tuple[str, str]:
        return self._maps()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._maps())

    def __len__(self) -> int:
        return len(self._maps())

    def __repr__(self) -> str:
        return repr(self._maps())


SNAT_ORDER: Sequence[str] = _SnatOrder()
NAT_MAPS: Mapping[str, tuple[str, str]] = _NatMaps()

register(egress.KIND)
register(mapping.KIND)
register(ingress.KIND)
register(exposure.KIND)
register(proxy.KIND)
