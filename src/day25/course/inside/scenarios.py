"""Run declarative scenarios on a submission's module: the ``scenarios`` mode, inside.

A scenario is JSON: ``{"ops": [op, ...]}``. Each op acts on one fresh subject,
named by the catalogue (a class of the module, e.g. ``PriorityEmitter()``, or
``"bus"``: a ``day25.EventBus`` whose ``once()`` is off limits), and yields a
:class:`~day25.course.protocol.OpResult` ``{"op", "trace", "error"}``: the calls
the listeners saw during that op, ``[[listener, payload], ...]`` (a third item
holds keyword arguments when there were any), and what the student's code
raised. An exception in student code is an entry, never a crash, so the grader
can say exactly which step went wrong
(:func:`day25.course.harness.scenarios.first_difference`).

Ops (``priority`` is a name of ``day25.EventPriority``, e.g. ``"HIGH"`` or
``"LOWEST"``, a plain int, or absent for the default):

* ``{"op": "on", "event", "listener", "priority"?, "kind", "reemit"?, "then"?, "raises"?}``
* ``{"op": "once", ...same..., "style": "call"|"decorator"|"keywords"}``: the module's own
  ``once``: ``once(bus, event, fn)``, ``once(bus, event)(fn)`` or
  ``once(bus=..., event=..., handler=fn)`` (each with ``priority=`` when given)
* ``{"op": "off", "event", "listener"}``
* ``{"op": "emit", "event", "payload", "kwargs"?}``: its ``value`` is what the awaited
  emit returned when that is not None (``repr``), and for the ``bus`` subject the
  type names of the errors in its ``EmitResult``. ``"args": [...]`` instead of
  ``payload``: emit with those positional arguments (none, or several)
* ``{"op": "emit_concurrently", "event", "payloads": [...]}``: ``asyncio.gather``
* ``{"op": "count", "event"}``: how many listeners the subject holds (``listeners()``)

Listener kinds: ``sync``; ``async`` (``async def``); ``method`` (a sync bound
method, a new bound-method object at every mention, as ``obj.handle`` is);
``returns_awaitable`` (a sync function that returns a coroutine);
``returns_task`` (a sync function that returns an ``asyncio.Task``, an awaitable
that is not a coroutine); ``returns_future`` (the same with a bare ``asyncio.Future``,
which is not a Task either); ``returns_value`` (a sync function that records, then
returns a value that is not awaitable); and ``async_callable`` (an object whose
``__call__`` is ``async def``). Every listener takes ``*args, **kwargs`` and records the payload:
its one positional argument, or ``{"args": [...]}`` when it got none or several.
``then``: a list of ``on``/``off`` (and, for a module with ``once``, ``once``) ops
the listener runs on the subject right after it recorded (changes during an emit).
``raises``: after recording (and ``then``), the listener raises ``RuntimeError``, or
the exception named in ``LISTENER_ERRORS`` (``"ValueError"``, ``"KeyError"``,
``"TypeError"``), so that a wrapped one shows; a copy of it (same type and message,
another object) is reported as a copy, since the texts ask for the listener's own.

A listener is created on its first mention and reused after (so ``off`` can
name it), unless its op says ``"kept": false``: then the scenario keeps no
reference to it, as nothing else holds a lambda passed straight to ``on``. A
listener that gets an argument equal to one given to ``emit`` but not that very
object (a ``dict`` or ``list`` copied on the way) is reported, since the texts
ask for exactly the arguments given.

An async listener awaits ``asyncio.sleep(0)`` before it records, so
listeners that are not awaited in order show up in the trace; ``"delay": n``
(default 1) makes it yield n times, so listeners run side by side finish out of order. ``reemit``:
``{"event", "payload"}``, an async listener emits that after recording, but only
when called from a top-level sequential ``emit`` (so re-entrancy is one level deep, never
endless; not from ``emit_concurrently``, whose interleaving would decide how often a
once-listener that re-emits gets to re-emit, making the expected counts a matter of luck).
"""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import inspect
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

