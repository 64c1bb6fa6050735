"""Style: an async closure whose one-shot state is a single token in a list, claimed with list.pop (no nonlocal flag), and a decorator built by a small inner registrar.

Why it is correct: every registration gets its own token list, so the same
handler given twice makes two independent registrations. The first call of the
wrapper pops the token synchronously, before any await, so a re-entrant emit or a
concurrent emit that holds the wrapper in its snapshot finds the list empty and
returns; a handler that raises has still used its token. Right after claiming, the
wrapper removes only itself with bus.off(event, wrapper) (identity, never the
handler, so a permanent bus.on of the handler survives), then calls the handler
with exactly the emit's positional and keyword arguments and awaits the result
when it is awaitable, letting any exception through unchanged. functools.wraps
sets the wrapped attribute before bus.on, so bus.off(event, handler) or an equal
bound method cancels it before the emit; during an emit the snapshot still calls
it once. The priority goes to bus.on unchanged, and the handler itself is returned
in every call form.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""

    def registrar(fn: Callable[..., Any]) -> Callable[..., Any]:
        token: list[object] = [object()]

        async def wrapper(*args: Any, **kwargs: Any) -> None:
            try:
                token.pop()
            except IndexError:
                return  # already claimed by an earlier call
            bus.off(event, wrapper)
            outcome = fn(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome

        bus.on(event, functools.wraps(fn)(wrapper), priority=priority)
        return fn

    return registrar if handler is None else registrar(handler)
