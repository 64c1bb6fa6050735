"""Bug: `emit` binds the arguments to every listener's signature before calling any of them, so a listener whose parameters do not fit raises before the listeners ahead of it have run.

Breaks: "**A listener that raises**: its exception comes out of `emit` at once, and the listeners after it do not run in that emit (like a plain `for` loop)." and "Nothing trims them: a listener whose parameters do not fit raises Python's `TypeError` (rule 8)." ... With `on("e", first, priority=HIGH)` and `on("e", lambda a, b: None)`, `await emit("e", 1)` raises `TypeError` without calling `first(1)`, which a plain loop would have called before reaching the misfit.
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
        # event -> {token: (priority, handler)}; a dict keeps insertion order, which
        # is registration order
        self._table: dict[str, dict[int, tuple[int, Callable[..., Any]]]] = {}
        self._tokens = itertools.count(1)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._table.setdefault(event, {})[next(self._tokens)] = (int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._table.get(event)
        if not entries:
            return
        for token in [t for t, (_, h) in entries.items() if h == handler]:
            del entries[token]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        entries = self._table.get(event, {})
        # sorted() is stable: equal priorities keep registration order
        ordered = [h for _, h in sorted(entries.values(), key=lambda entry: -entry[0])]
        # fail fast: a listener that cannot take these arguments is a TypeError
        # before anything runs
        for handler in ordered:
            try:
                signature = inspect.signature(handler)
            except (TypeError, ValueError):  # no signature to read (some builtins)
                continue
            signature.bind(*args, **kwargs)
        for handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
