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
* Eager when it can be: with only sync listeners, ``emit`` runs them before it
  returns; awaiting gives the result (and raises the ``ExceptionGroup`` of
  ``raise_errors=True``). With any async listener nothing runs until the emit is
  awaited (or wrapped in a task), and an emit never awaited warns as usual.
  ``create_task``, ``ensure_future``, ``gather`` and ``asyncio.run`` take both.
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
import inspect
import logging
import operator
import warnings
from asyncio import get_running_loop
from collections.abc import Callable
from typing import Any, TypeVar

from day25.accelerator import accelerate
from day25.concurrent import emit_concurrent
from day25.namespace import Namespace
from day25.plan import Listener, Plan, _current_event, check_event, current_event, pattern_matches
from day25.priority import EventPriority, PriorityLike, coerce_priority
from day25.result import OK, EmitResult, Emitting, Finished, settled

__all__ = [
    "EmitResult",
    "EventBus",
    "ListenerLimitWarning",
    "current_event",
]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("day25.events")
_PLAN_CACHE_LIMIT = 2048
_NOTHING: Any = object()  # emit(event) with no payload at all


class ListenerLimitWarning(RuntimeWarning):
    """More listeners on one event than ``max_listeners``: often a leak."""


class EventBus:
    """Register listeners with ``on``/``once``, remove them with ``off``, ``await emit``.

    ``max_listeners`` (default 50, ``0`` for no limit) only warns, once per event.
    ``raise_errors=True`` makes every emit raise its listeners' exceptions as an
    ``ExceptionGroup`` after all of them ran.
    """

    def __init__(self, *, max_listeners: int = 50, raise_errors: bool = False) -> None:
        self.max_listeners = max_listeners
        self.raise_errors = raise_errors
        self._listeners: dict[str, list[Listener]] = {}
        self._plans: dict[str, Plan] = {}
        self._patterns: list[str] = []
        self._order = 0
        self._warned: set[str] = set()
        self._pending: set[asyncio.Task[EmitResult]] = set()
        accelerate(self, EventBus.emit, EventBus._resume_sync)  # C emit unless disabled

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
        check_event(event, pattern_ok=True)
        level = coerce_priority(priority)
        if handler is None:

            def decorator(fn: F) -> F:
                self._add(event, fn, level, once=once)
                return fn

            return decorator
        if not callable(handler):
            raise TypeError(f"a listener must be callable, not {handler!r}")
        self._order += 1
        entry = Listener(handler, level, self._order, once, event)
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
        check_event(event, pattern_ok=True)
        if handler is not None and not callable(handler):
            raise TypeError(f"a listener must be callable, not {handler!r}")
        entries = self._listeners.get(event)
        if not entries:
            return
        if handler is None:
            entries.clear()
        else:
            entries[:] = [e for e in entries if not e.matches(handler)]
        self._changed(event)

    def _claim(self, entry: Listener) -> bool:
        """Take a once-listener off the bus; False if someone already took it."""
        entries = self._listeners.get(entry.key, [])
        for i, e in enumerate(entries):
            if e is entry:
                del entries[i]
                self._changed(entry.key)
                return True
        return False

    def _changed(self, key: str) -> None:
        """Forget ``key`` once it has no listeners left, and every cached plan."""
        if not self._listeners.get(key):
            self._listeners.pop(key, None)
            if key in self._patterns:
                self._patterns.remove(key)
        self._plans.clear()

    # -- introspection ------------------------------------------------------
    def listeners(self, event: str) -> list[Callable[..., Any]]:
        """The callables ``emit(event)`` would call, in call order.

        For a pattern such as ``"ui:*"`` it lists the pattern's own listeners.
        """
        if event.endswith("*"):
            check_event(event, pattern_ok=True)
            return [e.callback for e in self._listeners.get(event, ())]
        return [e.callback for e in self._plan(event).entries]

    def event_names(self) -> list[str]:
        """Every event name and pattern that has at least one listener."""
        return list(self._listeners)

    def namespace(self, name: str) -> Namespace:
        """A view of this bus whose event names are prefixed with ``name:``."""
        return Namespace(self, name)

    def _plan(self, event: str) -> Plan:
        plan = self._plans.get(event)
        if plan is None:
            check_event(event, pattern_ok=False)
            found = list(self._listeners.get(event, ()))
            for pattern in self._patterns:
                if pattern_matches(pattern, event):
                    found.extend(self._listeners[pattern])
            found.sort(key=lambda e: (-e.priority, e.order))
            plan = Plan(tuple(found))
            if len(self._plans) >= _PLAN_CACHE_LIMIT:
                self._plans.clear()
            self._plans[event] = plan
        return plan

    # -- emitting -----------------------------------------------------------
    def emit(self, event: str, payload: Any = _NOTHING, /, *args: Any, **kwargs: Any) -> Emitting:
        """Call the listeners of ``event`` in priority order; ``await`` the result.

        With only sync listeners, ``emit`` runs them before it returns; awaiting
        gives the result. With any async listener nothing runs until it is awaited.
        """
        try:
            plan = self._plans[event]
        except (KeyError, TypeError):
            plan = self._plan(event)
        calls = plan.sync
        if calls is not None and payload is not _NOTHING and not args and not kwargs:
            # The hot path: one payload, sync listeners, none once, none wildcard. A
            # plain loop calling cb(payload), no coroutine: cb(*args) per listener and
            # a coroutine per emit were half of the gap to a hand-written loop. The C
            # emitter (accelerator.py) is this loop in C, with the same hand-over.
            rest = iter(calls)
            for cb in rest:
                try:
                    if (result := cb(payload)) is None:
                        continue
                    error = None
                except Exception as exc:
                    result, error = None, exc
                at = len(calls) - operator.length_hint(rest) - 1
                return self._resume_sync(plan, event, payload, at, result, error)
            return plan.done or self._finish(plan, len(calls), None)
        if plan.awaited is not None and payload is not _NOTHING and not args and not kwargs:
            return self._emit_awaited(plan, event, payload)
        if payload is not _NOTHING:
            args = (payload, *args)
        if plan.has_async:
            return self._emit_general(plan.entries, event, args, kwargs, len(plan.entries))
        return self._emit_sync(plan, event, args, kwargs)

    def _resume_sync(
        self, plan: Plan, event: str, payload: Any, at: int, result: Any, error: Exception | None
    ) -> Emitting:
        """The hot path from listener ``at`` of ``plan.sync`` on, which returned ``result``
        (not None) or raised ``error``: log and collect errors, await an awaitable."""
        calls = plan.sync or ()
        errors: list[Exception] | None = None
        for i in range(at, len(calls)):
            if i > at:
                try:
                    result, error = calls[i](payload), None
                except Exception as exc:
                    result, error = None, exc
            if error is not None:
                errors = self._failed(errors, error, calls[i], event)
            elif result is not None and inspect.isawaitable(result):
                left, args = plan.entries[i:], (payload,)
                return self._emit_general(left, event, args, {}, len(calls), errors, result)
        return (errors is None and plan.done) or self._finish(plan, len(calls), errors)

    def _emit_sync(self, plan: Plan, event: str, args: Any, kwargs: Any) -> Emitting:
        """Every listener is sync: call them now, in order. A sync listener that returns
        an awaitable hands the rest over to :meth:`_emit_general`, which awaits it."""
        entries = plan.entries
        token = _current_event.set(event) if self._patterns else None
        ran, errors = len(entries), None
        try:
            for i, entry in enumerate(entries):
                if entry.once and not self._claim(entry):
                    ran -= 1
                    continue
                try:
                    result = entry.callback(*args, **kwargs)
                    if result is not None and inspect.isawaitable(result):
                        rest = entries[i:]
                        return self._emit_general(rest, event, args, kwargs, ran, errors, result)
                except Exception as exc:
                    errors = self._failed(errors, exc, entry.callback, event)
        finally:
            if token is not None:
                _current_event.reset(token)
        return self._finish(plan, ran, errors)

    def _finish(self, plan: Plan, ran: int, errors: list[Exception] | None) -> Emitting:
        """The awaitable of an emit whose listeners all ran: shared while nothing failed."""
        if errors is not None:
            return settled(EmitResult(ran, tuple(errors)), self.raise_errors)
        result = plan.ok if ran == plan.ok.ran else EmitResult(ran)
        try:
            done = Finished(result, get_running_loop())
        except RuntimeError:  # no running loop, as in asyncio.run(bus.emit(...)): a coroutine
            return settled(result, False)
        if result is plan.ok:
            plan.done = done
        return done

    async def _emit_awaited(self, plan: Plan, event: str, payload: Any) -> EmitResult:
        """One payload, every listener async (none once, none wildcard): await each."""
        errors = None
        for cb in plan.awaited or ():
            try:
                await cb(payload)
            except Exception as exc:
                errors = self._failed(errors, exc, cb, event)
        return plan.ok if errors is None else self._result(len(plan.entries), errors)

    async def _emit_general(
        self, entries: tuple[Listener, ...], event: str, args: Any, kwargs: Any, ran: int,
        errors: list[Exception] | None = None, waiting: Any = None,
    ) -> EmitResult:
        """Any plan, awaiting as it goes. ``waiting``: ``entries[0]`` was called already
        (by the eager part of :meth:`emit`) and returned this awaitable."""
        token = _current_event.set(event) if self._patterns else None
        try:
            for entry in entries:
                try:
                    if waiting is not None:
                        result, waiting = waiting, None
                    elif entry.once and not self._claim(entry):
                        ran -= 1
                        continue
                    else:
                        result = entry.callback(*args, **kwargs)
                    if entry.is_async or (result is not None and inspect.isawaitable(result)):
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
        gives up the order between listeners of the same level (concurrent.py).
        """
        return await emit_concurrent(self, event, args, kwargs)

    def fire(self, event: str, /, *args: Any, **kwargs: Any) -> asyncio.Task[EmitResult]:
        """Emit from sync code without waiting: schedules ``emit`` as a task.

        The bus keeps a reference to the task until it finishes (so it is never
        garbage-collected mid-flight); ``await bus.drain()`` waits for all of them.
        Needs a running event loop.
        """
        self._plan(event)  # validates the name now, in the caller's frame
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"fire({event!r}) needs a running event loop; "
                "from plain sync code use asyncio.run(bus.emit(...))"
            ) from None
        task = loop.create_task(self._emit_later(event, args, kwargs), name=f"day25.fire:{event}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def _emit_later(self, event: str, args: Any, kwargs: Any) -> EmitResult:
        return await self.emit(event, *args, **kwargs)  # in the task, not in fire()

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
            return OK[ran] if ran < 64 else EmitResult(ran)
        result = EmitResult(ran, tuple(errors))
        if self.raise_errors:
            result.raise_errors()
        return result
