"""An asyncio event bus with the API the Day 25 lesson teaches.

Why it exists: on Nexios 3.12 ``await app.events.emit(...)`` raises, async
listeners become unreferenced tasks, and there is no ``off`` and no ``MEDIUM``.
:class:`EventBus` makes the lesson's code true, and is small enough to read in
one sitting.

The rules, in one place:

* ``on`` / ``once`` register a listener (directly or as a decorator) and return
  it unchanged. Registering the same function twice is allowed: it runs twice.
* ``await emit(event, *args, **kwargs)`` calls every listener with those
  arguments, one after another, awaiting async ones: higher priority first,
  ties in registration order. It returns an :class:`EmitResult`.
* Each emit works on a *snapshot*: listeners added or removed while it runs take
  effect from the next emit. The one exception is ``once``: a once-listener is
  removed *before* it is called, and an emit that finds it already taken (by a
  re-entrant or concurrent emit) skips it, so it never fires twice.
* ``off(event, fn)`` removes every registration of ``fn`` on ``event`` (plain or
  once, and wrappers whose ``__wrapped__`` is ``fn``); ``off(event)`` removes all
  of the event's listeners. Removing what is not there is not an error.
* A listener that raises :class:`Exception` does not stop the others: the error
  is logged and returned in the result (or raised as an ``ExceptionGroup`` after
  all listeners ran, with ``raise_errors=True``). ``BaseException`` such as
  ``asyncio.CancelledError`` propagates at once.
* Wildcards: a listener on ``"ui:*"`` hears every event whose name starts with
  ``"ui:"`` (``ui:click``, ``ui:form:submit``), and ``"*"`` hears every event.
  ``*`` may only be the last segment, and only listeners use it: emitting a
  pattern is an error. Wildcard and exact listeners merge by priority, then by
  registration order; :func:`current_event` tells a wildcard listener which
  event it is hearing.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from day25.namespace import Namespace
from day25.priority import EventPriority, PriorityLike, coerce_priority

__all__ = [
    "EmitResult",
    "EventBus",
    "ListenerLimitWarning",
    "current_event",
]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("day25.events")
_current_event: contextvars.ContextVar[str] = contextvars.ContextVar("day25_event")
_PLAN_CACHE_LIMIT = 2048


class ListenerLimitWarning(RuntimeWarning):
    """More listeners on one event than ``max_listeners``: often a leak."""


class EmitResult(NamedTuple):
    """What one emit did: how many listeners ran and what they raised."""

    ran: int
    errors: tuple[Exception, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_errors(self) -> None:
        """Raise the listeners' exceptions as one ``ExceptionGroup``, if any."""
        if self.errors:
            raise ExceptionGroup("event listeners raised", list(self.errors))


_OK = tuple(EmitResult(n) for n in range(64))  # results without errors are shared


def current_event() -> str:
    """The name of the event being emitted, for wildcard listeners."""
    try:
        return _current_event.get()
    except LookupError:
        raise RuntimeError("current_event() is only set inside a wildcard listener") from None


class _Listener:
    __slots__ = ("callback", "is_async", "key", "once", "order", "priority")

    def __init__(
        self, callback: Callable[..., Any], priority: int, order: int, once: bool, key: str
    ) -> None:
        self.callback = callback
        self.priority = priority
        self.order = order
        self.once = once
        self.key = key  # the event name or pattern it is registered under
        call = getattr(type(callback), "__call__", None)  # noqa: B004 - async __call__ objects
        self.is_async = inspect.iscoroutinefunction(callback) or (
            not inspect.isroutine(callback) and inspect.iscoroutinefunction(call)
        )

    def matches(self, handler: object) -> bool:
        cb = self.callback
        return cb is handler or cb == handler or getattr(cb, "__wrapped__", None) is handler


def _check_event(event: object, *, pattern_ok: bool) -> str:
    if not isinstance(event, str) or not event:
        raise TypeError(f"an event name must be a non-empty string, not {event!r}")
    star = event.find("*")
    if star != -1:
        if not pattern_ok:
            raise ValueError(f"cannot emit the wildcard pattern {event!r}; emit a concrete event")
        if event != "*" and not (event.endswith(":*") and star == len(event) - 1):
            raise ValueError(f"'*' may only be a whole last segment ('ui:*' or '*'), not {event!r}")
    return event


def _pattern_matches(pattern: str, event: str) -> bool:
    return pattern == "*" or event.startswith(pattern[:-1])


class _Plan:
    """The resolved, sorted listeners of one event name, cached until on/off."""

    __slots__ = ("awaited", "entries", "ok", "sync")

    def __init__(self, entries: tuple[_Listener, ...]) -> None:
        self.entries = entries
        simple = not any(e.once or e.key.endswith("*") for e in entries)
        cbs = tuple(e.callback for e in entries)
        self.sync = cbs if simple and not any(e.is_async for e in entries) else None
        self.awaited = cbs if simple and entries and all(e.is_async for e in entries) else None
        self.ok = EmitResult(len(entries))


