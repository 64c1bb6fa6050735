"""Bug: like an Android ordered broadcast (or WordPress's apply_filters, where priorities also decide the order), a listener that returns a value other than None hands that value on: the listeners after it get it in place of emit's first positional argument.

Breaks: "each listener gets exactly the positional and keyword arguments given to `emit`" and "It is awaited once: what that gives back is a value" ... With on("e", normalize, HIGH) where normalize(doc) returns a cleaned copy, and on("e", store), `await emit("e", {"id": 1})` calls store(<normalize's copy>) instead of store({"id": 1}); the same with an async def listener that returns something.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._order = 0
        self._receivers: dict[str, list[dict[str, Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._order += 1
        self._receivers.setdefault(event, []).append(
            {"priority": int(priority), "order": self._order, "handler": handler})
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        receivers = self._receivers.get(event)
        if receivers is None:
            return
        self._receivers[event] = [r for r in receivers if not r["handler"] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        receivers = sorted(self._receivers.get(event, ()),
                           key=lambda r: (-r["priority"], r["order"]))
        data = list(args)
        for receiver in receivers:
            result = receiver["handler"](*data, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            if result is not None and data:
                data[0] = result  # the result travels down the ordered chain
