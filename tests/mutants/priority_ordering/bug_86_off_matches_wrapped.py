"""Bug: off also removes listeners whose __wrapped__ equals the handler (as the bundled bus does for once-wrappers), so off(event, f) removes a different handler that merely wraps f.

Breaks: "off(event, handler) removes all of its registrations on that event, and no other handler."
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Per event, a dict registration id -> (priority, handler); ids grow, so dict order is registration order."""

    def __init__(self) -> None:
        self._regs: dict[str, dict[int, tuple[int, Callable[..., Any]]]] = {}
        self._ids = itertools.count(1)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._regs.setdefault(event, {})[next(self._ids)] = (int(priority), handler)
        return handler

    @staticmethod
    def _matches(registered: Callable[..., Any], handler: Callable[..., Any]) -> bool:
        if registered == handler:
            return True
        # decorated listeners (functools.wraps) should go with their original too
        inner = getattr(registered, "__wrapped__", None)
        return inner is not None and inner == handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self._regs.get(event)
        if not regs:
            return
        for reg_id in [rid for rid, (_p, h) in regs.items() if self._matches(h, handler)]:
            del regs[reg_id]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        regs = self._regs.get(event, {})
        # sorted() is stable and dict order is registration order
        ordered = sorted(regs.values(), key=lambda item: item[0], reverse=True)
        for _prio, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
