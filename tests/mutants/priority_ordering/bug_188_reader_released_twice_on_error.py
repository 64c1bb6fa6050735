"""Bug: an emit whose listener raises releases its hold on the event's listener list twice (once in the error path, once by the context manager), so the reader count goes negative and the next emit iterates a list that `on`/`off` now change in place.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one (a listener removed meanwhile still runs in this emit; one added meanwhile does not)." and "The emitter stays usable: the next emit runs every listener again." ... After one emit of "e" that raised, an emit of "e" whose HIGH listener calls `off("e", victim)` skips `victim` (LOW) in that same emit, and one that calls `on("e", late)` runs `late` in that same emit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from day25 import EventPriority


class _Channel:
    """The listeners of one event, as [priority, number, handler] rows in call order."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, Callable[..., Any]]] = []
        self.readers = 0  # emits walking ``rows`` right now

    def __enter__(self) -> list[tuple[int, int, Callable[..., Any]]]:
        self.readers += 1
        return self.rows

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    def release(self) -> None:
        self.readers -= 1

    def _writable(self) -> list[tuple[int, int, Callable[..., Any]]]:
        # copy on write only while an emit walks the list; otherwise change it in place
        if self.readers > 0:
            self.rows = list(self.rows)
        return self.rows

    def add(self, priority: int, number: int, handler: Callable[..., Any]) -> None:
        rows = self._writable()
        index = len(rows)
        while index and rows[index - 1][0] < priority:
            index -= 1
        rows.insert(index, (priority, number, handler))

    def discard(self, handler: Callable[..., Any]) -> None:
        rows = self._writable()
        rows[:] = [row for row in rows if not row[2] == handler]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._numbers: Iterator[int] = iter(range(1, 1 << 62))

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        channel = self._channels.setdefault(event, _Channel())
        channel.add(int(priority), next(self._numbers), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        channel = self._channels.get(event)
        if channel is not None:
            channel.discard(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        channel = self._channels.get(event)
        if channel is None:
            return
        with channel as rows:
            for _, _, handler in rows:
                try:
                    result = handler(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
                except BaseException:
                    channel.release()  # do not leave the channel marked busy
                    raise