from day25 import EventBus, EventPriority
from day25.course.inside.channel import Channel
from day25.course.inside.guarded_bus import GuardedBus
from day25.course.inside.submission import import_error, import_once
from day25.course.protocol import (
    BUS_SUBJECT,
    LISTENER_ERRORS,
    InsideArgs,
    OpResult,
    ScenarioResult,
)

__all__ = ["run_scenario", "serve_scenarios"]

_RAISES: dict[str, type[Exception]] = {
    name: getattr(builtins, name) for name in LISTENER_ERRORS
}

_depth: contextvars.ContextVar[int] = contextvars.ContextVar("day25_scenario_depth", default=0)

#: listener calls one operation may make; no scenario of the suites makes 100. An
#: emit that keeps calling listeners added while it runs would otherwise loop until
#: the timeout: stopping it here is a verdict that does not depend on the machine.
CALLS_PER_OP = 1_000


class _EndlessEmit(BaseException):
    """Raised by a listener past ``CALLS_PER_OP``: a BaseException, so that an emit
    which collects its listeners' exceptions does not swallow it and go on looping."""


def describe(exc: BaseException, module_file: str | None) -> str:
    """``Type: message (at your_file.py line N)``: short, for a student."""
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if module_file:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == module_file]
        if frames:
            last = frames[-1]
            text += f" (at {last.filename.rsplit('/', 1)[-1]} line {last.lineno}: {last.line})"
    return text


class _Holder:
    """A listener that is a bound method: ``holder.handle`` is a new object each time."""

    def __init__(self, record: Callable[[tuple[Any, ...], dict[str, Any]], None]) -> None:
        self._record = record

    def handle(self, *args: Any, **kwargs: Any) -> None:
        self._record(args, kwargs)


class _AsyncCallable:
    """A listener object whose ``__call__`` is ``async def`` (not a function itself)."""

    def __init__(self, body: Callable[[tuple[Any, ...], dict[str, Any]], Any]) -> None:
        self._body = body

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        await self._body(args, kwargs)


