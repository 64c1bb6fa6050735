"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): once_semantics with an ``abc.ABC`` one-shot base, ``cached_property`` and a ``WeakKeyDictionary``
counting each bus's pending once-listeners (for ``pending_count``; it never keeps a bus alive).
"""

from __future__ import annotations

import abc
import inspect
import itertools
import weakref
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

from day25 import EventBus, EventPriority

_pending: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def pending_count(bus: EventBus) -> int:
    """How many once-listeners given through this module have not fired on ``bus``."""
    return _pending.get(bus, 0)


class OneShot(abc.ABC):
    """A callable that runs its target at most once."""

    _ids: ClassVar[itertools.count] = itertools.count(1)
    kinds: ClassVar[dict[str, type[OneShot]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        OneShot.kinds[cls.__name__] = cls

    def __init__(self, target: Callable[..., Any]) -> None:
        self.__wrapped__ = target
        self.spent = False
        self.ident = next(self._ids)

    @abc.abstractmethod
    def detach(self) -> None:
        """Take this one-shot off whatever holds it."""

    @cached_property
    def label(self) -> str:
        target = self.__wrapped__
        return getattr(target, "__qualname__", None) or repr(target)

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.spent:
            return
        self.spent = True
        self.detach()
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    def __repr__(self) -> str:
        return f"<{type(self).__name__} #{self.ident} {self.label} spent={self.spent}>"


class BusOnce(OneShot):
    def __init__(self, bus: EventBus, event: str, target: Callable[..., Any]) -> None:
        super().__init__(target)
        self.bus = bus
        self.event = event

    def attach(self, priority: int) -> None:
        self.bus.on(self.event, self, priority=priority)
        _pending[self.bus] = _pending.get(self.bus, 0) + 1

    def detach(self) -> None:
        self.bus.off(self.event, self)
        _pending[self.bus] = max(0, _pending.get(self.bus, 0) - 1)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        BusOnce(bus, event, fn).attach(priority)
        return fn

    return register if handler is None else register(handler)
