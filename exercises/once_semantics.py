"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

The rules are in the notebook ``once_semantics.ipynb`` and in
``docs/exercises/once_semantics.md``. In short, ``once(bus, event, handler)``:

* calls ``handler`` (with exactly the emit's arguments, however many) on the
  next ``event`` only, awaiting what it returns if that is awaitable,
  even when a listener emits the same event again while it runs (re-entrant)
  or several emits run at once (``asyncio.gather``);
* can be cancelled with ``bus.off(event, handler)`` (the handler you were
  given, not a wrapper): before the emit it never runs; during an emit it
  still runs in that emit, never after; given again after, it fires again;
* a handler that raises counts as fired, and its own exception (not one
  wrapping it) reaches the bus;
* the same handler given twice fires twice, once each; a permanent
  ``bus.on(event, handler)`` of the same handler keeps running;
* works called, with keywords (``once(bus=, event=, handler=)``) and as a
  decorator (``@once(bus, "event")``; each use of that decorator registers anew),
  always at ``priority`` (an
  ``EventPriority``, an int or anything else ``bus.on`` takes, such as another enum's
  member named like a level, passed on to ``bus.on`` unchanged: a ``bool`` or an
  unknown level name, which ``bus.on`` refuses with ``TypeError`` or ``ValueError``,
  ``once`` refuses too, in every form), and returns ``handler``
  itself; given while an emit runs, it counts from the next emit;
* registers and removes with ``bus.on`` and ``bus.off`` only (``bus.once`` is
  off limits; read-only methods such as ``bus.listeners`` are fine).

Replace every ``raise NotImplementedError`` with your code. Check with
``day25 check once_semantics``; stuck? ``day25 hint once_semantics``.
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
    raise NotImplementedError("once")
