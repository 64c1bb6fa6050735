"""Nexios' event API on the day25 bus: what ``install(app)`` puts on ``app.events``.

Why: code written for ``nexios.events.EventEmitter`` (``event("x")``, ``remove_listener``,
the statistics dict of ``emit``, ``EventCancelledError``, ``weak_ref=True``) must keep
working once ``install(app)`` replaced that emitter, while the lesson's API (``await
app.events.emit``, ``off``, namespaces, wildcards) stays the bus's. :class:`NexiosBus`
is an :class:`~day25.bus.EventBus` with Nexios' methods and one Nexios rule added: a
listener raising ``EventCancelledError`` stops the rest of the emit. Where the APIs
disagree, ``docs/reference/nexios.md`` says which wins and why; ``tests/nexios_suite``
runs Nexios' own event tests against this module. Like Nexios, the bus keeps an
:class:`EventHandle` (settings, metrics, the last 100 emits) per name used with
``event()``, ``on`` or ``once``, until ``remove_event``; emitting a name creates none.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from datetime import datetime
from typing import Any, TypeVar

from nexios.events import (
    EventCancelledError,
    ListenerAlreadyRegisteredError,
    MaxListenersExceededError,
)

from day25.bus import EventBus
from day25.namespace import Namespace
from day25.priority import EventPriority, PriorityLike, coerce_priority
from day25.registry import check_event
from day25.result import OK, EmitResult, Finished

__all__ = ["EmitStats", "EventHandle", "NexiosBus", "NexiosNamespace", "WeakListener"]

F = TypeVar("F", bound=Callable[..., Any])
Record = Callable[[int | None], dict[str, Any]]  # listeners that ran (None: cancelled) -> stats
DISABLED = {"cancelled": True, "reason": "Event disabled"}  # what Nexios returns then


def _stats(event_id: str, ran: int | None, took: float) -> dict[str, Any]:
    return {"event_id": event_id, "listeners_executed": ran, "execution_time": took,
            "cancelled": ran is None}


class EmitStats(dict[str, Any], Coroutine[Any, Any, EmitResult]):
    """What ``emit`` returns on a :class:`NexiosBus`: Nexios' statistics dict, which is
    also the lesson's awaitable emit (``await`` it for the ``EmitResult``). An emit of
    only sync listeners ran already: its statistics are final at once; otherwise they
    are filled in when it is awaited."""

    __slots__ = ("_awaitable", "_record", "_running")
    __hash__ = object.__hash__  # type: ignore[assignment]  # asyncio.gather files them in a dict

    def __init__(
        self, stats: dict[str, Any], awaitable: Awaitable[EmitResult], record: Record | None = None
    ) -> None:
        super().__init__(stats)
        self._awaitable, self._record = awaitable, record
        self._running: Generator[Any, Any, EmitResult] | None = None

    @property
    def finished(self) -> bool:
        """Whether the listeners already ran (an emit of only sync listeners)."""
        return isinstance(self._awaitable, Finished)

    def __await__(self) -> Generator[Any, Any, EmitResult]:
        record = self._record or (lambda ran: {})
        try:
            result = yield from self._awaitable.__await__()
        except EventCancelledError:
            self.update(record(None))
            raise
        self.update(record(result.ran))
        return result

    def _steps(self) -> Generator[Any, Any, EmitResult]:
        if self._running is None:
            self._running = self.__await__()
        return self._running

    def send(self, value: Any) -> Any:
        return self._steps().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        return self._steps().throw(typ if val is None else val)

    def close(self) -> None:
        if isinstance(running := self._running or self._awaitable, Coroutine | Generator):
            running.close()


class WeakListener:
    """``weak_ref=True``: calls ``fn`` while something else keeps it alive; once ``fn``
    (or a bound method's object) is collected, ``on_death`` takes it off the bus. It
    equals ``fn`` while ``fn`` lives, so ``off(event, fn)`` and ``has_listener(fn)``
    find it."""

    __slots__ = ("__weakref__", "_hash", "_ref")

    def __init__(self, fn: Callable[..., Any], on_death: Callable[[WeakListener], None]) -> None:
        make: Any = weakref.WeakMethod if inspect.ismethod(fn) else weakref.ref
        self._ref: Callable[[], Callable[..., Any] | None] = make(fn, lambda _: on_death(self))
        self._hash = hash(fn) if type(fn).__hash__ is not None else id(fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self._ref()
        return None if fn is None else fn(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        fn = self._ref()
        if isinstance(other, WeakListener):
            other = other._ref()
        return fn is not None and bool(fn == other)

    def __hash__(self) -> int:
        return self._hash


class EventHandle:
    """``app.events.event(name)``: Nexios' ``Event`` for one name of a :class:`NexiosBus`.

    Its listeners are the bus's; it adds Nexios' per-event state and rules:
    ``listen``/``once`` refuse a listener already registered at that priority
    (``ListenerAlreadyRegisteredError``) and more than ``max_listeners``
    (``MaxListenersExceededError``); a disabled event runs nothing; ``parent`` is
    triggered first (Nexios' capture phase); metrics, history and JSON.
    """

    DEFAULT_MAX_LISTENERS = 100
    HISTORY_LIMIT = 100

    def __init__(self, bus: NexiosBus, name: str, max_listeners: int | None = None) -> None:
        self.bus, self.name = bus, name
        self._max_listeners = max_listeners or self.DEFAULT_MAX_LISTENERS
        self.enabled, self.default_prevented = True, False
        self._parent: EventHandle | None = None
        self._children: list[weakref.ref[EventHandle]] = []
        self._history: deque[dict[str, Any]] = deque(maxlen=self.HISTORY_LIMIT)
        self._metrics = {"trigger_count": 0, "total_listeners_executed": 0,
                         "average_execution_time": 0.0}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<EventHandle name={self.name!r} listeners={self.listener_count}>"

    @property
    def listener_count(self) -> int:
        return len(self.bus._registry.by_key.get(self.name, ()))

    @property
    def max_listeners(self) -> int:
        return self._max_listeners

    @max_listeners.setter
    def max_listeners(self, value: int) -> None:
        if value < self.listener_count:
            raise ValueError(f"Cannot set max_listeners to {value} when there are "
                             f"{self.listener_count} listeners")
        self._max_listeners = value
        if value > self.bus.max_listeners:
            self.bus._warned.add(self.name)  # the limit is this one now: no leak warning

    @property
    def parent(self) -> EventHandle | None:
        return self._parent

    @parent.setter
    def parent(self, value: EventHandle | None) -> None:
        if self._parent is not None:
            self._parent._children = [c for c in self._parent._children if c() is not self]
        self._parent = value
        if value is not None:
            value._children.append(weakref.ref(self))

    @property
    def children(self) -> list[EventHandle]:
        return [child for ref in self._children if (child := ref()) is not None]

    def add_child(self, child: EventHandle) -> None:
        child.parent = self

    def remove_child(self, child: EventHandle) -> None:
        if child.parent is self:
            child.parent = None

    def listen(self, func: F | None = None, *, priority: PriorityLike = EventPriority.NORMAL,
               weak_ref: bool = False) -> Any:
        """Register ``func`` (or decorate it), with Nexios' duplicate and limit checks."""
        return self._register(func, priority, weak_ref, once=False)

    def once(self, func: F | None = None, *, priority: PriorityLike = EventPriority.NORMAL,
             weak_ref: bool = False) -> Any:
        return self._register(func, priority, weak_ref, once=True)

    def _register(self, func: F | None, priority: PriorityLike, weak_ref: bool, once: bool) -> Any:
        if func is None:
            return lambda fn: self._register(fn, priority, weak_ref, once)
        level = coerce_priority(priority)
        if self.listener_count >= self._max_listeners:
            raise MaxListenersExceededError(
                f"Max listeners ({self._max_listeners}) exceeded for event '{self.name}'")
        for entry in self.bus._registry.find(self.name, func):
            if entry.once == once and entry.priority == level:
                raise ListenerAlreadyRegisteredError(
                    f"Listener already registered for event '{self.name}'")
        return self.bus._register(self.name, func, level, weak_ref, once)

    def remove_listener(self, listener: Callable[..., Any]) -> None:
        self.bus.off(self.name, listener)

    def remove_all_listeners(self) -> None:
        self.bus.off(self.name)

    def has_listener(self, listener: Callable[..., Any]) -> bool:
        return bool(self.bus._registry.find(self.name, listener))

    def trigger(self, *args: Any, **kwargs: Any) -> EmitStats:
        """``emit`` this event: its parent's listeners first, then its own."""
        if not self.enabled:
            return EmitStats(DISABLED, Finished(OK[0]))
        first = None if self._parent is None else self._parent.trigger(*args, **kwargs)
        if first is None or first.finished:
            return self.bus._emit_with_stats(self.name, self, args, kwargs)
        own = _stats(str(uuid.uuid4()), 0, 0.0)

        async def after_the_parent() -> EmitResult:
            await first  # the parent has async listeners: all of them run when awaited
            stats = self.bus._emit_with_stats(self.name, self, args, kwargs)
            result = await stats
            own.update(stats)
            return result

        return EmitStats(own, after_the_parent(), lambda ran: own)

    def cancel(self) -> None:
        """From a listener: stop this emit (the listeners after this one)."""
        raise EventCancelledError("Event propagation cancelled")

    def prevent_default(self) -> None:
        self.default_prevented = True

    def _record(self, stats: dict[str, Any], args: Any, kwargs: Any) -> None:
        ran, took = stats["listeners_executed"] or 0, stats["execution_time"]
        entry = {"timestamp": datetime.now().isoformat(), "args": str(args),
                 "kwargs": str(kwargs), **stats}
        with self._lock:
            metrics = self._metrics
            metrics["trigger_count"] = count = metrics["trigger_count"] + 1
            metrics["total_listeners_executed"] += ran
            average = metrics["average_execution_time"]  # a running mean, as Nexios keeps
            metrics["average_execution_time"] = average + (took / max(1, ran) - average) / count
            self._history.append(entry)

    def get_metrics(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._metrics)

    def get_history(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            history = list(self._history)
        return history if limit is None else history[-limit:] if limit else []

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "listener_count": self.listener_count,
                           "max_listeners": self.max_listeners, "enabled": self.enabled,
                           "metrics": self.get_metrics()})

    @classmethod
    def from_json(cls, json_str: str, bus: NexiosBus | None = None) -> EventHandle:
        """The serialized name's handle on ``bus`` (a new one by default), set up as
        serialized; listeners are not serialized, as in Nexios."""
        data = json.loads(json_str)
        handle = (bus or NexiosBus()).event(data["name"])
        handle.max_listeners, handle.enabled = data["max_listeners"], data["enabled"]
        return handle


class NexiosBus(EventBus):
    """An :class:`~day25.bus.EventBus` that also speaks Nexios' ``EventEmitter`` API:
    ``emit`` returns :class:`EmitStats`; ``event(name)`` / ``bus[name]`` give the
    name's :class:`EventHandle`; ``on``/``once`` take ``weak_ref=``; and
    ``remove_listener``, ``remove_all_listeners``, ``remove_event``,
    ``remove_all_events``, ``has_event`` and ``name in bus`` work as in Nexios.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._events: dict[str, EventHandle] = {}

    def event(self, event_name: str) -> EventHandle:
        handle = self._events.get(event_name)
        if handle is None:
            check_event(event_name, pattern_ok=True)
            handle = self._events[event_name] = EventHandle(self, event_name)
        return handle

    __getitem__ = event

    def __contains__(self, event_name: object) -> bool:
        return event_name in self._events or event_name in self._registry.by_key

    def has_event(self, event_name: str) -> bool:
        return event_name in self

    def remove_listener(self, event_name: str, listener: Callable[..., Any]) -> None:
        self.off(event_name, listener)

    def remove_all_listeners(self, event_name: str | None = None) -> None:
        for name in list(self._registry.by_key) if event_name is None else [event_name]:
            self.off(name)

    def remove_event(self, event_name: str) -> None:
        self.off(event_name)
        self._events.pop(event_name, None)

    def remove_all_events(self) -> None:
        self.remove_all_listeners()
        self._events.clear()

    def namespace(self, name: str) -> NexiosNamespace:
        return NexiosNamespace(self, name)

    def on(self, event: str, handler: F | None = None, *,
           priority: PriorityLike = EventPriority.MEDIUM, weak_ref: bool = False) -> Any:
        return self._register(event, handler, priority, weak_ref, once=False)

    def once(self, event: str, handler: F | None = None, *,
             priority: PriorityLike = EventPriority.MEDIUM, weak_ref: bool = False) -> Any:
        return self._register(event, handler, priority, weak_ref, once=True)

    def _register(self, event: str, handler: F | None, priority: PriorityLike, weak_ref: bool,
                  once: bool) -> Any:
        if handler is None:
            return lambda fn: self._register(event, fn, priority, weak_ref, once)
        listener: Callable[..., Any] = handler
        if weak_ref:
            listener = WeakListener(handler, lambda dead: self.off(event, dead))
        (super().once if once else super().on)(event, listener, priority=priority)
        if not event.endswith("*"):
            self.event(event)  # Nexios keeps an Event for every name listened to
        return handler

    def emit(self, event: str, /, *args: Any, **kwargs: Any) -> EmitStats:
        handle = self._events.get(event)
        if handle is not None:
            return handle.trigger(*args, **kwargs)
        return self._emit_with_stats(event, None, args, kwargs)

    def _emit_with_stats(self, event: str, handle: EventHandle | None, args: Any,
                         kwargs: Any) -> EmitStats:
        """``EventBus.emit``, plus the statistics Nexios returns and records."""
        event_id, started = str(uuid.uuid4()), time.perf_counter()

        def record(ran: int | None) -> dict[str, Any]:
            stats = _stats(event_id, ran, time.perf_counter() - started)
            if handle is not None:
                handle._record(stats, args, kwargs)
            return stats

        try:
            emitting = super().emit(event, *args, **kwargs)
        except EventCancelledError:
            record(None)
            raise
        if isinstance(emitting, Finished):
            return EmitStats(record(emitting.outcome.ran), emitting)
        return EmitStats(_stats(event_id, 0, 0.0), emitting, record)

    def _failed(self, errors: list[Exception] | None, exc: Exception, listener: object,
                event: str) -> list[Exception]:
        if isinstance(exc, EventCancelledError):
            raise exc  # Nexios: a listener that cancels stops the rest; the emit raises it
        return super()._failed(errors, exc, listener, event)


class NexiosNamespace(Namespace):
    """``app.events.namespace("user")`` on a :class:`NexiosBus`: the lesson's namespace
    plus Nexios' ``event(name)`` and ``ns[name]`` (``on``/``once`` pass ``weak_ref=``)."""

    bus: NexiosBus

    def event(self, event_name: str) -> EventHandle:
        return self.bus.event(self._name(event_name))

    __getitem__ = event
