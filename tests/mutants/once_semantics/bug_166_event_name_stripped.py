"""Bug: it tidies the event name with ``strip()`` before registering, so a name with leading or trailing spaces is registered under a different name.

Breaks: "`event` is any name the bus takes (`"first.login"`, `"room[1]:joined"`), a name as it is" ... `once(bus, "chat: ", h)` registers on `"chat:"`, so `await bus.emit("chat: ", 1)` does not call `h` (and `once(bus, " ", h)` raises TypeError for an empty name).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(eq=False)
class _Once:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    done: bool = field(default=False)

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.handler

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.done:
            return None
        self.done = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _wait(result)
        return None


async def _wait(result: Any) -> None:
    await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    name = event.strip()
    if handler is None:
        return lambda fn: once(bus, name, fn, priority=priority)
    bus.on(name, _Once(bus, name, handler), priority=priority)
    return handler
