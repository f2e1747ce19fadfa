"""Channel adapters: one module per kind, found and registered automatically.

A module in this package that defines a `ChannelAdapter` subclass decorated
with `@register` adds a channel kind; nothing else needs to change.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from django.utils.functional import Promise

from adapters.base import ChannelAdapter

_registry: dict[str, ChannelAdapter] = {}
_loaded = False
_SUPPORT_MODULES = {"base", "http", "netguard"}

A = TypeVar("A", bound=type[ChannelAdapter])


def register(cls: A) -> A:
    """Class decorator: make `cls.kind` a channel kind Orion can send through."""
    if cls.kind in _registry and type(_registry[cls.kind]) is not cls:
        raise ValueError(f"Channel kind {cls.kind!r} is registered twice.")
    _registry[cls.kind] = cls()
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SUPPORT_MODULES and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def get_adapter(kind: str) -> ChannelAdapter:
    """Return the adapter for `kind`; raise `KeyError` for an unknown kind."""
    _load()
    return _registry[kind]


def kinds() -> list[tuple[str, str | Promise]]:
    """(kind, label) pairs of every registered kind, sorted by kind.

    Labels are lazy translations: they render in the language active when
    they are shown.
    """
    _load()
    return sorted((kind, adapter.label) for kind, adapter in _registry.items())
