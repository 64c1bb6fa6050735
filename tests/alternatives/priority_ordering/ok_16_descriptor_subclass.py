"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): priority_ordering with a descriptor-backed listener table, ``__init_subclass__`` and logging.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable
from functools import total_ordering
from itertools import count
from operator import attrgetter
from typing import Any, ClassVar

from day25 import EventPriority

log = logging.getLogger(__name__)


class PerInstanceTable:
    """A descriptor giving each emitter its own ``OrderedDict`` of event -> registrations."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = "_" + name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            return getattr(instance, self.attr)
        except AttributeError:
            table: OrderedDict[str, list[Slot]] = OrderedDict()
            setattr(instance, self.attr, table)
            return table


@total_ordering
class Slot:
    __slots__ = ("priority", "number", "handler")

    def __init__(self, priority: int, number: int, handler: Callable[..., Any]) -> None:
        self.priority = int(priority)
        self.number = number
        self.handler = handler

    @property
    def key(self) -> tuple[int, int]:
        return (-self.priority, self.number)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slot):
            return NotImplemented
        return self.key == other.key

    def __lt__(self, other: Slot) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Slot(priority={self.priority}, number={self.number}, handler={self.handler!r})"


class BaseEmitter:
    registry: ClassVar[list[str]] = []
    default_priority: ClassVar[int] = EventPriority.MEDIUM

    def __init_subclass__(cls, /, default_priority: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if default_priority is not None:
            cls.default_priority = int(default_priority)
        BaseEmitter.registry.append(cls.__qualname__)


class PriorityEmitter(BaseEmitter, default_priority=EventPriority.MEDIUM):
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    listeners = PerInstanceTable()
    _numbers: count

    def __init__(self) -> None:
        super().__setattr__("_numbers", count(1))

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        slots = self.listeners.setdefault(event, [])
        slots.append(Slot(priority, next(self._numbers), handler))
        slots.sort(key=attrgetter("key"))
        log.debug("on %s: %r at %s", event, handler, int(priority))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        slots = self.listeners.get(event)
        if slots is None:
            return
        kept = [s for s in slots if not (s.handler == handler)]
        if kept:
            self.listeners[event] = kept
        else:
            del self.listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self.listeners.get(event, ()))
        for slot in snapshot:
            result = slot.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

    def __call__(self, event: str, priority: int = EventPriority.MEDIUM) -> Callable[[Any], Any]:
        """Decorator form: ``@emitter("e", priority=...)``."""
        return lambda fn: self.on(event, fn, priority)

    def __contains__(self, event: object) -> bool:
        return event in self.listeners

    def __len__(self) -> int:
        return sum(map(len, self.listeners.values()))
