"""A listener shape whose result changes from call to call: ``returns_awaitable_if_truthy``.

Why a module of its own: :mod:`day25.course.inside.listeners` is near its size limit. The
texts say that what a listener *returns* is awaited when it is awaitable, so the question
is asked of every result, at every call: ``def maybe(x): return save(x) if x else None``
(``save`` an ``async def``) is a listener like any other. This shape is that listener: a
sync function that returns a coroutine (the listener's async body, as
``returns_awaitable`` does) when its first positional argument is true, and else records
at once and returns ``None``. An emit that learns from one call whether a handler is
"async" and trusts that later either never runs the coroutine (its call is missing from
the trace) or awaits ``None`` (a ``TypeError`` no listener raised). Give it no
``reemit`` or ``sleep``: whether it waits depends on the payload, which the model does
not follow.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["returns_awaitable_if_truthy"]

Args = tuple[Any, ...]


def returns_awaitable_if_truthy(
    now: Callable[[Args, dict[str, Any]], None],
    body: Callable[[Args, dict[str, Any]], Coroutine[Any, Any, None]],
) -> Callable[..., Any]:
    """A sync listener: ``body(...)``'s coroutine for a true first argument, else it
    records (``now``) and returns ``None``."""

    def made(*args: Any, **kwargs: Any) -> Any:
        if args and args[0]:
            return body(args, kwargs)  # awaitable: the emit must await it
        now(args, kwargs)
        return None

    return made
