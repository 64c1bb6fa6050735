"""Bug: `emit` catches a `TypeError` from calling a listener and raises a new, friendlier `TypeError` in its place, so a listener's own `TypeError` never comes out.

Breaks: "It is the listener's own exception, not another one wrapping it: a listener's `ValueError` comes out of `emit` as that `ValueError`" ... A sync listener that does `raise TypeError("bad amount")` (or `len(None)`): the caller's `except TypeError as exc` gets a new exception ("listener ... cannot take the arguments of emit('e', ...): bad amount"), `exc is` the listener's error is False and its message and attributes are lost.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # one flat list for every event: (event, priority, serial, handler)
        self._records: list[tuple[str, int, int, Callable[..., Any]]] = []
        self._serials = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._records.append((event, int(priority), next(self._serials), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._records = [
            record for record in self._records
            if not (record[0] == event and record[3] == handler)
        ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        mine = [record for record in self._records if record[0] == event]
        mine.sort(key=lambda record: (-record[1], record[2]))
        for _, _, _, handler in mine:
            try:
                result = handler(*args, **kwargs)
            except TypeError as exc:
                # rule 4: a listener whose parameters do not fit raises TypeError;
                # say which listener it was
                name = getattr(handler, "__qualname__", repr(handler))
                raise TypeError(
                    f"listener {name} cannot take the arguments of emit({event!r}, ...): {exc}"
                ) from exc
            if inspect.isawaitable(result):
                await result
