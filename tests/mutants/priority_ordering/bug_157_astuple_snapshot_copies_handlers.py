"""Bug: the snapshot is built with ``dataclasses.astuple``, which deep-copies every field, so a bound method or callable object is replaced by a copy of its object and that copy is what gets called.

Breaks: "calls every listener of `event` with `*args, **kwargs`" ... with ``c = Counter()`` and ``on("e", c.handle)``, ``await emit("e")`` calls ``handle`` on a deep copy of ``c``, so ``c`` itself never sees the call (its count stays 0); an object whose ``__call__`` records something records it on a throw-away copy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import astuple, dataclass
from itertools import count
from typing import Any

from day25 import EventPriority


@dataclass
class _Registration:
    priority: int
    order: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[_Registration]] = {}
        self._order = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registration = _Registration(int(priority), next(self._order), handler)
        self._registrations.setdefault(event, []).append(registration)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._registrations.get(event)
        if registrations is None:
            return
        kept = [r for r in registrations if not r.handler == handler]
        if kept:
            self._registrations[event] = kept
        else:
            del self._registrations[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # freeze the plan as plain tuples, so that on/off during the emit cannot touch it
        plan = sorted(
            (astuple(r) for r in self._registrations.get(event, ())),
            key=lambda row: (-row[0], row[1]),
        )
        for _priority, _order, handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
