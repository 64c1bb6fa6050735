"""Bug: registrations are filed in a dict under their handler, and a handler that cannot be hashed is filed under its `id`, so `off` finds an unhashable handler only by identity, never by `==`.

Breaks: "`off` compares handlers with `==`, not `is`" ... "The same holds for every handler, not only Python's bound methods: `lst.append` of one list, or an object with its own `__eq__`." ... A callable class that defines `__eq__` (and so has no `__hash__`): `on("e", Handler("x"))`, then `off("e", Handler("x"))` (equal, not the same object) removes nothing; the next emit still calls it.

Carried over from notebooks/09_chat_application.ipynb, cells 1 and 15 (`rooms = Rooms()  #
room name -> connections`, `presence.track(room, user, tab)`): state filed in dicts by
who it belongs to, so that leaving is one lookup, not a scan.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from typing import Any

from day25 import EventPriority


def _key(handler: object) -> Hashable:
    try:
        hash(handler)
    except TypeError:
        return ("unhashable", id(handler))
    return handler


class _Event:
    def __init__(self) -> None:
        self.entries: dict[int, tuple[int, Callable[..., Any]]] = {}  # seq -> (priority, fn)
        self.by_handler: dict[Hashable, list[int]] = {}  # handler -> its seqs


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, _Event] = {}
        self._next = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._next += 1
        ev = self._events.setdefault(event, _Event())
        ev.entries[self._next] = (int(priority), handler)
        ev.by_handler.setdefault(_key(handler), []).append(self._next)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        ev = self._events.get(event)
        if ev is None:
            return
        for seq in ev.by_handler.pop(_key(handler), ()):
            ev.entries.pop(seq, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ev = self._events.get(event)
        if ev is None:
            return
        order = sorted(ev.entries.items(), key=lambda item: (-item[1][0], item[0]))
        for _, (_, handler) in order:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
