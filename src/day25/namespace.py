"""Namespaces: the bus's API with every event name prefixed, e.g. ``ui:``.

Why a separate object instead of string concatenation at each call site: a
namespace can be handed to one part of an app (the UI code, a plugin) which
then cannot emit or listen outside it by accident, and ``namespace("form")`` on
it nests (``ui:form:submit``). ``ns.on("*")`` is the wildcard ``ui:*``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from day25.priority import EventPriority, PriorityLike
from day25.result import EmitResult, Emitting

__all__ = ["Namespace"]

F = TypeVar("F", bound=Callable[..., Any])


class Bus(Protocol):
    """What a namespace needs of its bus (an ``EventBus``; a protocol so that this
    module, which the bus imports, does not import the bus back)."""

    @property
    def on(self) -> Callable[..., Any]: ...  # on(event, handler=None, *, priority=..., ...)
    @property
    def once(self) -> Callable[..., Any]: ...
    def off(self, event: str, handler: Callable[..., Any] | None = None) -> None: ...
    def emit(self, event: str, /, *args: Any, **kwargs: Any) -> Emitting: ...
    def fire(self, event: str, /, *args: Any, **kwargs: Any) -> asyncio.Task[EmitResult]: ...
    def listeners(self, event: str) -> list[Callable[..., Any]]: ...
    def namespace(self, name: str) -> Namespace: ...


class Namespace:
    """``bus.namespace("ui")``: the same API, every event name prefixed ``ui:``."""

    def __init__(self, bus: Bus, name: str) -> None:
        if not isinstance(name, str) or not name or "*" in name:
            raise TypeError(f"a namespace name must be a non-empty string without '*': {name!r}")
        self.bus = bus
        self.prefix = name if name.endswith(":") else name + ":"

    def on(
        self, event: str, handler: F | None = None, *,
        priority: PriorityLike = EventPriority.MEDIUM, **options: Any,
    ) -> Any:
        """The bus's ``on`` (``options``: whatever else that bus's ``on`` takes)."""
        return self.bus.on(self._name(event), handler, priority=priority, **options)

    def once(
        self, event: str, handler: F | None = None, *,
        priority: PriorityLike = EventPriority.MEDIUM, **options: Any,
    ) -> Any:
        return self.bus.once(self._name(event), handler, priority=priority, **options)

    def off(self, event: str, handler: Callable[..., Any] | None = None) -> None:
        self.bus.off(self._name(event), handler)

    def emit(self, event: str, /, *args: Any, **kwargs: Any) -> Emitting:
        return self.bus.emit(self._name(event), *args, **kwargs)  # eager like the bus's

    def fire(self, event: str, /, *args: Any, **kwargs: Any) -> asyncio.Task[EmitResult]:
        return self.bus.fire(self._name(event), *args, **kwargs)

    def listeners(self, event: str) -> list[Callable[..., Any]]:
        return self.bus.listeners(self._name(event))

    def namespace(self, name: str) -> Namespace:
        return self.bus.namespace(self._name(name))  # the bus picks the class

    def _name(self, event: str) -> str:
        if not isinstance(event, str) or not event:
            raise TypeError(f"an event name must be a non-empty string, not {event!r}")
        return self.prefix + event

    def __repr__(self) -> str:
        return f"<Namespace {self.prefix[:-1]!r}>"
