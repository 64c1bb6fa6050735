"""Exercise 1, priority_ordering: write your own small priority emitter.

Read docs/exercises/priority_ordering.md (or the notebook priority_ordering.ipynb)
for the rules. In short:

* ``on(event, handler, priority=EventPriority.MEDIUM)`` registers ``handler``
  and returns it unchanged.
* ``off(event, handler)`` removes every registration of ``handler`` on ``event``;
  removing something that is not there is not an error.
* ``await emit(event, *args, **kwargs)`` calls every listener of ``event`` with
  those arguments: HIGH before MEDIUM before LOW, listeners of the same priority
  in the order they were registered, one after another, awaiting each async
  listener before the next one starts.

Replace every ``raise NotImplementedError`` marked TODO with your code.
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
        priority: EventPriority = EventPriority.MEDIUM,
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
