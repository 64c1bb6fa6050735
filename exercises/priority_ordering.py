"""Exercise 1: priority_ordering. Write your own small priority emitter.

The rules are in the notebook ``priority_ordering.ipynb`` and in
``docs/exercises/priority_ordering.md``. In short:

* ``on(event, handler, priority=EventPriority.MEDIUM)`` registers ``handler``
  and returns it unchanged. Any int (an IntEnum's member too, by its value) is a priority;
  bigger runs earlier (``2``, ``MEDIUM`` and the default are one priority: they
  tie).
* ``off(event, handler)`` removes every registration of ``handler`` on
  ``event``, comparing with ``==`` (so a bound method ``obj.handle`` works);
  removing something that is not there is not an error; ``on`` again after
  ``off`` is a new registration (at the back of its priority).
* ``await emit(event, *args, **kwargs)`` calls every listener of ``event`` with
  exactly those arguments (none, one or several): higher priority first, ties in
  registration order, one at a time, awaiting whatever a listener returns that
  is awaitable (a coroutine, a Task...: ``inspect.isawaitable``; a plain or async
  generator is not, and is not run through) before the next starts. It works
  on a snapshot taken as it starts (``on``/``off`` during an emit count from the
  next emit), lets a listener's own exception out at once, unwrapped (the rest
  of that emit does not run), and returns None. An emit inside a listener runs
  to its end before the outer one goes on.

The bundled bus (``day25.EventBus``) is off limits in this file: it already does
the ordering that is graded. ``from day25 import EventPriority`` is fine.

Replace every ``raise NotImplementedError`` with your code. Check with
``day25 check priority_ordering``; stuck? ``day25 hint priority_ordering``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # TODO: choose how to store listeners: per event, with their priority
        # and the order in which they were registered.
        pass

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        # TODO: remember handler with its priority and registration order.
        raise NotImplementedError("TODO: PriorityEmitter.on")

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        # TODO: forget handler for this event only.
        raise NotImplementedError("TODO: PriorityEmitter.off")

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # TODO: call each listener in priority order; await the async ones.
        raise NotImplementedError("TODO: PriorityEmitter.emit")
