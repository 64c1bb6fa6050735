"""Execute declarative scenarios against an exercise 1 or 2 module (in the child).

A scenario is JSON: ``{"ops": [op, ...]}``. Each op acts on one fresh object
(a ``PriorityEmitter()`` for ``priority_ordering``, a guarded ``EventBus`` for
``once_semantics``) and yields ``{"op", "trace", "error"}``: the calls the
listeners saw during that op, ``[[listener, payload], ...]`` (a third item holds
keyword arguments when there were any), and what the student's code raised.
An exception in student code is an entry, never a crash, so the parent can say
exactly which step went wrong.

Ops (``priority`` is ``"HIGH"``/``"MEDIUM"``/``"LOW"`` or absent for the default):

* ``{"op": "on", "event", "listener", "priority"?, "kind": "sync"|"async", "reemit"?}``
* ``{"op": "once", ...same..., "style": "call"|"decorator"}`` (``once_semantics`` only)
* ``{"op": "off", "event", "listener"}``
* ``{"op": "emit", "event", "payload", "kwargs"?}``
* ``{"op": "emit_concurrently", "event", "payloads": [...]}``: ``asyncio.gather``
* ``{"op": "count", "event"}``: how many listeners the bus holds (``once_semantics``)

A listener is created on its first mention and reused after (so ``off`` can
name it). An async listener awaits ``asyncio.sleep(0)`` before it records, so
listeners that are not awaited in order show up in the trace; ``"delay": n``
(default 1) makes it yield n times, so listeners run side by side finish out of order. ``reemit``:
``{"event", "payload"}``, an async listener emits that after recording, but only
when called from a top-level sequential ``emit`` (so re-entrancy is one level deep, never
endless; not from ``emit_concurrently``, whose interleaving would decide how often a
once-listener that re-emits gets to re-emit, making the expected counts a matter of luck).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

from day25 import EventBus, EventPriority

__all__ = ["GuardedBus", "first_difference", "run_scenario"]

_depth: contextvars.ContextVar[int] = contextvars.ContextVar("day25_scenario_depth", default=0)


class GuardedBus(EventBus):
    """The bundled bus, minus ``once``: exercise 2 must build it on ``on``/``off``."""

    def once(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "bus.once() is off limits in this exercise: build once() from bus.on() and bus.off()"
        )


def describe(exc: BaseException, module_file: str | None) -> str:
    """``Type: message (at your_file.py line N)``: short, for a student."""
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if module_file:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == module_file]
        if frames:
            last = frames[-1]
            text += f" (at {last.filename.rsplit('/', 1)[-1]} line {last.lineno}: {last.line})"
    return text


class _Run:
    def __init__(self, module: ModuleType, exercise: str) -> None:
        self.module = module
        self.exercise = exercise
        self.file = getattr(module, "__file__", None)
        self.listeners: dict[str, Callable[..., Any]] = {}
        self.trace: list[list[Any]] = []
        self.errors: list[str] = []
        if exercise == "priority_ordering":
            self.target: Any = module.PriorityEmitter()
        elif exercise == "once_semantics":
            self.target = GuardedBus(max_listeners=0)
        else:
            raise ValueError(f"no scenarios for exercise {exercise!r}")

    # -- listeners ------------------------------------------------------------------
    def listener(self, op: dict[str, Any]) -> Callable[..., Any]:
        name = str(op["listener"])
        found = self.listeners.get(name)
        if found is None:
            found = self._make(name, op.get("kind", "sync"), op.get("reemit"), op.get("delay", 1))
            self.listeners[name] = found
        return found

    def _record(self, name: str, payload: Any, kwargs: dict[str, Any]) -> None:
        self.trace.append([name, payload, kwargs] if kwargs else [name, payload])

    def _make(
        self, name: str, kind: str, reemit: dict[str, Any] | None, delay: int
    ) -> Callable[..., Any]:
        run = self
        if kind == "sync":

            def listener(payload: Any = None, **kwargs: Any) -> None:
                run._record(name, payload, kwargs)

        else:

            async def listener(payload: Any = None, **kwargs: Any) -> None:  # type: ignore[misc]
                for _ in range(delay):
                    await asyncio.sleep(0)
                run._record(name, payload, kwargs)
                if reemit is not None and _depth.get() == 0:
                    token = _depth.set(1)
                    try:
                        await run.target.emit(reemit["event"], reemit.get("payload"))
                    except Exception as exc:
                        run.errors.append(f"a re-entrant emit raised {describe(exc, run.file)}")
                    finally:
                        _depth.reset(token)

        listener.__name__ = listener.__qualname__ = f"listener_{name}"
        return listener

    # -- ops --------------------------------------------------------------------------
    def _priority_kw(self, op: dict[str, Any]) -> dict[str, Any]:
        p = op.get("priority")
        return {} if p is None else {"priority": EventPriority[p]}

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
            else:
                returned = once(target, op["event"], fn, **self._priority_kw(op))
            self._check_returned("once", returned, fn)
        elif kind == "off":
            target.off(op["event"], self.listener(op))
        elif kind == "emit":
            result = target.emit(op["event"], op.get("payload"), **op.get("kwargs", {}))
            if not inspect.isawaitable(result):
                raise TypeError(f"emit() returned {result!r}, not an awaitable: make it async def")
            await result
        elif kind == "emit_concurrently":
            token = _depth.set(1)  # no re-emits here: see the module docstring
            try:
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

    def _check_returned(self, what: str, returned: Any, fn: Callable[..., Any]) -> None:
        if returned is not fn:
            raise TypeError(f"{what}() returned {returned!r}; it must return the very handler it "
                            "was given (so it works as a decorator)")


async def _run_ops(run: _Run, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for op in ops:
        run.trace, run.errors = [], []
        entry: dict[str, Any] = {"op": op["op"]}
        try:
            value = await run.do(op)
            if value is not None:
                entry["value"] = value
        except Exception as exc:
            run.errors.insert(0, describe(exc, run.file))
        entry["trace"] = run.trace
        entry["error"] = "; ".join(run.errors) or None
        results.append(entry)
    return results


def run_scenario(module: ModuleType, exercise: str, scenario: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario on a fresh emitter/bus; JSON-ready result."""
    try:
        run = _Run(module, exercise)
    except Exception as exc:
        return {"setup_error": describe(exc, getattr(module, "__file__", None)), "ops": []}
    return {"ops": asyncio.run(_run_ops(run, list(scenario["ops"])))}


