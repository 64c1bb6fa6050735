"""What the scenario runner's ops and their options do to the code under test, in-process.

``renew`` puts a fresh subject where the old one was (in memory too); a level name
reaches the code as what it says (a lower-case string, Nexios' own member, a member of
an ``IntEnum`` of its own); an emit a sync listener makes runs in place; an emit given
a timeout is cancelled when it runs out; and the ``meanwhile`` of an emit and the
``after_first`` of ``emit_concurrently`` come when they say. The listeners' own kinds
and shapes are in ``test_scenario_listener_kinds.py``, once-wrappers on the bus in
``test_scenario_once_wrappers.py``.
"""

from __future__ import annotations

import textwrap
import types
from pathlib import Path
from typing import Any

from day25.course.harness import load_beside
from day25.course.inside.scenarios import run_scenario

_subjects = load_beside(__file__, "scenario_subjects")
module, on, emit, traces = _subjects.module, _subjects.on, _subjects.emit, _subjects.traces


RENEWED = [on("a"), emit(1), {"op": "renew"}, on("b"), emit(2)]


def test_renew_gives_a_new_subject_in_the_old_ones_place() -> None:
    assert traces(module(), RENEWED) == [[["a", 1]], [["b", 2]]]
    # the fresh emitter took the old one's id: what was kept by id shows in it. CPython
    # usually hands the freed block to the next object of its size, not always (a pool
    # left empty is set aside): a few tries, each with a fresh module, so that a renew
    # that never reuses the block fails, and a busy heap does not.
    inherited = [[["a", 1]], [["a", 2], ["b", 2]]]
    seen = [traces(module(keyed=True), RENEWED) for _ in range(5)]
    assert inherited in seen, seen


def test_a_lower_case_level_name_reaches_the_code_as_that_string() -> None:
    mod = module()
    traces(mod, [on("a", priority="high"), on("b", priority="HIGH"), on("c", priority=7)])
    assert [repr(p) for p in mod.PRIORITIES] == ["'high'", "<EventPriority.HIGH: 3>", "7"]


def test_a_sync_listener_that_emits_runs_that_emit_in_place() -> None:
    again = {"event": "e", "payload": "in"}
    ops = [on("s", reemit=again), on("b"), emit(1)]
    # the nested emit ran to its end inside s, before b's turn in the outer one (and
    # from there s does not emit again)
    assert traces(module(), ops) == [[["s", 1], ["s", "in"], ["b", "in"], ["b", 1]]]
    # an emit that has to wait (an async listener that yields) cannot finish in place
    ops = [on("s", reemit=again), on("slow", kind="async"), emit(1)]
    result = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][2]
    assert result["trace"] == [["s", 1], ["s", "in"], ["slow", 1]]
    assert "the emit sync listener s made had to wait" in result["error"]


def test_an_emit_given_a_timeout_is_cancelled_when_it_runs_out() -> None:
    def timed(seconds: float) -> list[Any]:
        ops = [on("slow", kind="async", sleep=100), on("b"), {**emit(1), "timeout": seconds}]
        scenario = {"ops": ops, "clock": "virtual"}
        return [run_scenario(module(), "PriorityEmitter", scenario)["ops"][2].get(key)
                for key in ("trace", "error", "value")]

    assert timed(1) == [[], None, "timed out"]  # cancelled while slow slept
    assert timed(1000) == [[["slow", 1], ["b", 1]], None, None]


def test_a_nexios_level_name_reaches_the_code_as_nexios_own_member() -> None:
    from nexios.events import EventPriority as NexiosPriority

    mod = module()
    traces(mod, [on("a", priority="nexios.HIGHEST"), on("b", priority="nexios.NORMAL")])
    assert mod.PRIORITIES == [NexiosPriority.HIGHEST, NexiosPriority.NORMAL]
    assert all(type(p) is NexiosPriority for p in mod.PRIORITIES)


YIELDS_FIRST = """
import asyncio
_emit = PriorityEmitter.emit

async def emit(self, *args, **kwargs):
    await asyncio.sleep(0)  # yields before it takes its snapshot
    await _emit(self, *args, **kwargs)

PriorityEmitter.emit = emit
"""


