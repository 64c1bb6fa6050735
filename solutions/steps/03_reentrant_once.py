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
    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:  # an emit that took its snapshot before we left still calls us
            return
        fired = True
        bus.off(event, wrapper)  # before the call: an emit inside it must not find us
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper)
    return handler
