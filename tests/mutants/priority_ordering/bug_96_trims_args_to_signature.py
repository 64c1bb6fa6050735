"""Bug: arguments are trimmed to what the listener's signature accepts instead of being passed as given.

Breaks: "Nothing trims them: a listener whose parameters do not fit raises Python's TypeError (rule 8)."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _fit(handler: Callable[..., Any], args: tuple[Any, ...],
         kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Drop the extra arguments a listener cannot take, so simple listeners still work."""
    try:
        sig = inspect.signature(handler)
    except (TypeError, ValueError):
        return args, kwargs
    params = list(sig.parameters.values())
    kinds = {p.kind for p in params}
    if inspect.Parameter.VAR_POSITIONAL not in kinds:
        npos = sum(1 for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                   inspect.Parameter.POSITIONAL_OR_KEYWORD))
        args = args[:npos]
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        names = {p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                      inspect.Parameter.KEYWORD_ONLY)}
        kwargs = {k: v for k, v in kwargs.items() if k in names}
    return args, kwargs


class PriorityEmitter:
    """Per event a list kept sorted on insert (stable: new ones go after equal priorities)."""

    def __init__(self) -> None:
        self._table: dict[Any, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entries = self._table.setdefault(event, [])
        prio = int(priority)
        index = len(entries)
        while index > 0 and entries[index - 1][0] < prio:
            index -= 1
        entries.insert(index, (prio, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._table.get(event)
        if entries:
            self._table[event] = [(p, h) for p, h in entries if h != handler]

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        for _, handler in tuple(self._table.get(event, ())):
            call_args, call_kwargs = _fit(handler, args, kwargs)
            result = handler(*call_args, **call_kwargs)
            if inspect.isawaitable(result):
                await result
