"""Style: each registration is a row in a small in-memory sqlite3 table, and the wrapper claims its turn with a DELETE whose rowcount says whether it got the row.

Follows: "runs on the next emit of `event`, and never again" and "A sync handler too" (the row is deleted, atomically, before the handler is called; a re-entrant or concurrent call finds rowcount 0 and returns); "takes itself off" / "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)"; "bus.off(event, handler) (...) before the event is emitted means it never runs" and "Cancelling *during* an emit (...) still runs that once" (`__wrapped__` is the handler, and the row is only consumed by a call); "A handler that raises counts as fired" (the row is gone before the call; the exception is not caught); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited" once; "exactly the positional and keyword arguments" (`*args, **kwargs` only); "each use is a registration of its own" (a new row and wrapper per call); "`handler is None`" selects the decorator; `priority` is passed on unchanged; "returns `handler` itself"; "keep no state by `id` in the module" (one connection per registration, owned by its wrapper).
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _ticket() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE armed (slot INTEGER PRIMARY KEY)")
    db.execute("INSERT INTO armed (slot) VALUES (1)")
    return db


def _take(db: sqlite3.Connection) -> bool:
    return db.execute("DELETE FROM armed WHERE slot = 1").rowcount == 1


async def _await_once(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    db = _ticket()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _take(db):
            return None
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _await_once(result)
        return None

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
