"""Install an :class:`~day25.bus.EventBus` as a NexiosApp's ``app.events``.

Nexios 3.12 creates ``app.events`` (a ``nexios.events.EventEmitter``) and never
uses it itself: no route, middleware or lifespan step reads it (checked in
``tests/bus/test_integration.py``). Replacing the attribute therefore breaks
nothing in Nexios, and makes every lesson snippet (``await app.events.emit``,
``off``, namespaces) behave as the lesson says. The bus installed by default is
a :class:`~day25.nexios_compat.NexiosBus`, so that code written for Nexios'
emitter (``app.events.event("x").listen(f)``, ``remove_listener``, ...) keeps
working too; it is imported here, when an app exists, because it imports Nexios.

The lesson's priority snippet does ``from nexios.events import EventPriority``
and uses ``EventPriority.MEDIUM``, a level Nexios calls ``NORMAL``. So that the
snippet runs verbatim, :func:`install` also gives Nexios' enum a ``MEDIUM``
attribute that *is* its ``NORMAL`` member (an alias: Nexios' own members,
iteration and ``__members__`` are unchanged). Pass ``nexios_aliases=False`` to
leave Nexios' enum untouched.

:func:`forget_route` exists for notebooks. Nexios serves the first route whose
path matches and has no public way to remove one, so a cell that defines
``@app.ws_route("/chat2")`` and runs a second time adds a route that is never
served: the first run's handler answers. Forgetting the path first makes a
re-run serve what the cell now says; the one reach into Nexios' router lives
here, with a test that fails if Nexios moves it.
"""

from __future__ import annotations

from typing import Any

from day25.bus import EventBus

__all__ = ["forget_route", "install"]


def install(app: Any, bus: EventBus | None = None, *, nexios_aliases: bool = True) -> EventBus:
    """Make ``bus`` (a new ``NexiosBus`` by default) the app's ``app.events``; return it.

    Calling it twice on the same app keeps the bus already installed, so its
    listeners survive, unless a different ``bus`` is passed explicitly.
    """
    if not hasattr(app, "events"):
        raise TypeError(f"install() expects a NexiosApp (something with .events), not {app!r}")
    current = app.events
    if bus is None:
        from day25.nexios_compat import NexiosBus

        bus = current if isinstance(current, EventBus) else NexiosBus()
    app.events = bus
    if nexios_aliases:
        _alias_medium()
    return bus


def _alias_medium() -> None:
    from nexios.events import EventPriority as NexiosPriority

    if not hasattr(NexiosPriority, "MEDIUM"):
        # EnumType.__setattr__ only guards existing member names; a new name is
        # a plain class attribute pointing at the existing NORMAL member.
        type.__setattr__(NexiosPriority, "MEDIUM", NexiosPriority.NORMAL)


def forget_route(app: Any, path: str) -> int:
    """Remove every route (HTTP or WebSocket) of ``app`` registered for ``path``.

    ``path`` is the path as it was registered (``"/chat/{room}"``), not a URL.
    Returns how many routes went; 0 when none had that path (a first run).
    """
    routes = getattr(getattr(app, "router", None), "routes", None)
    if not isinstance(routes, list):
        raise TypeError(f"forget_route() expects a NexiosApp (app.router.routes), not {app!r}")
    kept = [route for route in routes if getattr(route, "raw_path", None) != path]
    removed = len(routes) - len(kept)
    routes[:] = kept
    return removed
