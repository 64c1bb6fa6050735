"""Bug: it translates every enum member whose name is a level name to ``day25.EventPriority`` by that name (right for Nexios' members), so a member of one's own ``IntEnum`` that happens to be called ``HIGH`` or ``LOW`` loses its value.

Breaks: "A member of an `IntEnum` of your own (`URGENT = 10`) is an `int`: the bus takes it by its value." and "pass it on unchanged" ... with `class Mine(IntEnum): HIGH = 10`, `on("e", b, priority=5)` and `once(bus, "e", a, priority=Mine.HIGH)`, an emit calls `b` before `a` (HIGH is 3 < 5) where `a` (10) should run first.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _by_name(priority: Any) -> Any:
    """Compare priorities by name, never by value across two enums (the cheat sheet's advice)."""
    if isinstance(priority, enum.Enum) and priority.name in EventPriority.__members__:
        return EventPriority[priority.name]
    return priority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def use(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return use

    state = {"armed": True}

    def run_once(*args: Any, **kwargs: Any) -> Any:
        if not state["armed"]:
            return None
        state["armed"] = False
        bus.off(event, run_once)
        value = handler(*args, **kwargs)
        if not inspect.isawaitable(value):
            return None

        async def wait() -> None:
            await value

        return wait()

    run_once.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, run_once, priority=_by_name(priority))
    return handler
