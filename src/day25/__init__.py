"""Day 25: Nexios Event System - the course package.

The public API is flat: everything a lesson or an exercise needs is importable
from ``day25`` directly. Why some names load lazily: ``import day25`` should
cost a student the bus (``EventBus``, priorities, ``install``), not uvicorn,
nexios and the course tooling. The real-time pieces and the ``Recorder`` are
imported the first time they are used (``from day25 import Rooms`` works as
before, through the module ``__getattr__`` below); ``day25.serve`` and
``day25.course`` only when something imports them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from day25.bus import EmitResult, EventBus, ListenerLimitWarning, current_event
from day25.integration import forget_route, install
from day25.namespace import Namespace
from day25.priority import EventPriority, coerce_priority

if TYPE_CHECKING:  # what the lazy names are, for type checkers and the API docs
    from day25.realtime import (
        BackgroundServer,
        MemoryStore,
        Notification,
        OfflineQueue,
        PresenceTracker,
        Rooms,
        SQLiteStore,
    )
    from day25.trace import Recorder

#: name -> the module that defines it, imported on first use
_LAZY = {
    "BackgroundServer": "day25.realtime",
    "MemoryStore": "day25.realtime",
    "Notification": "day25.realtime",
    "OfflineQueue": "day25.realtime",
    "PresenceTracker": "day25.realtime",
    "Rooms": "day25.realtime",
    "SQLiteStore": "day25.realtime",
    "Recorder": "day25.trace",
}

__all__ = [
    "BackgroundServer",
    "EmitResult",
    "EventBus",
    "EventPriority",
    "ListenerLimitWarning",
    "MemoryStore",
    "Namespace",
    "Notification",
    "OfflineQueue",
    "PresenceTracker",
    "Recorder",
    "Rooms",
    "SQLiteStore",
    "coerce_priority",
    "current_event",
    "forget_route",
    "install",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext day25``, each lesson's first line: a failed check cell shows what is
    wrong first (:mod:`day25.lesson_checks`, imported only then)."""
    importlib.import_module("day25.lesson_checks").load_ipython_extension(shell)
