"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): once_semantics with ``typing.overload`` for the two call forms and an ``enum`` state.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from day25 import EventBus, EventPriority

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class State(enum.Enum):
    WAITING = enum.auto()
    FIRED = enum.auto()


@overload
def once(bus: EventBus, event: str, handler: F, *, priority: int = ...) -> F: ...
@overload
def once(bus: EventBus, event: str, handler: None = ..., *, priority: int = ...) -> Callable[[F], F]: ...


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(_register, bus, event, priority=priority)
    return _register(bus, event, handler, priority=priority)


def _register(bus: EventBus, event: str, handler: F, *, priority: int) -> F:
    state = State.WAITING

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal state
        if state is State.FIRED:
            return
        state = State.FIRED
        bus.off(event, wrapper)
        log.debug("once %s: firing %r", event, handler)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    # update_wrapper sets wrapper.__wrapped__ = handler: bus.off(event, handler) finds it
    functools.update_wrapper(wrapper, handler, assigned=(), updated=())
    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
