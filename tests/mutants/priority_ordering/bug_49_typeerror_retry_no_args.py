"""Bug: a TypeError from a listener is taken as a signature mismatch and the listener is called again without arguments.

Breaks: "A listener that raises: its exception comes out of emit at once, and the listeners after it do not run in that emit" and "each listener gets exactly the positional and keyword arguments given to emit".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def make_registration(handler: Callable[..., Any], priority: int, number: int) -> dict[str, Any]:
    return {"handler": handler, "priority": int(priority), "number": number}


class PriorityEmitter:
    """Registrations as small dicts, sorted at emit time."""

    def __init__(self) -> None:
        self._table: dict[str, list[dict[str, Any]]] = {}
        self._numbers = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._numbers += 1
        self._table.setdefault(event, []).append(
            make_registration(handler, priority, self._numbers)
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        if event in self._table:
            self._table[event] = [r for r in self._table[event] if r["handler"] != handler]

    @staticmethod
    def _invoke(handler: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return handler(*args, **kwargs)
        except TypeError:
            # the listener does not take the event's arguments: call it bare
            return handler()

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        regs = sorted(self._table.get(event, []), key=lambda r: (-r["priority"], r["number"]))
        for reg in regs:
            result = self._invoke(reg["handler"], args, kwargs)
            if inspect.isawaitable(result):
                await result
