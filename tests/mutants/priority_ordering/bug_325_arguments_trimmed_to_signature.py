"""Exercise 1: priority_ordering. Arguments a listener cannot take are trimmed off before the call.

BUG (planted): "Nothing trims them: a listener whose parameters do not fit raises Python's
`TypeError` (rule 8)". Before each call emit checks the arguments against the listener's
signature and, when they do not bind, drops the extra positionals and the unknown keywords
so the listener still runs; a listener whose parameters do not fit is called with fewer
arguments instead of raising TypeError out of emit. Shows with a listener taking fewer
arguments than the emit passes (emit("e", 1, 2, k=3) to def f(x)).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _fit(
    handler: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The part of ``args`` / ``kwargs`` that ``handler`` can take (all of it if it fits)."""
    try:
        sig = inspect.signature(handler)
    except (TypeError, ValueError):
        return args, kwargs
    try:
        sig.bind(*args, **kwargs)
        return args, kwargs
    except TypeError:
        pass  # too many arguments for this listener: keep what it can take
    params = list(sig.parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        n = len(args)
    else:
        n = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if any(p.kind is p.VAR_KEYWORD for p in params):
        kw = dict(kwargs)
    else:
        kw = {k: v for k, v in kwargs.items() if k in sig.parameters}
    return args[:n], kw


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, registration number, handler), kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _number, handler in snapshot:
            call_args, call_kwargs = _fit(handler, args, kwargs)
            result = handler(*call_args, **call_kwargs)
            if inspect.isawaitable(result):
                await result