class EventBus:
    """Register listeners with ``on``/``once``, remove them with ``off``, ``await emit``.

    ``max_listeners`` (default 50, ``0`` for no limit) only warns, once per event.
    ``raise_errors=True`` makes every emit raise its listeners' exceptions as an
    ``ExceptionGroup`` after all of them ran.
    """

    def __init__(self, *, max_listeners: int = 50, raise_errors: bool = False) -> None:
        self.max_listeners = max_listeners
        self.raise_errors = raise_errors
        self._listeners: dict[str, list[_Listener]] = {}
        self._plans: dict[str, _Plan] = {}
        self._patterns: list[str] = []
        self._order = 0
        self._warned: set[str] = set()
        self._pending: set[asyncio.Task[EmitResult]] = set()

    # -- registration -------------------------------------------------------
    def on(
        self, event: str, handler: F | None = None, *, priority: PriorityLike = EventPriority.MEDIUM
    ) -> Any:
        """Call ``handler`` on every ``event``; usable as ``@bus.on("event")``."""
        return self._add(event, handler, priority, once=False)

    def once(
        self, event: str, handler: F | None = None, *, priority: PriorityLike = EventPriority.MEDIUM
    ) -> Any:
        """Call ``handler`` on the next ``event`` only; usable as a decorator."""
        return self._add(event, handler, priority, once=True)

    def _add(self, event: str, handler: F | None, priority: PriorityLike, *, once: bool) -> Any:
        _check_event(event, pattern_ok=True)
        level = coerce_priority(priority)
        if handler is None:

            def decorator(fn: F) -> F:
                self._add(event, fn, level, once=once)
                return fn

            return decorator
        if not callable(handler):
            raise TypeError(f"a listener must be callable, not {handler!r}")
        self._order += 1
        entry = _Listener(handler, level, self._order, once, event)
        entries = self._listeners.setdefault(event, [])
        entries.append(entry)
        if event.endswith("*") and event not in self._patterns:
            self._patterns.append(event)
        self._plans.clear()
        limit = self.max_listeners
        if limit and len(entries) > limit and event not in self._warned:
            self._warned.add(event)
            warnings.warn(
                f"{len(entries)} listeners on {event!r} (max_listeners={limit}): a leak? "
                "Raise EventBus(max_listeners=...) if this is intended.",
                ListenerLimitWarning,
                stacklevel=3,
            )
        return handler

    def off(self, event: str, handler: Callable[..., Any] | None = None) -> None:
        """Remove ``handler`` from ``event``, or every listener of ``event``."""
        _check_event(event, pattern_ok=True)
        if handler is not None and not callable(handler):
            raise TypeError(f"a listener must be callable, not {handler!r}")
        entries = self._listeners.get(event)
        if not entries:
            return
        if handler is None:
            entries.clear()
        else:
            entries[:] = [e for e in entries if not e.matches(handler)]
        if not entries:
            del self._listeners[event]
            if event in self._patterns:
                self._patterns.remove(event)
        self._plans.clear()

    def _claim(self, entry: _Listener) -> bool:
        """Take a once-listener off the bus; False if someone already took it."""
        key = entry.key
        entries = self._listeners.get(key)
        if entries is None:
            return False
        for i, e in enumerate(entries):
            if e is entry:
                del entries[i]
                if not entries:
                    del self._listeners[key]
                    if key in self._patterns:
                        self._patterns.remove(key)
                self._plans.clear()
                return True
        return False

    # -- introspection ------------------------------------------------------
    def listeners(self, event: str) -> list[Callable[..., Any]]:
        """The callables ``emit(event)`` would call, in call order.

        For a pattern such as ``"ui:*"`` it lists the pattern's own listeners.
        """
        if event.endswith("*"):
            _check_event(event, pattern_ok=True)
            return [e.callback for e in self._listeners.get(event, ())]
        return [e.callback for e in self._plan(event).entries]

    def event_names(self) -> list[str]:
        """Every event name and pattern that has at least one listener."""
        return list(self._listeners)

    def namespace(self, name: str) -> Namespace:
        """A view of this bus whose event names are prefixed with ``name:``."""
        return Namespace(self, name)

    def _plan(self, event: str) -> _Plan:
        plan = self._plans.get(event)
        if plan is None:
            _check_event(event, pattern_ok=False)
            found = list(self._listeners.get(event, ()))
            for pattern in self._patterns:
                if _pattern_matches(pattern, event):
                    found.extend(self._listeners[pattern])
            found.sort(key=lambda e: (-e.priority, e.order))
            plan = _Plan(tuple(found))
            if len(self._plans) >= _PLAN_CACHE_LIMIT:
                self._plans.clear()
            self._plans[event] = plan
        return plan

    # -- emitting -----------------------------------------------------------
    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> EmitResult:
        """Call the listeners of ``event`` in priority order, awaiting each."""
        plan = self._plans.get(event) or self._plan(event)
        # Fast paths: a plain loop when there are no keyword arguments and every
        # listener is sync (or every one is async), none once, none wildcard.
        # That is most emits, and it keeps the bus close to a hand-written loop
        # (benchmarks/emit.py). Everything else takes _emit_general.
        if kwargs:  # cb(*args) is much cheaper than cb(*args, **{}) on CPython
            return await self._emit_general(plan.entries, event, args, kwargs)
        fast = plan.sync
        if fast is not None:
            errors: list[Exception] | None = None
            for cb in fast:
                try:
                    result = cb(*args)
                    if result is not None and inspect.isawaitable(result):
                        await result
                except Exception as exc:
                    errors = self._failed(errors, exc, cb, event)
            return plan.ok if errors is None else self._result(len(fast), errors)
        fast = plan.awaited
        if fast is not None:
            errors = None
            for cb in fast:
                try:
                    await cb(*args)
                except Exception as exc:
                    errors = self._failed(errors, exc, cb, event)
            return plan.ok if errors is None else self._result(len(fast), errors)
        return await self._emit_general(plan.entries, event, args, kwargs)

    async def _emit_general(
        self, plan: tuple[_Listener, ...], event: str, args: Any, kwargs: Any
    ) -> EmitResult:
        token = _current_event.set(event) if self._patterns else None
        ran = len(plan)
        errors: list[Exception] | None = None
        try:
            for entry in plan:
                if entry.once and not self._claim(entry):
                    ran -= 1
                    continue
                try:
                    if entry.is_async:
                        await entry.callback(*args, **kwargs)
                    else:
                        result = entry.callback(*args, **kwargs)
                        if result is not None and inspect.isawaitable(result):
                            await result
                except Exception as exc:
                    errors = self._failed(errors, exc, entry.callback, event)
        finally:
            if token is not None:
                _current_event.reset(token)
        return self._result(ran, errors)

    async def emit_concurrent(self, event: str, /, *args: Any, **kwargs: Any) -> EmitResult:
        """Like :meth:`emit`, but the async listeners of one priority level run
        concurrently (``asyncio.gather``); levels still run in priority order.

        An explicit opt-in, because it makes a task per listener (slower) and
        gives up the order between listeners of the same level.
        """
        plan = self._plan(event).entries
        token = _current_event.set(event) if self._patterns else None
        ran, errors = 0, None
        try:
            i = 0
            while i < len(plan):
                level = [e for e in plan[i:] if e.priority == plan[i].priority]
                i += len(level)
                waiting: list[tuple[_Listener, Any]] = []
                for entry in level:
                    if entry.once and not self._claim(entry):
                        continue
                    ran += 1
                    try:
                        result = entry.callback(*args, **kwargs)
                        if result is not None and inspect.isawaitable(result):
                            waiting.append((entry, result))
                    except Exception as exc:
                        errors = self._failed(errors, exc, entry.callback, event)
                outcomes = await asyncio.gather(*(w for _, w in waiting), return_exceptions=True)
                for (entry, _), outcome in zip(waiting, outcomes, strict=True):
                    if isinstance(outcome, Exception):
                        errors = self._failed(errors, outcome, entry.callback, event)
                    elif isinstance(outcome, BaseException):
                        raise outcome
        finally:
            if token is not None:
                _current_event.reset(token)
        return self._result(ran, errors)

    def fire(self, event: str, /, *args: Any, **kwargs: Any) -> asyncio.Task[EmitResult]:
        """Emit from sync code without waiting: schedules ``emit`` as a task.

        The bus keeps a reference to the task until it finishes (so it is never
        garbage-collected mid-flight); ``await bus.drain()`` waits for all of them.
        Needs a running event loop.
        """
        plan = self._plan(event)  # validates the name now, in the caller's frame
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"fire({event!r}) needs a running event loop; "
                "from plain sync code use asyncio.run(bus.emit(...))"
            ) from None
        del plan
        task = loop.create_task(self.emit(event, *args, **kwargs), name=f"day25.fire:{event}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    @property
    def pending(self) -> int:
        """How many fired emits have not finished yet."""
        return len(self._pending)

    async def drain(self) -> None:
        """Wait until every fired emit, including ones fired meanwhile, is done."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _failed(
        self, errors: list[Exception] | None, exc: Exception, listener: object, event: str
    ) -> list[Exception]:
        name = getattr(listener, "__qualname__", repr(listener))
        exc.add_note(f"raised by listener {name} for event {event!r}")
        logger.error("listener %s for event %r raised", name, event, exc_info=exc)
        if errors is None:
            errors = []
        errors.append(exc)
        return errors

    def _result(self, ran: int, errors: list[Exception] | None) -> EmitResult:
        if errors is None:
            return _OK[ran] if ran < 64 else EmitResult(ran)
        result = EmitResult(ran, tuple(errors))
        if self.raise_errors:
            result.raise_errors()
        return result
