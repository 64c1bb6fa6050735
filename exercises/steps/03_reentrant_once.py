"""Step 3 (reentrant_once): a once-listener fires once even when its event is emitted
again while it runs.

One idea, on the way to Exercise 2 (once_semantics). The ``once`` below works
for one emit at a time, and fires twice when the handler (or another listener)
emits the same event again. Each emit runs on a *snapshot* of the listeners
taken when it started. Fix it; check with ``day25 check reentrant_once``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus


def once(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``handler`` (sync or async) on the next ``event`` only; return ``handler``."""

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        bus.off(event, wrapper)

    bus.on(event, wrapper)
    return handler
