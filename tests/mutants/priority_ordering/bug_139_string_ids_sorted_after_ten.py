"""Bug: registrations are keyed by string ids ("0", "1", ...) and ties are broken by sorting those strings, which matches registration order only until the emitter hands out its eleventh id ("10" sorts before "2").

Breaks: "**Ties**: listeners of the same priority run in the order they were registered." ... after eleven `on("e", h0)` ... `on("e", h10)` at the default priority, `emit("e")` runs `h0, h1, h10, h2, ..., h9` instead of `h0` ... `h10`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {registration id: (priority, handler)}
        self._registrations: dict[str, dict[str, tuple[int, Callable[..., Any]]]] = {}
        self._issued = 0

    def _new_id(self) -> str:
        registration_id = str(self._issued)
        self._issued += 1
        return registration_id

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        table = dict(self._registrations.get(event, {}))
        table[self._new_id()] = (int(priority), handler)
        self._registrations[event] = table
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        table = self._registrations.get(event)
        if not table:
            return
        kept = {rid: entry for rid, entry in table.items() if not entry[1] == handler}
        if kept:
            self._registrations[event] = kept
        else:
            del self._registrations[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        table = self._registrations.get(event, {})
        # highest priority first; ids were handed out in registration order
        order = sorted(table, key=lambda rid: (-table[rid][0], rid))
        handlers = [table[rid][1] for rid in order]
        for handler in handlers:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