def test_meanwhile_changes_come_once_the_emit_started() -> None:
    """The eleventh batch's ``"meanwhile"`` of an emit: the caller's ``on`` once the emit
    ran to its first wait (here in ``slow``) misses an emit that took its snapshot when
    it started, and reaches one that yielded before taking it."""
    ops = [on("a"), on("slow", kind="async"), {**emit(1), "meanwhile": [on("late")]},
           emit(2)]
    assert traces(module(), ops) == [[["a", 1], ["slow", 1]],
                                     [["a", 2], ["slow", 2], ["late", 2]]]
    late = module()
    exec(compile(YIELDS_FIRST, "<submission>", "exec"), late.__dict__)
    assert traces(late, ops)[0] == [["a", 1], ["slow", 1], ["late", 1]]


LIVE_LIST = """
import inspect

class PriorityEmitter:
    def __init__(self):
        self.handlers = []

    def on(self, event, handler, priority=2):
        self.handlers.append(handler)
        return handler

    def off(self, event, handler):
        self.handlers[:] = [h for h in self.handlers if h != handler]

    async def emit(self, event, *args, **kwargs):
        for handler in list(self.handlers) if SNAPSHOT else self.handlers:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
"""


def test_after_first_changes_come_once_the_first_concurrent_emit_ended() -> None:
    """The seventeenth batch's ``"after_first"`` of ``emit_concurrently``: the ``off``
    comes once the emit of 0 ended, while the emit of 1 still waits in ``maybe``; it
    misses that emit when it walks a snapshot, and reaches it when it walks the live list."""
    ops = [on("step", kind="async"), on("maybe", kind="returns_awaitable_if_truthy", delay=6),
           on("victim"), {"op": "emit_concurrently", "event": "e", "payloads": [0, 1],
                          "after_first": [{"op": "off", "event": "e", "listener": "victim"}]},
           emit(2)]
    for snapshot, victims in ((True, [["victim", 0], ["victim", 1]]), (False, [["victim", 0]])):
        made = types.ModuleType("submission")
        made.__dict__["SNAPSHOT"] = snapshot
        exec(compile(textwrap.dedent(LIVE_LIST), "<submission>", "exec"), made.__dict__)
        both, after = (op["trace"] for op in run_scenario(made, "PriorityEmitter",
                                                          {"ops": ops})["ops"][3:])
        assert sorted(call for call in both if call[0] == "victim") == victims
        assert after == [["step", 2], ["maybe", 2]]


def test_concurrent_emits_given_events_emit_each_payload_to_its_own_event() -> None:
    """The twenty-first batch's ``"events"`` of ``emit_concurrently``: one event per
    payload, in order, the emits side by side (the second one ends first here)."""
    made = types.ModuleType("submission")  # the reference: it keeps events apart
    reference = Path(__file__).resolve().parents[2] / "solutions" / "priority_ordering.py"
    exec(compile(reference.read_text(), str(reference), "exec"), made.__dict__)
    ops = [on("slow0", event="e0", kind="async", delay=3), on("b0", event="e0"),
           on("slow1", event="e1", kind="async", delay=0), on("b1", event="e1"),
           {"op": "emit_concurrently", "events": ["e0", "e1"], "payloads": [0, 1]}]
    result = run_scenario(made, "PriorityEmitter", {"ops": ops})["ops"][-1]
    assert result["trace"] == [["slow1", 1], ["b1", 1], ["slow0", 0], ["b0", 0]], result


# -- the sixteenth blind batch (once_semantics): plain_values.Urgency -----------------
def test_an_int_enum_level_reaches_the_code_as_a_member_of_an_int_enum_of_its_own() -> None:
    from day25 import EventPriority
    from day25.course.inside.plain_values import Urgency

    mod = module()
    traces(mod, [on("a", priority="int_enum.URGENT"), on("b", priority="int_enum.ROUTINE")])
    assert mod.PRIORITIES == [10, -1]
    assert all(type(p) is Urgency and not isinstance(p, EventPriority) for p in mod.PRIORITIES)


