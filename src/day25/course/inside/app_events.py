"""What an app does on ``app.events``, seen and driven from the grader's side.

Why a module of its own: the texts name the events an app emits (and their
payloads) and which *listener* acts on which event, so the grader both reads
what the app emitted (:class:`EventLog`, recorded by a listener of every event,
answered to ``events``) and emits an event itself as the app's own code would
(:func:`emit`, answered to ``emit``), to see that a listener, not the route,
does the work.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from day25 import current_event
from day25.course.protocol import EventRecord

__all__ = ["EventLog", "emit"]


def _not_json(value: object) -> dict[str, str]:
    return {"not JSON": type(value).__name__, "repr": repr(value)[:200]}


async def emit(events: Any, event: str, payload: Any) -> list[str]:
    """Emit on ``app.events``; what its listeners raised, for the grader's message."""
    result = await events.emit(event, payload)
    return [f"{type(e).__name__}: {e}"[:500] for e in getattr(result, "errors", ())]


class EventLog:
    """Every emit on ``app.events``, JSON-ready, readable from the control thread."""

    def __init__(self) -> None:
        self.items: list[EventRecord] = []
        self._lock = threading.Lock()

    def record(self, *args: Any, **kwargs: Any) -> None:
        item = {"event": current_event(), "args": list(args), "kwargs": kwargs}
        # a copy (later mutation unseen); what JSON cannot hold stays recognisably not a
        # str (an exception object where the text asks for a message is not its repr)
        copy: EventRecord = json.loads(json.dumps(item, default=_not_json))
        with self._lock:
            self.items.append(copy)

    def snapshot(self) -> list[EventRecord]:
        with self._lock:
            return list(self.items)
