"""Bug: event names are normalized with ``unicodedata.normalize("NFKC", ...)`` before they are used as keys, which folds compatibility characters (full-width letters, ligatures, superscripts) and composed/decomposed accents into one name.

Breaks: "An event is its exact name: `"Save"`, `"save"` and `" save"` are three events." ... after ``on("save", h)``, ``await emit("ｓａｖｅ")`` (full-width) calls ``h``; so do ``on("ﬁle", h)`` with ``emit("file")`` and ``on("x²", h)`` with ``emit("x2")``.
"""

from __future__ import annotations

import inspect
import unicodedata
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _event_key(event: str) -> str:
    # one canonical spelling per name, so that equal-looking names are one event
    return unicodedata.normalize("NFKC", event)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event key -> {priority: tuple of handlers in registration order}
        self._levels: dict[str, dict[int, tuple[Callable[..., Any], ...]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._levels.setdefault(_event_key(event), {})
        level = int(priority)
        levels[level] = levels.get(level, ()) + (handler,)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        key = _event_key(event)
        levels = self._levels.get(key)
        if not levels:
            return
        for level, handlers in list(levels.items()):
            kept = tuple(h for h in handlers if not h == handler)
            if kept:
                levels[level] = kept
            else:
                del levels[level]
        if not levels:
            del self._levels[key]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._levels.get(_event_key(event), {})
        plan = [h for level in sorted(levels, reverse=True) for h in levels[level]]
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
