"""Style: each event maps its sort keys ``(-priority, registration number)`` to handlers in a plain dict, and emit sorts the keys.

Follows: "a bigger priority runs earlier" and "ties in registration order" (the key sorts by -priority, then by a number that only grows); "The default priority is MEDIUM" and "A priority is its number, however it is spelled" (int(priority) in the key, default EventPriority.MEDIUM); "registering the same handler twice makes it run twice" (every on() gets its own key); "`off` ... removes all of its registrations on that event, and no other handler", compared "with `==`, not `is`", and "on again is a new registration" (off rebuilds the dict without the keys whose handler == handler; a later on gets a new, bigger number); "an emit works on a snapshot ... taken when it starts" (the run order is a list made before the first call); "If what a listener returns is awaitable (`inspect.isawaitable`), it is awaited" once, one listener at a time; "exactly the positional and keyword arguments"; a listener's exception and a cancellation simply come out of the for loop; emit returns None; the state lives in the object.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._keyed: dict[str, dict[tuple[int, int], Callable[..., Any]]] = {}
        self._next_number = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._next_number += 1
        self._keyed.setdefault(event, {})[(-int(priority), self._next_number)] = handler
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        keyed = self._keyed.get(event)
        if keyed is None:
            return
        self._keyed[event] = {key: h for key, h in keyed.items() if not h == handler}

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        keyed = self._keyed.get(event, {})
        run_order = [keyed[key] for key in sorted(keyed)]
        for handler in run_order:
            returned = handler(*args, **kwargs)
            if inspect.isawaitable(returned):
                await returned
