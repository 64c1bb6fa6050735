"""The listener records of one bus and the cached, sorted *plan* of one event.

Why a module of its own: ``EventBus.emit`` resolves an event name once (exact
listeners plus matching wildcards, sorted by priority then registration order)
and reuses that plan until ``on``/``off`` change something. What a plan knows in
advance (all sync? all async? any once or wildcard?) picks the emit's path.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable
from typing import Any

from day25.result import EmitResult, Finished

__all__ = ["Listener", "Plan", "check_event", "current_event", "pattern_matches"]

_current_event: contextvars.ContextVar[str] = contextvars.ContextVar("day25_event")


def current_event() -> str:
    """The name of the event being emitted, for wildcard listeners."""
    try:
        return _current_event.get()
    except LookupError:
        raise RuntimeError("current_event() is only set inside a wildcard listener") from None


class Listener:
    """One registration: the callable, its priority and order, once or not."""

    __slots__ = ("callback", "is_async", "key", "once", "order", "priority")

    def __init__(
        self, callback: Callable[..., Any], priority: int, order: int, once: bool, key: str
    ) -> None:
        self.callback = callback
        self.priority = priority
        self.order = order
        self.once = once
        self.key = key  # the event name or pattern it is registered under
        call = getattr(type(callback), "__call__", None)  # noqa: B004 - async __call__ objects
        self.is_async = inspect.iscoroutinefunction(callback) or (
            not inspect.isroutine(callback) and inspect.iscoroutinefunction(call)
        )

    def matches(self, handler: object) -> bool:
        cb = self.callback
        return cb is handler or cb == handler or getattr(cb, "__wrapped__", None) is handler


def check_event(event: object, *, pattern_ok: bool) -> str:
    if not isinstance(event, str) or not event:
        raise TypeError(f"an event name must be a non-empty string, not {event!r}")
    star = event.find("*")
    if star != -1:
        if not pattern_ok:
            raise ValueError(f"cannot emit the wildcard pattern {event!r}; emit a concrete event")
        if event != "*" and not (event.endswith(":*") and star == len(event) - 1):
            raise ValueError(f"'*' may only be a whole last segment ('ui:*' or '*'), not {event!r}")
    return event


def pattern_matches(pattern: str, event: str) -> bool:
    return pattern == "*" or event.startswith(pattern[:-1])


class Plan:
    """The resolved, sorted listeners of one event name, cached until on/off."""

    __slots__ = ("awaited", "done", "entries", "has_async", "ok", "sync")

    def __init__(self, entries: tuple[Listener, ...]) -> None:
        self.entries = entries
        simple = not any(e.once or e.key.endswith("*") for e in entries)
        cbs = tuple(e.callback for e in entries)
        self.has_async = any(e.is_async for e in entries)
        self.sync = cbs if simple and not self.has_async else None
        self.awaited = cbs if simple and entries and all(e.is_async for e in entries) else None
        self.ok = EmitResult(len(entries))
        self.done: Finished | None = None  # the shared awaitable of a clean sync emit
