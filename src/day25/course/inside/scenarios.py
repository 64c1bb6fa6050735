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

Ops (``priority`` is a name of ``day25.EventPriority``, e.g. ``"HIGH"`` or ``"LOWEST"``, passed as
that member; a plain int; a level name in lower case, e.g. ``"high"``, passed on as that string,
which ``EventBus.on`` takes too; ``"nexios."`` and a name of ``nexios.events.EventPriority``, e.g.
``"nexios.HIGH"``, passed as that member, which ``EventBus.on`` takes by its name; ``"int_enum."``
and a name of :class:`~.plain_values.Urgency`, an ``IntEnum`` of the caller's own; or absent for
the default):

* ``{"op": "on", "event", "listener", "priority"?, "kind", "reemit"?, "then"?, "raises"?,
  "style"?}``: ``"style": "positional"`` passes the priority positionally, ``"keywords"``
  every argument by its name (``on(event=..., handler=...)``, on ``off`` too: twenty-sixth
  batch); ``"str_event"`` as on ``once``
* ``{"op": "once", ...same..., "style": "call"|"decorator"|"keywords"}``: the module's own
  ``once``: ``once(bus, event, fn)``, ``once(bus, event)(fn)`` or
  ``once(bus=..., event=..., handler=fn)`` (each with ``priority=`` when given);
  ``"decorator": "<name>"`` keeps the decorator under that name, and a later op naming
  it applies that one again (made for the first op's event and priority); ``"str_event"``
  gives the event name as a ``str`` of the caller's own class (:mod:`~.plain_values`)
* ``{"op": "off", "event", "listener"}``: its ``value`` is what ``off`` returned, when
  that is not None (``repr``)
* ``{"op": "emit", "event", "payload", "kwargs"?}``: its ``value`` is what the awaited
  emit returned when that is not None (``repr``), and for the ``bus`` subject the
  type names of the errors in its ``EmitResult``. ``"args": [...]`` instead of
  ``payload``: emit with those positional arguments (none, or several; callables at the
  indexes ``"callable_args"`` names, tuples at ``"tuple_args"``: :mod:`~.plain_values`). For a class
  subject, ``early`` names the listeners that ran when ``emit`` was called, before it
  was awaited (an ``async def emit`` runs none). Any op: ``collected``, a bus result's errors
  no listener raised; ``unawaited``, listeners whose coroutine nobody awaited (:mod:`~.awaiting`).
  ``"timeout": s``: the emit is given ``s`` seconds (``asyncio.wait_for``, best on the virtual
  clock); then it is cancelled, as a timeout cancels it, and its ``value`` is ``"timed out"``.
  ``"meanwhile": [on/off ops]``: the emit runs as a task to its first wait (or end),
  then those ops change the subject (changes made after the emit started), then it is awaited
* ``{"op": "emit_concurrently", "event"/"events", "payloads", "after_first"?}``: :mod:`~.overlap`
* ``{"op": "count", "event"}``: how many listeners the subject holds (``listeners()``)
* ``{"op": "renew"}``: the subject is dropped and collected, and a fresh one takes its
  place (a new instance may get the old one's ``id``: what was the old one's stays there);
  ``"max_listeners": n``: a bus that warns past n listeners on an event (else 0: never)
* ``{"op": "once_elsewhere" | "once_not_callable" | "once_keywords", "event", ...}``:
  the module's ``once`` on other buses (:mod:`~.other_buses`)

Listeners (``"kind"``, ``"delay"``, ``"sleep"`` and the flags) take every shape a
handler can take: :mod:`day25.course.inside.listeners`. Every listener takes ``*args,
**kwargs`` and records the payload: its one positional argument, or ``{"args": [...]}``
when it got none or several. ``"clock": "virtual"`` beside ``ops`` runs the scenario on
a loop whose clock skips waits (:mod:`~day25.course.inside.virtual_clock`).
``then``: a list of ``on``/``off`` (and, for a module with ``once``, ``once``) ops the listener
runs right after it recorded (changes during an emit); ``count``: ``["count <event>", n]`` traced.
``raises``: after recording (and ``then``), the listener raises ``RuntimeError``, or
the exception it names (``"ValueError"``, ``"StopIteration"``, asyncio's
``"InvalidStateError"``, Nexios' ``"WebSocketDisconnect"``...: all in
:mod:`~.listener_errors`, where a new one goes), so
that a wrapped one shows; another exception of its type that stands for it (a copy, or
one re-made from it with another message) is reported as such, since the texts ask for
the listener's own; with ``"cause": true`` it is raised from another exception, and one
that reaches the bus without that ``__cause__`` is reported too.
``"wraps": "<listener>"`` gives the new listener that earlier listener's handler as
``__wrapped__`` (as ``functools.wraps`` would): it is another handler all the same.

A listener is created on its first mention and reused after (so ``off`` can name it), unless
its op says ``"kept": false``: then the scenario keeps no reference to it, as nothing else
holds a lambda passed straight to ``on``. A listener that gets an argument equal to one given
to ``emit`` but not that very object (a ``dict`` or ``list`` copied on the way) is reported,
since the texts ask for exactly the arguments given.

``reemit``: ``{"event", "payload"}``, an async (or ``sync``: in place, see
:mod:`~day25.course.inside.listeners`) listener emits that after recording, but only when called
from a top-level sequential ``emit`` (so re-entrancy is one level deep, never endless; not from
``emit_concurrently``, whose interleaving would decide how often a once-listener that re-emits gets
to re-emit, making the expected counts a matter of luck).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from day25 import EventBus
from day25.course.inside.awaiting import awaiting, noticing_unawaited
from day25.course.inside.channel import Channel
from day25.course.inside.guarded_bus import GuardedBus
from day25.course.inside.listener_errors import Raised
from day25.course.inside.listener_shapes import check_returned
from day25.course.inside.listeners import depth, handler_of, make_listener
from day25.course.inside.other_buses import OTHER_BUS_OPS, other_bus_op
from day25.course.inside.overlap import concurrent_emits, gathered
from day25.course.inside.plain_values import (
    emit_arguments,
    event_name,
    named_level,
    pep479,
    recorded_payload,
)
from day25.course.inside.recycled_ids import recycle_ids
from day25.course.inside.submission import (
    describe,
    import_error,
    import_once,
    said_safely,
    where_in,
)
from day25.course.inside.virtual_clock import VirtualClockLoop
from day25.course.protocol import BUS_SUBJECT, InsideArgs, OpResult, ScenarioResult

__all__ = ["run_scenario", "serve_scenarios"]


#: listener calls one operation may make; the largest of the suites makes 990 (one emit
#: to 990 listeners: a dispatch that recurses once per listener runs out of stack). An
#: emit that keeps calling listeners added while it runs would otherwise loop until
#: the timeout: stopping it here is a verdict that does not depend on the machine.
CALLS_PER_OP = 1_000


class _EndlessEmit(BaseException):
    """Raised by a listener past ``CALLS_PER_OP``: a BaseException, so that an emit
    which collects its listeners' exceptions does not swallow it and go on looping."""


class _Run:
    def __init__(self, module: ModuleType, subject: str) -> None:
        recycle_ids(module)
        self.module = module
        self.file = getattr(module, "__file__", None)
        self.listeners: dict[str, Any] = {}
        self.trace: list[list[Any]] = []
        self.errors: list[str] = []
        self.raised = Raised()  # what the listeners raised, to tell copies apart
        self.resolving: set[asyncio.Future[Any]] = set()  # returns_future's tasks, running
        self.given: list[Any] = []  # the arguments given to this op's emits, to tell copies
        self.early: list[str] = []  # listeners this op's emit ran before it was awaited
        self.collected: list[str] = []  # errors in its result no scenario listener raised
        self.unawaited: list[str] = []  # listeners whose coroutine nobody awaited
        self.decorators: dict[str, Any] = {}  # once ops' "decorator": kept, to use again
        self.subject = subject
        self.target: Any = self._fresh()

    def _renewed(self, limit: int = 0) -> Any:
        """A fresh subject where the old one was: the old one and what only it held (a
        cycle too) are collected first, so the new one usually gets its address, and always
        its id under the module's own ``id`` (:mod:`~.recycled_ids`): state kept by id shows."""
        old = id(self.target)
        self.target = None
        gc.collect()
        fresh = self._fresh(limit)
        if id(fresh) != old:
            del fresh
            gc.collect()
            fresh = self._fresh(limit)
        return fresh

    def _fresh(self, limit: int = 0) -> Any:
        if self.subject == BUS_SUBJECT:
            return GuardedBus(max_listeners=limit)
        if self.subject:
            return getattr(self.module, self.subject)()
        raise ValueError("no scenario subject: the catalogue names none for this exercise")

    # -- listeners ------------------------------------------------------------------
    def listener(self, op: dict[str, Any]) -> Callable[..., Any]:
        name = str(op["listener"])
        made = self.listeners.get(name)
        if made is None:
            made = self._make(name, op)
            if op.get("wraps"):  # as functools.wraps(other) would make it: another handler
                made.__wrapped__ = handler_of(self.listeners[op["wraps"]])
            if op.get("kept", True):
                self.listeners[name] = made
        return handler_of(made)

    def _record(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        payload = recorded_payload(args)  # a callable_args stand-in as its value
        if len(self.trace) >= CALLS_PER_OP:
            raise _EndlessEmit(f"stopped after {CALLS_PER_OP:,} listener calls in one operation")
        self.trace.append([name, payload, kwargs] if kwargs else [name, payload])
        for value in (*args, *kwargs.values()):
            if isinstance(value, (dict, list)) and not any(value is g for g in self.given) \
                    and any(value == g for g in self.given):
                self.errors.append(f"listener {name} got a copy of an argument given to emit, "
                                   "not that very object")

    def _after(self, name: str, then: list[dict[str, Any]], raises: bool,
               cause: bool = False) -> None:
        """What a listener does once it recorded: change the subject, then maybe raise."""
        for op in then:
            if op["op"] == "count":  # how many listeners the subject holds while this one runs
                self.trace.append([f"count {op['event']}", len(self.target.listeners(op["event"]))])
                continue
            fn = self.listener(op)
            if op["op"] == "on":
                self.target.on(op["event"], fn, **self._priority_kw(op))
            elif op["op"] == "once":
                self.module.once(self.target, op["event"], fn, **self._priority_kw(op))
            else:
                self.target.off(op["event"], fn)
        if raises:
            raise self.raised.make(str(raises), name, cause=cause)

    def _make(self, name: str, op: dict[str, Any]) -> Any:
        then, raises = list(op.get("then", ())), op.get("raises") or False
        return make_listener(
            name, op, record=lambda args, kwargs: self._record(name, args, kwargs),
            after=lambda: self._after(name, then, raises, bool(op.get("cause"))),
            reemit=self._reemit,
            resolving=self.resolving, misused=lambda text: self.errors.append(text))

    async def _reemit(self, op: dict[str, Any]) -> None:
        try:
            self.given.append(op.get("payload"))
            await self.target.emit(op["event"], self.given[-1])
        except Exception as exc:
            self.errors.append(f"a re-entrant emit raised {describe(exc, self.file)}")

    # -- ops --------------------------------------------------------------------------
    def _priority_kw(self, op: dict[str, Any]) -> dict[str, Any]:
        p = op.get("priority")
        return {} if p is None else {"priority": named_level(p)}

    async def do(self, op: dict[str, Any]) -> Any:
        kind = op["op"]
        target = self.target
        if kind == "on":
            fn = self.listener(op)
            priority = self._priority_kw(op)
            event = event_name(op)
            if op.get("style") == "positional" and priority:
                returned = target.on(event, fn, priority["priority"])
            elif op.get("style") == "keywords":
                returned = target.on(event=event, handler=fn, **priority)
            else:
                returned = target.on(event, fn, **priority)
            check_returned("on", returned, fn)
        elif kind == "once":
            fn, event = self.listener(op), event_name(op)
            once = self.module.once
            if op.get("style") == "decorator":
                reused = self.decorators.get(str(op.get("decorator")))
                decorator = reused if reused is not None else once(
                    target, event, **self._priority_kw(op))
                if not callable(decorator):
                    raise TypeError(f"once(bus, event) without a handler returned {decorator!r}, "
                                    "not a decorator")
                if op.get("decorator"):
                    self.decorators[str(op["decorator"])] = decorator
                returned = decorator(fn)
            elif op.get("style") == "keywords":
                returned = once(bus=target, event=event, handler=fn,
                                **self._priority_kw(op))
            else:
                returned = once(target, event, fn, **self._priority_kw(op))
            check_returned("once", returned, fn)
        elif kind == "off":
            if op.get("style") == "keywords":
                returned = target.off(event=op["event"], handler=self.listener(op))
            else:
                returned = target.off(op["event"], self.listener(op))
            return None if returned is None else repr(returned)[:200]
        elif kind == "emit":
            args = emit_arguments(op, lambda text: self.errors.append(text))
            self.given.extend([*args, *op.get("kwargs", {}).values()])
            result = target.emit(op["event"], *args, **op.get("kwargs", {}))
            if not isinstance(target, EventBus):  # the bus may run all-sync listeners eagerly
                self.early = [call[0] for call in self.trace]
            if not inspect.isawaitable(result):
                raise TypeError(f"emit() returned {result!r}, not an awaitable: make it async def")
            if "timeout" in op:
                try:
                    returned = await asyncio.wait_for(awaiting(result), op["timeout"])
                except TimeoutError:
                    return "timed out"
            elif "meanwhile" in op:  # the emit starts (to its first wait), then these change
                running = asyncio.ensure_future(awaiting(result))  # the subject: see above
                await asyncio.sleep(0)
                self._after("meanwhile", list(op["meanwhile"]), False)
                returned = await running
            else:
                returned = await result
            if isinstance(target, EventBus):
                errors = list(getattr(returned, "errors", ()))
                self.collected += [said_safely(e, self.file) for e in errors[:3]
                                   if not any(e is r for r in self.raised.errors)]
                return [self.raised.name(pep479(e)) for e in errors]
            return None if returned is None else repr(returned)[:200]
        elif kind == "emit_concurrently":
            token = depth.set(1)  # no re-emits here: see the module docstring
            try:
                self.given.extend(op["payloads"])
                emits = [target.emit(e, p) for e, p in concurrent_emits(op)]
                outcomes = await gathered(emits, op, lambda c: self._after("meanwhile", c, False))
            finally:
                depth.reset(token)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        elif kind == "count":
            return len(target.listeners(op["event"]))
        elif kind == "renew":
            del target  # the old subject's last reference but one (self.target's)
            self.target = self._renewed(int(op.get("max_listeners", 0)))
        elif kind in OTHER_BUS_OPS:
            await other_bus_op(self.module, op)
        else:
            raise ValueError(f"unknown scenario op {kind!r}")
        return None


async def _run_ops(run: _Run, ops: list[dict[str, Any]]) -> list[OpResult]:
    results: list[OpResult] = []
    for op in ops:
        run.trace, run.errors, run.given, run.early, run.collected = [], [], [], [], []
        run.unawaited = []
        entry: OpResult = {"op": op["op"], "trace": [], "error": None}
        try:
            with noticing_unawaited(run.unawaited):
                value = await run.do(op)
            if value is not None:
                entry["value"] = value
        except (Exception, asyncio.CancelledError, SystemExit) as exc:  # a listener's too
            text = describe(exc, run.file)
            if run.raised.replaced(exc):
                text = f"another exception than the one a listener raised, of its type ({text})"
            run.errors.insert(0, text)
        except _EndlessEmit as exc:
            where = where_in(exc, run.file) if run.file else ""
            run.errors.insert(0, f"{exc}{where}: a loop that never moves on to the next "
                              "listener, or an emit that also calls the listeners added "
                              "while it runs?")
        entry["trace"] = run.trace
        entry["error"] = "; ".join(run.errors) or None
        if run.early:
            entry["early"] = run.early
        if run.collected:
            entry["collected"] = run.collected
        if run.unawaited:
            entry["unawaited"] = run.unawaited
        results.append(entry)
    return results


def run_scenario(module: ModuleType, subject: str, scenario: dict[str, Any]) -> ScenarioResult:
    """Run one scenario on a fresh subject; JSON-ready result."""
    try:
        run = _Run(module, subject)
    except Exception as exc:
        return {"setup_error": describe(exc, getattr(module, "__file__", None)), "ops": []}
    clock = scenario.get("clock")
    if clock not in (None, "virtual"):
        raise ValueError(f"unknown scenario clock {clock!r}: none, or 'virtual'")
    factory = VirtualClockLoop if clock == "virtual" else None
    ops = _run_ops(run, list(scenario["ops"]))
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            return {"ops": runner.run(ops)}
    except SystemExit as exc:  # out of the event loop itself, not out of an emit
        # end `ops` (in noticing_unawaited's catch_warnings) now, not mid-way through another
        with contextlib.suppress(Exception):
            ops.close()
        raise RuntimeError(f"a listener's {describe(exc, run.file)} escaped the event "
                           "loop instead of coming out of the await that ran it") from None


def serve_scenarios(channel: Channel, args: InsideArgs) -> None:
    """Answer scenario requests until the harness hangs up; the module is imported once,
    at the first request, so a module that fails to import fails that request, clearly."""
    module: ModuleType | None = None
    for request in channel:
        msg_id = request.get("id")
        if module is None:
            try:
                with channel.importing(args.module):
                    module = import_once(args.submission, args.module, args.off_limits)
            except BaseException as exc:  # KeyboardInterrupt at its top level too: its own
                channel.reply({"id": msg_id, "ok": False,
                               "error": import_error(args.module, exc, args.submission)})
                continue
        try:
            result = run_scenario(module, args.subject, request["scenario"])
        except (Exception, SystemExit) as exc:
            channel.reply({"id": msg_id, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            continue
        channel.reply({"id": msg_id, "ok": True, "result": result})
