"""Style: event sourcing: each event keeps an append-only log of ``on`` and ``off`` records, and every emit replays the log into the current listeners (compacting the log when tombstones pile up).

Follows: "a bigger priority runs earlier" / "Any `int` is a priority too ... however large" (replay sorts by ``-priority`` as an exact int) and "listeners of the same priority run in the order they were registered" (then by position in the log); "registering the same handler twice makes it run twice" (two ``on`` records); "`off(event, handler)` removes all of its registrations on that event" and "compares handlers with `==`" (an ``off`` record drops every earlier live record whose handler ``== handler``, so "`on` again is a new registration ... after the listeners of its priority registered before it"); "Removing a handler or event that is not there does nothing" (no log, no record); "an emit works on a **snapshot** ... taken when it starts" (the replay result is a tuple built before the first call); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" (once); "each listener gets exactly the positional and keyword arguments given to `emit`"; nothing is caught ("its exception comes out of `emit` at once"); "`await emit(...)` returns `None`"; logs live in the instance; an inner emit replays on its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority

_COMPACT_AFTER = 16  # off records tolerated in one log before it is rewritten


class _Record(NamedTuple):
    kind: str  # "on" or "off"
    handler: Callable[..., Any]
    priority: int  # meaningful for "on" only


def _replay(log: list[_Record]) -> list[tuple[int, int, Callable[..., Any]]]:
    """Live registrations as (priority, position, handler), highest first, ties by position."""
    live: list[tuple[int, int, Callable[..., Any]]] = []
    for position, record in enumerate(log):
        if record.kind == "on":
            live.append((record.priority, position, record.handler))
        else:
            live = [entry for entry in live if not entry[2] == record.handler]
    live.sort(key=lambda entry: (-entry[0], entry[1]))
    return live


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._logs: dict[str, list[_Record]] = {}
        self._tombstones: dict[str, int] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._logs.setdefault(event, []).append(_Record("on", handler, int(priority)))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        log = self._logs.get(event)
        if log is None:
            return
        log.append(_Record("off", handler, 0))
        self._tombstones[event] = self._tombstones.get(event, 0) + 1
        if self._tombstones[event] >= _COMPACT_AFTER:
            self._compact(event)

    def _compact(self, event: str) -> None:
        """Rewrite the log as its live ``on`` records, in their log order."""
        live = sorted(_replay(self._logs[event]), key=lambda entry: entry[1])
        if live:
            self._logs[event] = [_Record("on", h, p) for p, _, h in live]
        else:
            del self._logs[event]
        self._tombstones.pop(event, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = tuple(handler for _, _, handler in _replay(self._logs.get(event, [])))
        for listener in listeners:
            value = listener(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
