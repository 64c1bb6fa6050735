"""Install an :class:`~day25.bus.EventBus` as a NexiosApp's ``app.events``.

Nexios 3.12 creates ``app.events`` (a ``nexios.events.EventEmitter``) and never
uses it itself: no route, middleware or lifespan step reads it. Replacing the
attribute therefore breaks nothing in Nexios, and makes every lesson snippet
(``await app.events.emit``, ``off``, ``MEDIUM``) behave as the lesson says.
"""

from __future__ import annotations

from typing import Any

from day25.bus import EventBus

__all__ = ["install"]


def install(app: Any, bus: EventBus | None = None) -> EventBus:
    """Make ``bus`` (a new one by default) the app's ``app.events`` and return it.

    Calling it twice on the same app keeps the bus already installed, so its
    listeners survive, unless a different ``bus`` is passed explicitly.
    """
    if not hasattr(app, "events"):
        raise TypeError(f"install() expects a NexiosApp (something with .events), not {app!r}")
    current = app.events
    if bus is None:
        bus = current if isinstance(current, EventBus) else EventBus()
    app.events = bus
    return bus
