"""Bug: the wrapper deep-copies the emit's arguments "to protect the other listeners", so the handler gets copies, not the objects emitted.

Breaks: "Arguments: the handler gets exactly the positional and keyword arguments given to emit".
The handler receives equal but different objects (a mutation it makes is lost, an identity check
fails, and an argument that cannot be deep-copied makes the wrapper raise instead of calling it).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(eq=False)
class _Registration:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    fired: bool = False
    listener: Callable[..., Any] | None = field(default=None, repr=False)

    def install(self, priority: Any) -> None:
        @functools.wraps(self.handler)
        async def listener(*args: Any, **kwargs: Any) -> None:
            if self.fired:
                return
            self.fired = True
            self.bus.off(self.event, listener)
            # private copies, so the handler cannot change what later listeners see
            args = copy.deepcopy(args)
            kwargs = copy.deepcopy(kwargs)
            result = self.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        self.listener = listener
        self.bus.on(self.event, listener, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    _Registration(bus, event, handler).install(priority)
    return handler
