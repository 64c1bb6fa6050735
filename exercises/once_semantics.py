"""Exercise 2, once_semantics: build ``once`` on top of an EventBus's ``on`` and ``off``.

Read docs/exercises/once_semantics.md (or the notebook once_semantics.ipynb)
for the rules. In short, ``once(bus, event, handler)``:

* calls ``handler`` on the next ``event`` only, even when a listener emits the
  same event again while it runs (re-entrant) or several emits run at once
  (``asyncio.gather``);
* can be cancelled before it fires with ``bus.off(event, handler)`` (the
  handler you were given, not a wrapper);
* works as a decorator (``@once(bus, "event")``) and returns ``handler`` itself;
* uses only ``bus.on`` and ``bus.off`` (``bus.once`` is off limits).

Replace every ``raise NotImplementedError`` marked TODO with your code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    # TODO: without a handler, return a decorator that registers the function it gets.
    # TODO: register a wrapper with bus.on(event, wrapper, priority=priority) that
    #       runs handler at most once and takes itself off the bus.
    raise NotImplementedError("TODO: once")