class _Run:
    def __init__(self, module: ModuleType, subject: str) -> None:
        self.module = module
        self.file = getattr(module, "__file__", None)
        self.listeners: dict[str, Any] = {}
        self.trace: list[list[Any]] = []
        self.errors: list[str] = []
        self.raised: list[Exception] = []  # what the listeners raised, to tell copies apart
        self.resolving: set[asyncio.Future[Any]] = set()  # returns_future's tasks, running
        self.given: list[Any] = []  # the arguments given to this op's emits, to tell copies
        if subject == BUS_SUBJECT:
            self.target: Any = GuardedBus(max_listeners=0)
        elif subject:
            self.target = getattr(module, subject)()
        else:
            raise ValueError("no scenario subject: the catalogue names none for this exercise")

    # -- listeners ------------------------------------------------------------------
    def listener(self, op: dict[str, Any]) -> Callable[..., Any]:
        name = str(op["listener"])
        made = self.listeners.get(name)
        if made is None:
            made = self._make(name, op)
            if op.get("kept", True):
                self.listeners[name] = made
        if isinstance(made, _Holder):
            return made.handle  # a new bound-method object every time, as obj.handle is
        listener: Callable[..., Any] = made
        return listener

    def _record(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        payload = args[0] if len(args) == 1 else {"args": list(args)}
        if len(self.trace) >= CALLS_PER_OP:
            raise _EndlessEmit(
                f"stopped after {CALLS_PER_OP:,} listener calls in one operation: does an "
                "emit keep calling listeners that were added while it ran?")
        self.trace.append([name, payload, kwargs] if kwargs else [name, payload])
        for value in (*args, *kwargs.values()):
            if isinstance(value, (dict, list)) and not any(value is g for g in self.given) \
                    and any(value == g for g in self.given):
                self.errors.append(f"listener {name} got a copy of an argument given to emit, "
                                   "not that very object")

    def _after(self, name: str, then: list[dict[str, Any]], raises: bool) -> None:
        """What a listener does once it recorded: change the subject, then maybe raise."""
        for op in then:
            fn = self.listener(op)
            if op["op"] == "on":
                self.target.on(op["event"], fn, **self._priority_kw(op))
            elif op["op"] == "once":
                self.module.once(self.target, op["event"], fn, **self._priority_kw(op))
            else:
                self.target.off(op["event"], fn)
        if raises:
            error = _RAISES.get(str(raises), RuntimeError)(f"listener {name} failed")
            self.raised.append(error)
            raise error

    def _make(self, name: str, op: dict[str, Any]) -> Any:
        run = self
        kind, reemit, delay = op.get("kind", "sync"), op.get("reemit"), op.get("delay", 1)
        then, raises = list(op.get("then", ())), op.get("raises") or False

        def record(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            run._record(name, args, kwargs)
            run._after(name, then, raises)

        async def body(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            for _ in range(delay):
                await asyncio.sleep(0)
            run._record(name, args, kwargs)
            if reemit is not None and _depth.get() == 0:
                token = _depth.set(1)
                try:
                    run.given.append(reemit.get("payload"))
                    await run.target.emit(reemit["event"], run.given[-1])
                except Exception as exc:
                    run.errors.append(f"a re-entrant emit raised {describe(exc, run.file)}")
                finally:
                    _depth.reset(token)
            run._after(name, then, raises)

        made: Any
        if kind == "sync":

            def made(*args: Any, **kwargs: Any) -> None:
                record(args, kwargs)

        elif kind == "method":
            return _Holder(record)
        elif kind == "returns_awaitable":

            def made(*args: Any, **kwargs: Any) -> Any:
                return body(args, kwargs)  # not async def itself: returns a coroutine

        elif kind == "returns_task":

            def made(*args: Any, **kwargs: Any) -> Any:
                return asyncio.ensure_future(body(args, kwargs))  # awaitable, not a coroutine

        elif kind == "returns_future":

            def made(*args: Any, **kwargs: Any) -> Any:
                future = asyncio.get_running_loop().create_future()
                task = asyncio.ensure_future(_resolve(future, body(args, kwargs)))
                run.resolving.add(task)  # the loop holds tasks weakly: keep it to its end
                task.add_done_callback(run.resolving.discard)
                return future  # awaitable, neither a coroutine nor a Task

        elif kind == "returns_value":

            def made(*args: Any, **kwargs: Any) -> Any:
                record(args, kwargs)
                return 42  # not None, not awaitable: nothing to await

        elif kind == "async_callable":
            made = _AsyncCallable(body)
        else:

            async def made(*args: Any, **kwargs: Any) -> None:
                await body(args, kwargs)

        if not isinstance(made, _AsyncCallable):
            made.__name__ = made.__qualname__ = f"listener_{name}"
        return made

    # -- ops --------------------------------------------------------------------------
    def _priority_kw(self, op: dict[str, Any]) -> dict[str, Any]:
        p = op.get("priority")
        if p is None:
            return {}
        return {"priority": p if isinstance(p, int) else EventPriority[p]}

    async def do(self, op: dict[str, Any]) -> Any:
        kind = op["op"]
        target = self.target
        if kind == "on":
            fn = self.listener(op)
            returned = target.on(op["event"], fn, **self._priority_kw(op))
            self._check_returned("on", returned, fn)
        elif kind == "once":
            fn = self.listener(op)
            once = self.module.once
            if op.get("style") == "decorator":
                decorator = once(target, op["event"], **self._priority_kw(op))
                if not callable(decorator):
                    raise TypeError(f"once(bus, event) without a handler returned {decorator!r}, "
                                    "not a decorator")
                returned = decorator(fn)
            elif op.get("style") == "keywords":
                returned = once(bus=target, event=op["event"], handler=fn,
                                **self._priority_kw(op))
            else:
                returned = once(target, op["event"], fn, **self._priority_kw(op))
            self._check_returned("once", returned, fn)
        elif kind == "off":
            target.off(op["event"], self.listener(op))
        elif kind == "emit":
            args = op["args"] if "args" in op else [op.get("payload")]
            self.given.extend([*args, *op.get("kwargs", {}).values()])
            result = target.emit(op["event"], *args, **op.get("kwargs", {}))
            if not inspect.isawaitable(result):
                raise TypeError(f"emit() returned {result!r}, not an awaitable: make it async def")
            returned = await result
            if isinstance(target, EventBus):
                return [self._error_name(e) for e in getattr(returned, "errors", ())]
            return None if returned is None else repr(returned)[:200]
        elif kind == "emit_concurrently":
            token = _depth.set(1)  # no re-emits here: see the module docstring
            try:
                self.given.extend(op["payloads"])
                emits = [target.emit(op["event"], p) for p in op["payloads"]]
                outcomes = await asyncio.gather(*emits, return_exceptions=True)
            finally:
                _depth.reset(token)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        elif kind == "count":
            return len(target.listeners(op["event"]))
        else:
            raise ValueError(f"unknown scenario op {kind!r}")
        return None

    def copied(self, error: BaseException) -> bool:
        """``error`` looks like what a listener raised (same type and message) but is
        another object: the listener's own exception was copied, not handed on."""
        return not any(error is r for r in self.raised) and any(
            type(error) is type(r) and error.args == r.args for r in self.raised)

    def _error_name(self, error: BaseException) -> str:
        """The type name of an error in the bus's result, or what makes it a copy."""
        name = type(error).__name__
        return f"a copy of the {name} a listener raised" if self.copied(error) else name

    def _check_returned(self, what: str, returned: Any, fn: Callable[..., Any]) -> None:
        if returned is not fn:
            raise TypeError(f"{what}() returned {returned!r}; it must return the very handler it "
                            "was given (so it works as a decorator)")


async def _resolve(future: asyncio.Future[Any], work: Any) -> None:
    """Resolve ``future`` (if still pending) with ``work``'s outcome or own exception."""
    try:
        await work
    except Exception as exc:
        if not future.done():
            future.set_exception(exc)
    else:
        if not future.done():
            future.set_result(None)


async def _run_ops(run: _Run, ops: list[dict[str, Any]]) -> list[OpResult]:
    results: list[OpResult] = []
    for op in ops:
        run.trace, run.errors, run.given = [], [], []
        entry: OpResult = {"op": op["op"], "trace": [], "error": None}
        try:
            value = await run.do(op)
            if value is not None:
                entry["value"] = value
        except Exception as exc:
            text = describe(exc, run.file)
            if run.copied(exc):
                text = f"a copy of the exception a listener raised, not that one ({text})"
            run.errors.insert(0, text)
        except _EndlessEmit as exc:
            run.errors.insert(0, str(exc))
        entry["trace"] = run.trace
        entry["error"] = "; ".join(run.errors) or None
        results.append(entry)
    return results


def run_scenario(module: ModuleType, subject: str, scenario: dict[str, Any]) -> ScenarioResult:
    """Run one scenario on a fresh subject; JSON-ready result."""
    try:
        run = _Run(module, subject)
    except Exception as exc:
        return {"setup_error": describe(exc, getattr(module, "__file__", None)), "ops": []}
    return {"ops": asyncio.run(_run_ops(run, list(scenario["ops"])))}


def serve_scenarios(channel: Channel, args: InsideArgs) -> None:
    """Answer scenario requests until the harness hangs up; the module is imported once,
    at the first request, so a module that fails to import fails that request, clearly."""
    module: ModuleType | None = None
    for request in channel:
        msg_id = request.get("id")
        try:
            if module is None:
                module = import_once(args.submission, args.module, args.off_limits)
            result = run_scenario(module, args.subject, request["scenario"])
        except (Exception, SystemExit) as exc:
            error = (import_error(args.module, exc) if module is None
                     else f"{type(exc).__name__}: {exc}")
            channel.reply({"id": msg_id, "ok": False, "error": error})
            continue
        channel.reply({"id": msg_id, "ok": True, "result": result})
