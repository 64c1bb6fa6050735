"""Bug: `off` matches listeners by their qualified name (and the object they are bound to), so it also removes other functions of the same name, such as another closure made by the same factory or another lambda.

Breaks: "`off(event, handler)` removes all of its registrations on that event, and no other handler" ... With `make = lambda tag: (lambda x: seen.append((tag, x)))`, `on("e", make("a"))`, `on("e", b := make("b"))`, then `off("e", b)`: both are removed (same `__qualname__`), and the next emit calls nobody instead of "a".

Carried over from notebooks/03_priority_listeners.ipynb, cells 7 and 10, and
notebooks/12_best_practices.ipynb, cell 11, which name listeners by `fn.__name__`
(`[fn.__name__ for fn in app.events.listeners(...)]`); the student keys listeners by
name so that `obj.handle`, "a new object every time", is found again.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any

from day25 import EventPriority


def _identity(handler: Callable[..., Any]) -> Hashable:
    """What names a listener: the object it is bound to (if any) and its qualified name."""
    name = getattr(handler, "__qualname__", None)
    if name is None:
        return ("object", id(handler))
    owner = getattr(handler, "__self__", None)
    return (id(owner) if owner is not None else None, getattr(handler, "__module__", None), name)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> [(seq, handler)]
        self._buckets: defaultdict[str, dict[int, list[tuple[int, Callable[..., Any]]]]] = (
            defaultdict(dict)
        )
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        self._buckets[event].setdefault(int(priority), []).append((self._seq, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._buckets.get(event)
        if not levels:
            return
        target = _identity(handler)
        for level in list(levels):
            kept = [(s, h) for s, h in levels[level] if not (h == handler or _identity(h) == target)]
            if kept:
                levels[level] = kept
            else:
                del levels[level]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._buckets.get(event, {})
        plan = [h for level in sorted(levels, reverse=True) for _, h in levels[level]]
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
