"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 8): "Nothing trims them: a handler whose parameters do not fit raises
Python's ``TypeError``, which counts as its error." ``_fit_arguments`` drops the
positional and keyword arguments the handler's signature cannot take, so
``emit("e", 1, 2)`` to ``def h(x)`` calls ``h(1)`` and no error is reported. An
assistant copies Node's ``EventEmitter``, where a listener simply ignores extra args.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _fit_arguments(
    handler: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Pass the handler only what it accepts (like a JS listener ignoring extra args)."""
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):  # C callables such as max: pass everything
        return args, kwargs
    kinds = {p.kind for p in params}
    if inspect.Parameter.VAR_POSITIONAL not in kinds:
        args = args[: sum(p.kind in _POSITIONAL for p in params)]
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        names = {p.name for p in params if p.kind is not inspect.Parameter.POSITIONAL_ONLY}
        kwargs = {k: v for k, v in kwargs.items() if k in names}
    return args, kwargs


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        call_args, call_kwargs = _fit_arguments(handler, args, kwargs)
        result = handler(*call_args, **call_kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
