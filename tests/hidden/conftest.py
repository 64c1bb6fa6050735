"""The reference model for exercises 1 and 2, held in the grading process.

The child runs a scenario against the submission and returns what the
listeners saw; :func:`expected` computes what they should have seen, in plain
Python, from the rules the exercise states. Nothing here imports the submission.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import Phase, settings

from day25.course.harness import ScenarioClient, first_difference
from day25.course.protocol import LISTENER_ERRORS

# Grading: the same submission must always meet the same random programs
# (derandomize: a grade never depends on luck), and a failing one is reported
# as found, unshrunk: shrinking cost a failing submission seconds per suite, and
# the message already names the first step that differs from the model.
settings.register_profile(
    "grading", derandomize=True, database=None, phases=[Phase.explicit, Phase.generate]
)
settings.load_profile(os.environ.get("DAY25_HYPOTHESIS_PROFILE", "grading"))


def _no_local_constants() -> None:
    """Draw the random programs from Hypothesis' own constants only.

    Hypothesis (>= 6.131) also seeds draws with literals it finds by parsing
    every "local" module in ``sys.modules``: here, the grader's own source when
    it is installed editable, but not from a wheel. So the programs a submission
    meets would change with the install mode and with every edit to ``day25``,
    and each session parsed ~50 files to find them (a third of its CPU).
    """
    from hypothesis.internal.conjecture import providers

    empty = getattr(providers, "_local_constants", None)
    if empty is not None and hasattr(providers, "_get_local_constants"):
        providers._get_local_constants = lambda: empty  # type: ignore[attr-defined]


_no_local_constants()

LEVEL = {None: 2, "LOWEST": 0, "LOW": 1, "MEDIUM": 2, "NORMAL": 2, "HIGH": 3, "HIGHEST": 4}
AWAITED = ("async", "returns_awaitable", "returns_task", "returns_future",
           "returns_awaitable_object", "async_callable", "async_returns_awaitable",
           "returns_generator_coroutine", "returns_falsy_awaitable", "async_returns_exception",
           "returns_awaitable_if_truthy",  # emit awaits them (that one: when it returns one)
           "returns_awaitable_list")  # an empty list too, with an __await__
#: sync listeners whose result is a value, never awaited: they record and raise as a
#: ``sync`` one does (any kind not in AWAITED is run as one)
NOT_AWAITED = ("sync", "method", "one_arg", "returns_value", "returns_generator",
               "returns_done_future", "no_signature", "returns_async_generator",
               "returns_watched_generator",  # a plain generator whose body reports its run
               "returns_exception",  # a value too, though an exception object
               "class_handler", "returns_thread_future",  # an instance; a pool's Future
               "generator_function")  # a generator, its body not run: it records nothing


def level(priority: str | int | None) -> int:
    """A scenario's priority as a number: an int, a member's name, a level name in
    lower case (which the child passes on as a string, as ``EventBus.on`` takes it), or
    ``nexios.`` and the name of a member of Nexios' own EventPriority (the bus goes by
    its name: Nexios' values run the other way, ``HIGHEST`` is 1); ``int_enum.`` and a
    member of the child's own IntEnum (``plain_values.Urgency``), an int to the bus;
    ``named_enum.`` and a member of a plain Enum of its own (``plain_values.NamedLevel``),
    which the bus, as Nexios' members, takes by its name."""
    if isinstance(priority, int):
        return priority
    if priority and priority.startswith("int_enum."):
        return {"URGENT": 10, "HIGH": 9, "ROUTINE": -1}[priority.removeprefix("int_enum.")]
    if priority and priority.startswith("named_enum."):
        return LEVEL[priority.removeprefix("named_enum.")]
    return LEVEL[priority.removeprefix("nexios.").upper() if priority else None]


def unknown_name(priority: Any) -> bool:
    """A level name in lower case that the bus does not know (``"urgent"``): bus.on
    raises ``ValueError`` for it, so ``once`` does too (exercise 2)."""
    return isinstance(priority, str) and priority.islower() and priority.upper() not in LEVEL


def hears(key: str, event: str) -> bool:
    """Whether the listeners registered under ``key`` hear an emit of ``event``: its own,
    or a wildcard pattern's (``"*"``, or ``"ui:*"`` for ``"ui:click"``), as the bus has it."""
    return key == event or (key.endswith("*") and event.startswith(key[:-1]))


