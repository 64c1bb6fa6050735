"""An asyncio event bus with the API the Day 25 lesson teaches.

Why it exists: on Nexios 3.12 ``await app.events.emit(...)`` raises, async
listeners become unreferenced tasks, and there is no ``off`` and no ``MEDIUM``.
:class:`EventBus` makes the lesson's code true, and is small enough to read in
one sitting: this module is how an emit runs; ``registry.py`` is how listeners
are kept; ``result.py`` is what an emit returns.

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
  ``create_task``, ``ensure_future``, ``gather`` and ``asyncio.run`` take both,
  in any event loop, and a sync emit from plain sync code needs no loop at all.
* Each emit works on a *snapshot*: listeners added or removed while it runs take
  effect from the next emit. The one exception is ``once``: a once-listener is
  removed *before* it is called, and an emit that finds it already taken (by a
  re-entrant or concurrent emit) skips it, so it never fires twice.
* ``off(event, fn)`` removes every registration of ``fn`` on ``event`` (plain or
  once, and wrappers whose ``__wrapped__`` is ``fn``); "``fn``" means the same
  object or an equal one, as a new bound method of the same object is.
  ``off(event)`` removes all of the event's listeners. Removing what is not there
  is not an error.
* A listener that raises :class:`Exception` does not stop the others: the error
  is logged and returned in the result (or raised as an ``ExceptionGroup`` after
  all listeners ran, with ``raise_errors=True``). ``BaseException`` such as
  ``asyncio.CancelledError`` propagates at once.
* Wildcards: a listener on ``"ui:*"`` hears every event whose name starts with
  ``"ui:"`` (``ui:click``, ``ui:form:submit``), and ``"*"`` hears every event.
  ``*`` may only be the last segment, and only listeners use it: emitting a
  pattern is an error. Wildcard and exact listeners merge by priority, then by
  registration order. :func:`current_event` tells any listener which event it
  is hearing.
* Cost: ``on``, ``once``, ``off`` and the removal of a once-listener take the
  same time with ten listeners or ten thousand; the sorted list of an event's
  listeners is rebuilt on its first emit after a change, not on every change.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import sys
import warnings
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any, TypeVar

from day25.failures import log_failure
from day25.namespace import Namespace
from day25.priority import EventPriority, PriorityLike, coerce_priority
from day25.registry import Listener, Plan, Registry, check_event
from day25.result import OK, EmitResult, Emitting, Finished

__all__ = ["EmitResult", "EventBus", "ListenerLimitWarning", "current_event"]

F = TypeVar("F", bound=Callable[..., Any])
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
        self._registry = Registry()
        self._plans = self._registry.plans  # the same dict, one attribute closer for emit
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
        check_event(event, pattern_ok=True)
        level = coerce_priority(priority)
        if handler is None:

            def decorator(fn: F) -> F:
                self._add(event, fn, level, once=once)
                return fn

            return decorator
        if not callable(handler):
            raise TypeError(f"a listener must be callable, not {handler!r}")
        count = self._registry.add(event, handler, level, once)
        limit = self.max_listeners
        if limit and count > limit and event not in self._warned:
            self._warned.add(event)
            warnings.warn(
                f"{count} listeners on {event!r} (max_listeners={limit}): a leak? "
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
        self._registry.remove(event, handler)

    # -- introspection ------------------------------------------------------
    def listeners(self, event: str) -> list[Callable[..., Any]]:
        """The callables ``emit(event)`` would call, in call order.

        For a pattern such as ``"ui:*"`` it lists the pattern's own listeners.
        """
        if check_event(event, pattern_ok=True).endswith("*"):
            return [e.callback for e in self._registry.by_key.get(event, {}).values()]
        return [e.callback for e in self._registry.plan(event).entries]

    def event_names(self) -> list[str]:
        """Every event name and pattern that has at least one listener."""
        return list(self._registry.by_key)

    def namespace(self, name: str) -> Namespace:
        """A view of this bus whose event names are prefixed with ``name:``."""
        return Namespace(self, name)

    # -- emitting -----------------------------------------------------------
    def emit(self, event: str, payload: Any = _NOTHING, /, *args: Any, **kwargs: Any) -> Emitting:
        """Call the listeners of ``event`` in priority order; ``await`` the result.

        With only sync listeners, ``emit`` runs them before it returns; awaiting
        gives the result. With any async listener nothing runs until it is awaited.
        """
        try:
            plan = self._plans[event]
        except (KeyError, TypeError):
            plan = self._registry.plan(event)
        if payload is not _NOTHING and not args and not kwargs:
            calls = plan.sync
            if calls is not None:
                # The hot path: one payload, sync listeners, none once, none wildcard:
                # a plain loop calling cb(payload), no coroutine, and the plan's shared
                # Finished. The first listener that raises or returns something hands
                # over to _resume_sync; `calls` holds no callable twice, so `cb` tells
                # where it stands.
                try:
                    for cb in calls:
                        if (result := cb(payload)) is not None:
                            break
                    else:
                        return plan.done
                    error = None
                except Exception as exc:
                    result, error = None, exc
                return self._resume_sync(plan, event, payload, _position(calls, cb), result, error)
            if plan.awaited is not None:
                return self._emit_awaited(plan, event, payload)
            args = (payload,)
        elif payload is not _NOTHING:
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
        return self._finish(plan, len(calls), errors)

    def _emit_sync(self, plan: Plan, event: str, args: Any, kwargs: Any) -> Emitting:
        """Every listener is sync: call them now, in order. A sync listener that returns
        an awaitable hands the rest over to :meth:`_emit_general`, which awaits it."""
        entries = plan.entries
        ran, errors = len(entries), None
        for i, entry in enumerate(entries):
            if entry.once and not self._registry.claim(entry):
                ran -= 1
                continue
            try:
                result = entry.callback(*args, **kwargs)
                if result is not None and inspect.isawaitable(result):
                    rest = entries[i:]
                    return self._emit_general(rest, event, args, kwargs, ran, errors, result)
            except Exception as exc:
                errors = self._failed(errors, exc, entry.callback, event)
        return self._finish(plan, ran, errors)

    def _finish(self, plan: Plan, ran: int, errors: list[Exception] | None) -> Finished:
        """The awaitable of an emit whose listeners all ran: shared while nothing failed."""
        if errors is None:
            return plan.done if ran == plan.ok.ran else Finished(self._result(ran, None))
        return Finished(EmitResult(ran, tuple(errors)), self.raise_errors)

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
        for entry in entries:
            try:
                if waiting is not None:
                    result, waiting = waiting, None
                elif entry.once and not self._registry.claim(entry):
                    ran -= 1
                    continue
                else:
                    result = entry.callback(*args, **kwargs)
                if entry.is_async or (result is not None and inspect.isawaitable(result)):
                    await result
            except Exception as exc:
                errors = self._failed(errors, exc, entry.callback, event)
        return self._result(ran, errors)

    async def emit_concurrent(self, event: str, /, *args: Any, **kwargs: Any) -> EmitResult:
        """Like :meth:`emit`, but the async listeners of one priority level run
        concurrently (``asyncio.gather``); levels still run in priority order.

        An explicit opt-in, because it makes a task per async listener (slower) and
        gives up the order between the listeners of one level.
        """
        ran, errors = 0, None
        for _, level in itertools.groupby(self._registry.plan(event).entries, _priority):
            waiting: list[tuple[Listener, Awaitable[Any]]] = []
            for entry in level:
                if entry.once and not self._registry.claim(entry):
                    continue
                ran += 1
                try:
                    result = entry.callback(*args, **kwargs)
                    if result is not None and inspect.isawaitable(result):
                        waiting.append((entry, _listening(event, result)))
                except Exception as exc:
                    errors = self._failed(errors, exc, entry.callback, event)
            outcomes = await asyncio.gather(*(w for _, w in waiting), return_exceptions=True)
            for (entry, _), outcome in zip(waiting, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    errors = self._failed(errors, outcome, entry.callback, event)
                elif isinstance(outcome, BaseException):
                    raise outcome
        return self._result(ran, errors)

    def fire(self, event: str, /, *args: Any, **kwargs: Any) -> asyncio.Task[EmitResult]:
        """Emit from sync code without waiting: schedules ``emit`` as a task.

        The bus keeps a reference to the task until it finishes (so it is never
        garbage-collected mid-flight); ``await bus.drain()`` waits for all of them.
        Needs a running event loop.
        """
        self._registry.plan(event)  # validates the name now, in the caller's frame
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

    # -- errors ---------------------------------------------------------------
    def _failed(
        self, errors: list[Exception] | None, exc: Exception, listener: object, event: str
    ) -> list[Exception]:
        """Log a listener's exception and add it to the emit's errors."""
        name = getattr(listener, "__qualname__", repr(listener))
        exc.add_note(f"raised by listener {name} for event {event!r}")
        log_failure(exc, name, event)
        if errors is None:
            errors = []
        errors.append(exc)
        return errors

    def _result(self, ran: int, errors: list[Exception] | None) -> EmitResult:
        if errors is None:
            return OK[ran] if ran < len(OK) else EmitResult(ran)
        result = EmitResult(ran, tuple(errors))
        if self.raise_errors:
            result.raise_errors()
        return result


def _position(calls: tuple[Callable[..., Any], ...], cb: object) -> int:
    return next(i for i, call in enumerate(calls) if call is cb)


def _priority(entry: Listener) -> int:
    return entry.priority


async def _listening(event: str, awaitable: Awaitable[Any]) -> Any:
    """One async listener of ``emit_concurrent``, inside a frame that names its event."""
    return await awaitable


def current_event() -> str:
    """The name of the event being emitted, called from any of its listeners.

    Exact and wildcard listeners alike, sync or async, whichever way the event
    was emitted (``emit``, ``emit_concurrent``, ``fire``, a namespace). Outside a
    listener it is a ``RuntimeError``; so is a task a listener starts, which runs
    on its own, after the emit.

    Why it reads the call stack instead of a context variable: the name is a
    local variable of the bus method that calls the listener, and setting a
    context variable would cost every emit, whether or not a listener asks.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code in _CALLS_LISTENERS:
            name: str = frame.f_locals["event"]
            return name
        frame = frame.f_back
    raise RuntimeError("current_event() only works inside a listener, while its event is emitted")


# An emit with async listeners returns one of these coroutines. Named after what the
# student called, a forgotten ``await`` reads "coroutine 'EventBus.emit' was never
# awaited" (and its repr "<coroutine object EventBus.emit ...>"), not a private name.
EventBus._emit_awaited.__qualname__ = EventBus._emit_general.__qualname__ = "EventBus.emit"

# the functions that call listeners; each names the emitted event ``event``
_CALLS_LISTENERS = frozenset(
    fn.__code__
    for fn in (
        EventBus.emit, EventBus._resume_sync, EventBus._emit_sync, EventBus._emit_awaited,
        EventBus._emit_general, EventBus.emit_concurrent, _listening,
    )
)