def _show(op: dict[str, Any]) -> str:
    import json

    return json.dumps({k: v for k, v in op.items() if v is not None}, separators=(",", ":"))


def first_difference(
    ops: list[dict[str, Any]], want: list[dict[str, Any]], got: dict[str, Any]
) -> str | None:
    """Where a child's result differs from what was expected, for a student; else None.

    Runs in the grading process. ``want[i]`` holds ``trace`` (and ``value`` for
    ``count``); for ``emit_concurrently`` only how often each listener ran counts,
    because the interleaving of concurrent emits is not part of any rule.
    """
    from collections import Counter

    if got.get("setup_error"):
        return f"Creating the object under test failed: {got['setup_error']}"
    steps = "\n".join(f"  {i + 1}. {_show(op)}" for i, op in enumerate(ops))
    for i, (op, expect, have) in enumerate(zip(ops, want, got["ops"], strict=True)):
        where = f"Scenario:\n{steps}\nAt step {i + 1}"
        if have["error"]:
            return f"{where} your code raised {have['error']}"
        if op["op"] == "emit_concurrently":
            w = Counter(c[0] for c in expect["trace"])
            h = Counter(c[0] for c in have["trace"])
            if w != h:
                return (f"{where} each listener should have run this many times (in any order) "
                        f"{dict(w)}, but ran {dict(h)}")
        elif expect["trace"] != have["trace"]:
            return (f"{where} the listeners should have been called as {expect['trace']} "
                    f"([listener, payload], in order), but were called as {have['trace']}")
        if "value" in expect and expect["value"] != have.get("value"):
            return (f"{where} {expect['value']} listener(s) should be left on the bus, "
                    f"but {have.get('value')} are")
    return None