class TimedOut(Exception):
    """An emit given ``timeout`` seconds ran out of them (virtual clock): it was cancelled."""


class Raised(Exception):
    """A listener of the model raised, and the emit lets it out (priority_ordering)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def raised(spec: dict[str, Any]) -> str | None:
    """The type name of what a listener raises, if it raises (the child's ``raises``)."""
    kind = spec.get("raises")
    if not kind:
        return None
    return kind if kind in (*LISTENER_ERRORS, "InvalidStateError", "IndexError",
                            "StopIteration", "TimeoutError", "WebSocketDisconnect",
                            "CancelledError", "ExceptionGroup", "SystemExit") else "RuntimeError"


def recorded(op: dict[str, Any]) -> Any:
    """What a listener records of an emit's positional arguments (the child's rule)."""
    if "args" not in op:
        return op.get("payload")
    args = list(op["args"])
    return args[0] if len(args) == 1 else {"args": args}


@dataclass
class _Reg:
    name: str
    priority: int
    order: int
    once: bool
    key: str  # the event name or pattern it was registered under
    fired: bool = False


@dataclass
class Model:
    """What a correct PriorityEmitter / once-on-EventBus does with a scenario.

    ``bus``: the subject is the bundled EventBus (exercise 2), which catches a
    listener's exception, goes on with the others and returns it in the emit's
    result; else (exercise 1) the exception comes out of ``emit`` at once.
    """

    bus: bool = False
    regs: dict[str, list[_Reg]] = field(default_factory=dict)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: int = 0
    trace: list[list[Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # re-entrant emits that raised (ex. 1)
    left: float | None = None  # seconds the emit under way has left, if given a timeout

    def _spec(self, op: dict[str, Any]) -> None:
        if op.get("kind", "sync") not in AWAITED + NOT_AWAITED:
            raise ValueError(f"the model knows no listener kind {op['kind']!r}")
        self.specs.setdefault(op["listener"], op)

    def _register(self, op: dict[str, Any], once: bool) -> None:
        self._spec(op)
        self.order += 1
        reg = _Reg(op["listener"], level(op.get("priority")), self.order, once, op["event"])
        self.regs.setdefault(op["event"], []).append(reg)

    def _remove(self, op: dict[str, Any]) -> None:
        self._spec(op)
        self.regs[op["event"]] = [r for r in self.regs.get(op["event"], [])
                                  if r.name != op["listener"]]

    def emit(self, event: str, payload: Any, kwargs: dict[str, Any], depth: int,
             single: bool = True) -> None:
        """``single``: the emit gave one positional argument (``payload``)."""
        heard = [r for key, regs in self.regs.items()  # exercise 1: exact names, no patterns
                 if (hears(key, event) if self.bus else key == event) for r in regs]
        snapshot = sorted(heard, key=lambda r: (-r.priority, r.order))
        for reg in snapshot:
            if reg.once:
                if reg.fired:
                    continue  # a re-entrant or concurrent emit took it
                reg.fired = True
                self.regs[reg.key] = [r for r in self.regs.get(reg.key, []) if r is not reg]
            spec = self.specs[reg.name]
            if spec.get("kind") == "generator_function":
                continue  # called: it gives a generator, and none of its body runs
            if spec.get("kind") == "one_arg" and (kwargs or not single):
                self._raise("TypeError", depth)  # Python refuses the call: nothing ran
                continue
            if self.left is not None and depth == 0 and spec.get("kind") in AWAITED:
                self.left -= float(spec.get("sleep", 0))  # it sleeps before it records
                if self.left <= 0:
                    raise TimedOut  # cancelled while it slept: called, never recorded
            self.trace.append([reg.name, payload, kwargs] if kwargs else [reg.name, payload])
            reemit = spec.get("reemit")
            if spec.get("kind") in (*AWAITED, "sync") and reemit and depth == 0:
                try:
                    self.emit(reemit["event"], reemit.get("payload"), {}, 1)
                except Raised as inner:  # the listener catches it and goes on
                    self.notes.append(f"a re-entrant emit raised {inner.kind}")
            for change in spec.get("then", ()):
                if change["op"] == "count":  # counted while the listener runs: in the trace
                    self.trace.append([f"count {change['event']}", self.count(change["event"])])
                elif change["op"] in ("on", "once"):
                    self._register(change, once=change["op"] == "once")
                else:
                    self._remove(change)
            kind = raised(spec)
            if kind:
                self._raise(kind, depth)

    def count(self, event: str) -> int:
        """A name counts the patterns that hear it; a pattern, its own."""
        return len(self.regs.get(event, [])) if event.endswith("*") else sum(
            len(regs) for key, regs in self.regs.items() if hears(key, event))

    def _raise(self, kind: str, depth: int) -> None:
        """A listener raised ``kind``: out of the emit (exercise 1), or into the result
        of a top-level emit (the bus)."""
        if not self.bus:
            raise Raised(kind)
        if depth == 0:
            self.errors.append(kind)

    def do(self, op: dict[str, Any]) -> dict[str, Any]:
        self.trace, self.errors, self.notes = [], [], []
        out: dict[str, Any] = {"op": op["op"], "error": None}
        kind = op["op"]
        if kind == "once" and self.bus and (isinstance(op.get("priority"), bool)
                                            or op.get("priority") == "explicit.None"):
            out["error"] = "TypeError"  # bus.on refuses a bool (or None), so once does too
        elif kind == "once" and self.bus and unknown_name(op.get("priority")):
            out["error"] = "ValueError"  # and a level name it does not know ("urgent")
        elif kind in ("on", "once"):
            self._register(op, once=kind == "once")
        elif kind == "off":
            self._remove(op)
            out["value"] = None  # off returns None
        elif kind == "emit":
            self.left = op.get("timeout")
            try:
                self.emit(op["event"], recorded(op), op.get("kwargs", {}), 0,
                          single="args" not in op or len(op["args"]) == 1)
            except Raised as exc:
                out["error"] = exc.kind
            except TimedOut:
                out["value"] = "timed out"
            finally:
                self.left = None
            # on/off made after the emit started (it waits in a listener, or has ended): from
            # the next emit (exact when no listener of this emit changes the listeners too)
            for change in op.get("meanwhile", ()):
                if change["op"] == "off":
                    self._remove(change)
                else:
                    self._register(change, once=change["op"] == "once")
            out["error"] = out["error"] or (self.notes[0] if self.notes else None)
            out.setdefault("value", list(self.errors) if self.bus else None)
        elif kind == "emit_concurrently":
            # Only how often each listener ran counts here, so running them one after
            # another is right as long as no listener changes the listeners (no ``then``
            # in a program with this op): each emit stops at its own raising listener,
            # and the first emit (in payload order) that raised gives the op its error.
            events = op.get("events") or [op["event"]] * len(op["payloads"])  # one per emit
            for event, payload in zip(events, op["payloads"], strict=True):
                try:
                    self.emit(event, payload, {}, 1)  # the child does not re-emit here
                except Raised as exc:
                    out["error"] = out["error"] or exc.kind
            for change in op.get("after_first", ()):  # made once the first emit ended, while
                if change["op"] == "off":             # the others run: from the next emit
                    self._remove(change)
                else:
                    self._register(change, once=change["op"] == "once")
        elif kind == "count":
            out["value"] = self.count(op["event"])
        elif kind == "renew":
            self.regs = {}  # a fresh subject: nothing of the old one's
        out["trace"] = self.trace
        return out


def expected(ops: list[dict[str, Any]], *, bus: bool = False) -> list[dict[str, Any]]:
    model = Model(bus=bus)
    return [model.do(op) for op in ops]


def compare(ops: list[dict[str, Any]], got: dict[str, Any], hint: str, *, bus: bool) -> None:
    """Fail with a readable message at the first step that differs from the model."""
    problem = first_difference(ops, expected(ops, bus=bus), got)
    if problem:
        pytest.fail(f"{problem}\n{hint}", pytrace=False)


@pytest.fixture(scope="module")
def check(scenario_client: ScenarioClient) -> Any:
    """``check(ops, hint)``: run ``ops`` in the submission's child, compare with the model;
    ``clock="virtual"``: on a loop whose clock skips waits (listeners with ``sleep``)."""

    bus = scenario_client.exercise.subject == "bus"

    def run(ops: list[dict[str, Any]], hint: str = "", *, clock: str | None = None) -> None:
        scenario = {"ops": ops, **({"clock": clock} if clock else {})}
        compare(ops, scenario_client.run(scenario), hint, bus=bus)

    return run
