"""Bug: each listener is called through ``inspect.signature(listener).bind(...)`` and then with ``bound.args`` / ``bound.kwargs``, which turns keyword arguments into positional ones and judges a ``functools.wraps`` wrapper by the signature of the function it wraps.

Breaks: "each listener gets exactly the positional and keyword arguments given to `emit` ... `emit("e", 1, 2, k=3)` calls `listener(1, 2, k=3)`" ... a listener ``logged = functools.wraps(save)(lambda *a, **kw: ...)`` around ``def save(item, k=0)`` gets ``logged(1, 3)`` from ``emit("e", 1, k=3)``; and if ``save`` is ``def save(item)`` while the wrapper accepts anything, ``emit("e", 1, 2)`` raises ``TypeError`` without calling the wrapper at all.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _call(handler: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call ``handler``; a call that does not fit raises Python's own ``TypeError``."""
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):  # some builtins have no signature: just call them
        return handler(*args, **kwargs)
    bound = signature.bind(*args, **kwargs)  # TypeError, like the call itself, when it does not fit
    return handler(*bound.args, **bound.kwargs)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> ([-priority, ...], [handler, ...]), both in call order
        self._events: dict[str, tuple[list[int], list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        keys, handlers = self._events.setdefault(event, ([], []))
        at = bisect.bisect_right(keys, -int(priority))
        keys.insert(at, -int(priority))
        handlers.insert(at, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._events:
            return
        keys, handlers = self._events[event]
        pairs = [(k, h) for k, h in zip(keys, handlers) if not h == handler]
        if pairs:
            self._events[event] = ([k for k, _ in pairs], [h for _, h in pairs])
        else:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = tuple(self._events.get(event, ((), ()))[1])
        for handler in snapshot:
            result = _call(handler, args, kwargs)
            if inspect.isawaitable(result):
                await result
        return None
