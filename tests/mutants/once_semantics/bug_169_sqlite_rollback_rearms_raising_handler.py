"""Bug: the claim (an UPDATE in a per-bus sqlite ledger) and the handler call share one ``with conn:`` transaction, so a sync handler that raises rolls its own claim back and an emit that still holds the wrapper in its snapshot runs it a second time.

Breaks: "**A handler that raises** counts as fired (it never runs again)" and "if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once" ... with a HIGH listener that re-emits `e` and a once handler that raises ValueError, the inner emit runs the handler (which raises and un-claims it) and the outer emit, whose snapshot still has the wrapper, claims it again and runs it a second time; the same happens with `asyncio.gather` of two emits.
"""

from __future__ import annotations

import functools
import sqlite3
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# one ledger per bus (weakly: a bus that goes away takes its ledger with it)
_ledgers: weakref.WeakKeyDictionary[EventBus, sqlite3.Connection] = weakref.WeakKeyDictionary()


def _ledger(bus: EventBus) -> sqlite3.Connection:
    conn = _ledgers.get(bus)
    if conn is None:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE armed (id INTEGER PRIMARY KEY AUTOINCREMENT, fired INTEGER)")
        _ledgers[bus] = conn
    return conn


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    conn = _ledger(bus)
    with conn:
        token = conn.execute("INSERT INTO armed (fired) VALUES (0)").lastrowid

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with conn:  # the claim and the call are one unit of work
            claimed = conn.execute(
                "UPDATE armed SET fired = 1 WHERE id = ? AND fired = 0", (token,)
            ).rowcount
            if claimed != 1:
                return None  # another emit (re-entrant or concurrent) got it first
            bus.off(event, wrapper)
            return handler(*args, **kwargs)  # the bus awaits it if it is awaitable

    bus.on(event, wrapper, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            _register(bus, event, fn, priority)
            return fn

        return decorator
    _register(bus, event, handler, priority)
    return handler
