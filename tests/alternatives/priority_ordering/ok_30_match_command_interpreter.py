"""Style: every call becomes a command tuple that one `match` statement applies to an immutable state (event -> tuple of ranked registrations, kept sorted), so an emit just reads the tuple it finds.

Follows: "a bigger priority runs earlier ... `10` runs before `HIGHEST`, `-5` after `LOWEST`, and `2**53 + 1` before `2**53`" (registrations are sorted by the exact int `-priority`); "`2`, `EventPriority.MEDIUM`, `EventPriority.NORMAL` and the default are one priority" (all become the int 2); "listeners of the same priority run in the order they were registered" (a stamp that only grows is the second sort key); "registering the same handler twice makes it run twice. `off(event, handler)` removes all of its registrations on that event, and no other handler ... `on` again is a new registration" (an `("off", ...)` command filters with `==`, an `("on", ...)` always adds a fresh stamped entry); "Removing a handler or event that is not there does nothing"; "calls one listener at a time ... awaited to the end before the next listener starts ... awaited once" (a plain loop with `inspect.isawaitable`); "an emit works on a **snapshot**" (the state tuples are never changed in place, so the tuple an emit took first is its snapshot); "its exception comes out of `emit` at once" and "returns `None`"; "An event is its exact name" and "keep the state in the object" (a dict on the instance, keys used as given).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Registration = tuple[int, int, Callable[..., Any]]  # (-priority, stamp, handler)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[_Registration, ...]] = {}
        self._stamp = 0

    def _apply(self, command: tuple[Any, ...]) -> None:
        match command:
            case ("on", str() as event, handler, int() as priority):
                self._stamp += 1
                current = self._state.get(event, ())
                added = (*current, (-priority, self._stamp, handler))
                self._state[event] = tuple(sorted(added, key=lambda r: (r[0], r[1])))
            case ("off", str() as event, handler):
                current = self._state.get(event)
                if current is not None:
                    self._state[event] = tuple(r for r in current if not r[2] == handler)
            case _:
                raise ValueError(f"unknown command {command[0]!r}")

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._apply(("on", event, handler, int(priority)))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._apply(("off", event, handler))

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = self._state.get(event, ())
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
