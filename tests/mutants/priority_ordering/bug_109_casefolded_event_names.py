"""Bug: event names are normalised with ``str.strip().casefold()`` before use, so distinct events such as ``"Save"`` and ``"save"`` (or ``"STRASSE"`` and ``"straße"``) share one listener list.

Breaks: "**Events are independent**: emitting an event nobody listens to does nothing." ... After `on("Save", h)`, `await emit("save", 1)` calls `h(1)` although nobody listens to `"save"`, and `off("SAVE", h)` removes the `"Save"` registration.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Registration:
    priority: int
    number: int
    handler: Callable[..., Any]


def _key(event: str) -> str:
    # one spelling per event name, so "Save", "save " and "SAVE" are the same event
    return event.strip().casefold()


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, list[_Registration]] = {}
        self._numbers = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registration = _Registration(int(priority), next(self._numbers), handler)
        self._events.setdefault(_key(event), []).append(registration)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        key = _key(event)
        registrations = self._events.get(key)
        if registrations is None:
            return
        kept = [r for r in registrations if not r.handler == handler]
        if kept:
            self._events[key] = kept
        else:
            del self._events[key]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        registrations = sorted(
            self._events.get(_key(event), ()),
            key=lambda r: (-r.priority, r.number),
        )
        for registration in registrations:
            result = registration.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
