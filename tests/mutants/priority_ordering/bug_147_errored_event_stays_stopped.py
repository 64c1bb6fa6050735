"""Bug: like an RxJS Subject after error(), an event whose listener raised is marked stopped, and later emits of it call nobody until a new listener is registered on it.

Breaks: "The emitter stays usable: the next emit runs every listener again." ... With on("e", first, HIGH) and on("e", boom) (boom raises ValueError only on its first call), `await emit("e", 1)` raises ValueError, then `await emit("e", 2)` calls nobody; it must call first(2) and boom(2).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Stream:
    """The listeners of one event, kept in run order."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int, Callable[..., Any]]] = []
        self.stopped = False

    def add(self, priority: int, number: int, handler: Callable[..., Any]) -> None:
        self.entries.append((-priority, number, handler))
        self.entries.sort(key=lambda e: (e[0], e[1]))
        self.stopped = False  # a new subscriber starts the stream again

    def remove(self, handler: Callable[..., Any]) -> None:
        self.entries = [e for e in self.entries if not e[2] == handler]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._registered = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered += 1
        self._streams.setdefault(event, _Stream()).add(int(priority), self._registered, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        stream = self._streams.get(event)
        if stream is not None:
            stream.remove(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        stream = self._streams.get(event)
        if stream is None or stream.stopped:
            return
        for _rank, _number, handler in list(stream.entries):
            try:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except BaseException:
                stream.stopped = True  # an errored stream emits nothing more
                raise