# -- the eighteenth blind batch (once_semantics): Urgency.HIGH ---------------------------
def test_an_int_enum_level_named_like_a_level_of_the_bus_reaches_the_code_by_its_value() -> None:
    from day25 import EventPriority
    from day25.course.inside.plain_values import Urgency

    mod = module()
    traces(mod, [on("a", priority="int_enum.HIGH")])
    assert mod.PRIORITIES == [9] and mod.PRIORITIES[0].name == "HIGH"
    assert type(mod.PRIORITIES[0]) is Urgency and mod.PRIORITIES[0] != EventPriority.HIGH


# -- the twenty-second blind batch (once_semantics): NamedLevel, once_not_callable ---------
def test_a_named_enum_level_reaches_the_code_as_a_member_of_a_plain_enum_of_its_own() -> None:
    from day25 import coerce_priority
    from day25.course.inside.plain_values import NamedLevel

    mod = module()
    traces(mod, [on("a", priority="named_enum.HIGH"), on("b", priority="named_enum.LOW")])
    assert mod.PRIORITIES == [NamedLevel.HIGH, NamedLevel.LOW]
    assert all(type(p) is NamedLevel and not isinstance(p, int | str) for p in mod.PRIORITIES)
    assert coerce_priority(NamedLevel.HIGH) == 3  # which the bus takes by its name


NOT_CALLABLE = """
def once(bus, event, handler):
    if not callable(handler) and REFUSE and not LATE:
        raise REFUSE(f"not callable: {handler!r}")
    if not callable(handler) and DROP:
        return handler
    def wrapper(*args, **kwargs):
        if not FOREVER:
            bus.off(event, wrapper)
        return handler(*args, **kwargs)
    bus.on(event, wrapper)
    if not callable(handler) and REFUSE and LATE:  # refused, yet registered
        raise REFUSE(f"not callable: {handler!r}")
    return handler
"""


def test_once_not_callable_allows_a_type_error_at_once_or_in_the_emit_only() -> None:
    from day25.course.protocol import BUS_SUBJECT

    def outcome(refuse: type[Exception] | None, drop: bool = False, **flags: bool) -> Any:
        made = types.ModuleType("submission")
        made.__dict__.update({"REFUSE": refuse, "DROP": drop, "LATE": False, "FOREVER": False,
                              **flags})
        exec(compile(NOT_CALLABLE, "<submission>", "exec"), made.__dict__)
        ops = [{"op": "once_not_callable", "event": "e"}]
        return run_scenario(made, BUS_SUBJECT, {"ops": ops})["ops"][0]["error"]

    assert outcome(TypeError) is None and outcome(None) is None  # at once, or in the emit
    refused = outcome(ValueError)
    assert refused.startswith("NotCallableMishandled: once(bus, event, 42) raised ValueError")
    assert "returned the errors [[], []]" in outcome(None, drop=True)  # dropped silently
    # the twenty-fifth batch: refused yet left on the bus; left to fail at every emit
    assert "raised TypeError, yet left 1 listener(s)" in outcome(TypeError, LATE=True)
    assert "[['TypeError'], ['TypeError']] and left 1" in outcome(None, FOREVER=True)


KEYWORDS = """
class Wrapper:
    def __init__(self, bus, event, handler):
        self.bus, self.event, self.handler = bus, event, handler

    def __call__(self, *args, **kwargs):  # its self: the one parameter the text allows
        self.bus.off(self.event, self)
        return self.handler(*args, **kwargs)

def once(bus, event, handler):
    def wrapper(SIGNATURE):
        bus.off(event, wrapper)
        return handler(CALL)
    bus.on(event, Wrapper(bus, event, handler) if CLASS else wrapper)
    return handler
"""


