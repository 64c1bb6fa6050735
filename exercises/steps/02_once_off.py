"""Step 2 (once_off): a once-listener can be cancelled with the handler you were given.

One idea, on the way to Exercise 2 (once_semantics). ``bus.off(event, fn)``
removes listeners that are ``fn`` *and* listeners whose ``__wrapped__`` is
``fn``. Write ``once`` so that ``bus.off(event, handler)`` cancels it; check
with ``day25 check once_off``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus


def once(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``handler`` on the next ``event`` only (sync handlers are enough here).

    Register with ``bus.on`` and remove with ``bus.off`` (not ``bus.once``);
    return ``handler``. ``bus.off(event, handler)`` before the event cancels it.
    """
    raise NotImplementedError("once")
