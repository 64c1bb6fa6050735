"""Bug: `emit` has a `payload` parameter of its own (the lesson's `emit(event, payload)` shape, with `*args` after it), so a keyword argument named `payload` is taken by `emit` and handed on as the first positional argument.

Breaks: "each listener gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names (but `event`, emit's own)" ... "(so a helper that passes the call on takes no parameter of its own by such a name)". ... `await emit("e", payload={"id": 1})` calls `listener({"id": 1})` instead of `listener(payload={"id": 1})`: a listener `def f(*, payload)` raises TypeError, and `def f(payload=None, **kw)` cannot tell.

Carried over from notebooks/12_best_practices.ipynb, cell 7 (`def check_payload(payload=None,
*rest, **kw)`) and the lessons' `await app.events.emit(name, payload)` (cheat sheet, "emit"):
the student kept a named payload and added `*args, **kwargs` for "none or several".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from itertools import count
from operator import itemgetter
from typing import Any

from day25 import EventPriority

_NOTHING: Any = object()  # emit(event) with no payload at all
_ORDER = itemgetter(0, 1)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._subs: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._ticket = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        subs = self._subs.get(event, [])
        self._subs[event] = sorted([*subs, (-int(priority), next(self._ticket), handler)], key=_ORDER)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        subs = self._subs.get(event)
        if subs is not None:
            self._subs[event] = [sub for sub in subs if not sub[2] == handler]

    async def emit(self, event: str, payload: Any = _NOTHING, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        if payload is not _NOTHING:
            args = (payload, *args)
        for _, _, handler in self._subs.get(event, ()):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