def test_once_keywords_tries_the_names_of_the_wrappers_own_parameters() -> None:
    """A student's test (stop 58): a wrapper that bound the bus as ``_bus=bus`` kept
    ``emit(..., _bus=...)`` from the handler, and the suite's fixed names never tried it."""
    from day25.course.protocol import BUS_SUBJECT

    def outcome(signature: str, call: str = "*args, **kwargs", cls: bool = False) -> Any:
        source = KEYWORDS.replace("SIGNATURE", signature).replace("CALL", call)
        made = types.ModuleType("submission")
        made.__dict__["CLASS"] = cls
        exec(compile(source, "<submission>", "exec"), made.__dict__)
        ops = [{"op": "once_keywords", "event": "e"}]
        return run_scenario(made, BUS_SUBJECT, {"ops": ops})["ops"][0]["error"]

    assert outcome("*args, **kwargs") is None
    assert outcome("", cls=True) is None  # __call__(self, ...): self is not tried
    # a parameter of its own that hands the keyword on as given is no fault either
    assert outcome("*args, _bus=None, **kwargs", "*args, _bus=_bus, **kwargs") is None
    taken = outcome("*args, _bus=None, **kwargs")
    assert taken.startswith("KeywordTaken: your wrapper has a parameter of its own named _bus, "
                            "so emit('e', 1, _bus=...) called the handler with [[[1], {}]], "
                            "not with exactly those arguments. "), taken
    assert "a wrapper takes *args, **kwargs only" in taken


def test_an_explicit_none_priority_and_a_str_event_of_its_own_class_reach_once() -> None:
    """The twenty-sixth batch's spellings: ``"explicit.None"`` hands ``None`` on as the
    priority, and ``"str_event"`` the event name as a ``str`` of the caller's own class."""
    from day25.course.inside.plain_values import EventName, event_name, named_level

    assert named_level("explicit.None") is None and named_level("none") == "none"
    name = event_name({"event": "first.login", "str_event": True})
    assert type(name) is EventName and name == "first.login"
    assert type(event_name({"event": "e"})) is str


def test_on_and_off_by_keyword_pass_every_argument_by_its_name() -> None:
    """The twenty-sixth batch's callers: ``"style": "keywords"`` on ``on`` and ``off``
    passes every argument by its name, so a parameter renamed is a TypeError."""
    mod = module()
    keywords = {"style": "keywords"}
    off = {"op": "off", "event": "e", "listener": "a", **keywords}  # this stand-in's off: none
    assert traces(mod, [{**on("a"), **keywords}, emit(1), off, emit(2)]) == [[["a", 1]],
                                                                               [["a", 2]]]
    positional = types.ModuleType("submission")
    exec(compile("class PriorityEmitter:\n"
                 "    def on(self, event, callback, priority=2):\n        return callback\n",
                 "<submission>", "exec"), positional.__dict__)
    result = run_scenario(positional, "PriorityEmitter", {"ops": [{**on("a"), **keywords}]})
    assert "unexpected keyword argument 'handler'" in result["ops"][0]["error"]


def test_a_falsy_handler_taken_for_the_decorator_form_is_named() -> None:
    """A student's test (stop 58): `if not handler:` made once() return a decorator for an
    empty collection with a __call__, and the message spoke only of the return value."""
    from day25.course.protocol import BUS_SUBJECT

    reference = (Path(__file__).resolve().parents[2] / "solutions" / "once_semantics.py"
                 ).read_text(encoding="utf-8")
    ops = [{"op": "once", "event": "e", "listener": "empty", "kind": "sync", "style": "call",
            "falsy": True}]
    errors = []
    for source in (reference, reference.replace("    if handler is None:\n",
                                                 "    if not handler:\n", 1)):
        made = types.ModuleType("submission")
        exec(compile(source, "<submission>", "exec"), made.__dict__)
        errors.append(run_scenario(made, BUS_SUBJECT, {"ops": ops})["ops"][0]["error"])
    assert errors[0] is None
    assert errors[1].startswith("TypeError: once() returned <function"), errors[1]
    assert errors[1].endswith("(so it works as a decorator). It returned a callable for a "
                              "handler that is falsy (an empty collection with a __call__): "
                              "the decorator form is the one without a handler (handler is "
                              "None), not one whose handler is false"), errors[1]
