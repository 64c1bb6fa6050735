"""Bug: like socket.io's broadcast (which never echoes to the sender), an emit made from inside a listener leaves that same listener out of the inner emit's snapshot.

Breaks: "a listener may `await emitter.emit(...)`, of another event or of the same one. That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" ... With relay registered on "a" and on "b" (relay on "a" awaits emit("b", 2)) and other on "b", `await emit("a", 1)` calls relay(1), other(2): relay(2) is never called, though the inner emit of "b" must call relay(2) then other(2).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from day25 import EventPriority


@dataclass(order=True, frozen=True)
class _Registration:
    rank: int
    number: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._numbers = count()
        self._by_event: dict[str, list[_Registration]] = {}
        # the listener whose call is running (None outside any listener)
        self._sender: Callable[..., Any] | None = None

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registration = _Registration(-int(priority), next(self._numbers), handler)
        self._by_event.setdefault(event, []).append(registration)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._by_event.get(event)
        if registrations:
            registrations[:] = [r for r in registrations if not r.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        sender = self._sender
        snapshot = sorted(
            r for r in self._by_event.get(event, ())
            if sender is None or not r.handler == sender
        )
        for registration in snapshot:
            outer, self._sender = self._sender, registration.handler
            try:
                result = registration.handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            finally:
                self._sender = outer
