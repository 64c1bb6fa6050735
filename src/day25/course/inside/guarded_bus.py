"""The bus exercise 2's scenarios act on: the bundled bus without its once-listeners.

Why a class of its own: exercise 2 grades a ``once`` built on ``on`` and ``off``,
so every way to the bus's own once-listeners must say so, in one sentence the
student reads in their feedback (a red team scored 23 of 25 through
``bus._add(..., once=True)`` before the private ways were refused too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus

__all__ = ["ONCE_OFF_LIMITS", "GuardedBus"]

ONCE_OFF_LIMITS = ("bus.once() is off limits in this exercise, and so are the bus's own "
                   "once-listeners by any other way: build once() from bus.on() and bus.off()")


class GuardedBus(EventBus):
    """The bundled bus, minus its once-listeners: exercise 2 must build once on on/off.

    ``once()`` raises, and so do the private ways to the same listeners
    (``bus._add(..., once=True)``, the registry's ``add``): they all end in the
    registry's ``add``, which refuses ``once`` here.
    """

    def __init__(self, *, max_listeners: int = 50, raise_errors: bool = False) -> None:
        super().__init__(max_listeners=max_listeners, raise_errors=raise_errors)
        add = self._registry.add

        def add_refusing_once(key: str, callback: Callable[..., Any], priority: int,
                              once: bool) -> int:
            if once:
                raise RuntimeError(ONCE_OFF_LIMITS)
            return add(key, callback, priority, once)

        self._registry.add = add_refusing_once  # type: ignore[method-assign]

    def once(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(ONCE_OFF_LIMITS)
