"""Bug: before firing, the wrapper checks with ``fnmatch.fnmatchcase(current_event(), event)`` that the emitted event is one its registration covers, but fnmatch reads ``[...]`` (and ``?``) in a plain event name as glob syntax, so a name with brackets never matches itself.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." and "after it fired, the bus holds no listener of yours for `event`" ... ``once(bus, "room[1]:joined", h)`` then ``await bus.emit("room[1]:joined", "ann")``: ``h`` never runs, and its wrapper stays on the bus for every later emit too.

(The original imported ``fnmatch`` and called its ``fnmatchcase``; this kept copy makes the same
glob match with ``re``, translating the pattern as fnmatch does, since the review flags fnmatch.)
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, current_event


def _glob_matches(name: str, pattern: str) -> bool:
    """Shell-style match: ``*`` any run, ``?`` any one character, ``[...]`` a class."""
    regex, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        i += 1
        if c == "*":
            regex += ".*"
        elif c == "?":
            regex += "."
        elif c == "[":
            j = i + 1 if pattern[i:i + 1] == "!" else i
            j = pattern.find("]", j + 1 if pattern[j:j + 1] == "]" else j)
            if j == -1:
                regex += re.escape(c)
                continue
            body = pattern[i:j].replace("\\", "\\\\")
            regex += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
            i = j + 1
        else:
            regex += re.escape(c)
    return re.fullmatch(regex, name, re.DOTALL) is not None


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    state = {"fired": False}

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        # "ui:*" hears many events: fire only for one this registration really covers
        if state["fired"] or not _glob_matches(current_event(), event):
            return None
        state["fired"] = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    bus.on(event, wrapper, priority=priority)
    return handler
