"""BUG: delegates to the bus's own ``once`` (behaviourally right on a plain
EventBus, but the exercise forbids it; the checker's bus raises).

Violates rule 13: "**Only `on` and `off` register and remove**: `bus.once` is off
limits (the checker's bus raises if you call it)."

(Re-checked under the re-specified text: still a bug.)
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
    return bus.once(event, handler, priority=priority)
