"""``EventBus.emit_concurrent``: the async listeners of one priority level at once.

Why a module of its own: it is an explicit opt-in with rules of its own (a task
per listener, levels still in priority order, no order within a level) that the
plain ``emit`` path never needs; keeping it here keeps ``bus.py`` readable.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from typing import TYPE_CHECKING, Any

from day25.plan import Listener, _current_event
from day25.result import EmitResult

if TYPE_CHECKING:
    from day25.bus import EventBus

__all__ = ["emit_concurrent"]


async def emit_concurrent(bus: EventBus, event: str, args: Any, kwargs: Any) -> EmitResult:
    """Call ``event``'s listeners level by level, gathering each level's awaitables."""
    plan = bus._plan(event).entries
    token = _current_event.set(event) if bus._patterns else None
    ran, errors = 0, None
    try:
        for _, level in itertools.groupby(plan, key=lambda e: e.priority):
            waiting: list[tuple[Listener, Any]] = []
            for entry in level:
                if entry.once and not bus._claim(entry):
                    continue
                ran += 1
                try:
                    result = entry.callback(*args, **kwargs)
                    if result is not None and inspect.isawaitable(result):
                        waiting.append((entry, result))
                except Exception as exc:
                    errors = bus._failed(errors, exc, entry.callback, event)
            outcomes = await asyncio.gather(*(w for _, w in waiting), return_exceptions=True)
            for (entry, _), outcome in zip(waiting, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    errors = bus._failed(errors, outcome, entry.callback, event)
                elif isinstance(outcome, BaseException):
                    raise outcome
    finally:
        if token is not None:
            _current_event.reset(token)
    return bus._result(ran, errors)
