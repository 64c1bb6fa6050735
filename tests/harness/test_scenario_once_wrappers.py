"""What the scenario runner's ops and listeners do to a once-wrapper on the bus, in-process.

The shapes a wrapper meets (``day25.course.inside.listener_shapes``): an async
generator returned, attributes named as a wrapper's state, an exception raised from
another, a listener that cannot be weakly referenced; and what the once_semantics
batches asked for: a named decorator used again, handlers on other buses, an exception
returned, functions given to emit, ``renew`` with ``max_listeners``, a ``count`` while
a listener runs, a tuple as one argument, ``StopIteration``, ``TimeoutError``, and
Nexios' ``WebSocketDisconnect``.
"""

from __future__ import annotations

import inspect
import textwrap
import types
from typing import Any

import pytest

from day25.course.harness import load_beside
from day25.course.inside.scenarios import run_scenario
from day25.course.protocol import BUS_SUBJECT

_subjects = load_beside(__file__, "scenario_subjects")
emit, made = _subjects.emit, _subjects.made


# -- shapes a wrapper meets (day25.course.inside.listener_shapes) -----------------------
ONCE = """
import functools
import inspect

class Wrapper:
    def __init__(self, bus, event, handler):
        self.bus, self.event, self.handler, self.fired = bus, event, handler, False
        if COPY_LATE:  # the handler's __dict__ over this wrapper's own state
            functools.update_wrapper(self, handler)

    async def __call__(self, *args, **kwargs):
        if self.fired:
            return
        self.fired = True
        self.bus.off(self.event, self)
        try:
            result = self.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
            elif DRAIN and inspect.isasyncgen(result):
                async for _ in result:
                    pass
        except Exception as exc:
            if FROM_NONE:
                raise exc from None
            raise

def once(bus, event, handler):
    wrapper = Wrapper(bus, event, handler)
    wrapper.__wrapped__ = handler
    bus.on(event, wrapper)
    return handler
"""


def once_module(**flags: bool) -> types.ModuleType:
    made = types.ModuleType("submission")
    made.__dict__.update({"COPY_LATE": False, "DRAIN": False, "FROM_NONE": False, **flags})
    exec(compile(textwrap.dedent(ONCE), "<submission>", "exec"), made.__dict__)
    return made


def on_bus(mod: types.ModuleType, ops: list[dict[str, Any]]) -> list[Any]:
    return [{k: v for k, v in op.items() if k != "op"}
            for op in run_scenario(mod, BUS_SUBJECT, {"ops": ops})["ops"]]


def test_an_async_generator_returned_is_a_value_and_running_it_through_is_reported() -> None:
    calls: list[Any] = []
    returned = made("ag", {"kind": "returns_async_generator"}, calls)(1)
    assert calls == [(1,)] and inspect.isasyncgen(returned)
    assert not inspect.isawaitable(returned)
    ops = [{"op": "once", "event": "e", "listener": "ag", "kind": "returns_async_generator"},
           emit(1)]
    assert on_bus(once_module(), ops)[1] == {"trace": [["ag", 1]], "error": None, "value": []}
    drained = on_bus(once_module(DRAIN=True), ops)[1]
    assert drained["trace"] == [["ag", 1]]
    assert "the async generator listener ag returned was run through" in drained["error"]


def test_own_attrs_give_a_listener_attributes_named_as_a_wrappers_state() -> None:
    from day25.course.inside.listeners import make_listener

    reported: list[str] = []

    async def no_reemit(op: dict[str, Any]) -> None:
        pass

    listener = make_listener("t", {"own_attrs": True}, record=lambda a, k: None,
                             after=lambda: None, reemit=no_reemit, resolving=set(),
                             misused=reported.append)
    assert listener.fired is True and listener.event != "e"
    listener.handler(1)
    listener.bus.off("e", listener)
    assert len(reported) == 2 and "was called instead of the listener" in reported[0]
    ops = [{"op": "once", "event": "e", "listener": "t", "own_attrs": True}, emit(1),
           {"op": "count", "event": "e"}]
    assert [op["trace"] for op in on_bus(once_module(), ops)] == [[], [["t", 1]], []]
    late = on_bus(once_module(COPY_LATE=True), ops)
    assert late[1]["trace"] == [] and late[2]["value"] == 1  # "fired": never fired, left


def test_a_cause_true_listener_raises_from_another_exception_which_must_stay() -> None:
    ops = [{"op": "on", "event": "e", "listener": "boom", "raises": "ValueError"},
           {"op": "once", "event": "e", "listener": "caused", "raises": "KeyError",
            "kind": "async", "cause": True}, emit(1)]
    assert on_bus(once_module(), ops)[2]["value"] == ["ValueError", "KeyError"]
    # re-raised `from None`: the cause is gone, which only a "cause" listener reports
    dropped = on_bus(once_module(FROM_NONE=True), ops)[2]["value"]
    assert dropped == ["ValueError", "the KeyError a listener raised, without its __cause__"]


# -- the twelfth blind batch (once_semantics) -----------------------------------------
def test_a_slotted_listener_is_a_callable_that_cannot_be_weakly_referenced() -> None:
    import weakref

    calls: list[Any] = []
    listener = made("s", {"slotted": True}, calls)
    listener(1)
    assert calls == [(1,)] and not hasattr(listener, "__dict__")
    with pytest.raises(TypeError, match="weak reference"):
        weakref.ref(listener)
    ops = [{"op": "once", "event": "e", "listener": "s", "slotted": True}, emit(1), emit(2)]
    assert [op["trace"] for op in on_bus(once_module(), ops)] == [[], [["s", 1]], []]


def test_an_invalid_state_error_listener_raises_asyncios_own() -> None:
    ops = [{"op": "once", "event": "e", "listener": "i", "raises": "InvalidStateError"},
           {"op": "on", "event": "e", "listener": "a", "kind": "async",
            "raises": "InvalidStateError"}, emit(1)]
    assert on_bus(once_module(), ops)[2]["value"] == ["InvalidStateError"] * 2


def test_a_websocket_disconnect_listener_raises_nexios_own() -> None:  # twenty-third batch
    ops = [{"op": "once", "event": "e", "listener": "w", "raises": "WebSocketDisconnect"},
           {"op": "on", "event": "e", "listener": "a", "kind": "async",
            "raises": "WebSocketDisconnect"}, emit(1)]
    assert on_bus(once_module(), ops)[2]["value"] == ["WebSocketDisconnect"] * 2


REGISTERS = """
MADE = []  # the decorators once(bus, event) made

def once(bus, event, handler=None, priority=2):
    if handler is None:
        def register(fn):
            return once(bus, event, fn, priority)
        MADE.append(register)
        return register
    bus.on(event, handler, priority=priority)
    return handler
"""


def test_a_named_decorator_is_made_once_and_used_again() -> None:
    mod = types.ModuleType("submission")
    exec(compile(REGISTERS, "<submission>", "exec"), mod.__dict__)
    deco = {"op": "once", "event": "e", "style": "decorator", "decorator": "d"}
    ops = [{**deco, "listener": "a"}, {**deco, "listener": "b"},
           {"op": "once", "event": "e", "style": "decorator", "listener": "c"}, emit(1)]
    assert [op["trace"] for op in on_bus(mod, ops)][3] == [["a", 1], ["b", 1], ["c", 1]]
    assert len(mod.MADE) == 2  # "d" once, and the unnamed one


# -- the sixteenth blind batch (once_semantics): other_buses ----------------------------
LEDGER = """
import functools

BUSES = []

@functools.lru_cache(maxsize=LIMIT)  # a record per bus: forgets the oldest past LIMIT
def ledger(bus):
    return set()

def once(bus, event, handler):
    BUSES.append(bus)
    ticket = object()
    ledger(bus).add(ticket)
    def wrapper(*args, **kwargs):
        if ticket in ledger(bus):
            ledger(bus).discard(ticket)
            bus.off(event, wrapper)
            return handler(*args, **kwargs)
    bus.on(event, wrapper)
    return handler
"""


def test_once_elsewhere_gives_handlers_on_other_buses_which_a_bounded_record_shows() -> None:
    ops = [{"op": "once", "event": "e", "listener": "a"},
           {"op": "once_elsewhere", "event": "e", "buses": 130}, emit(1)]
    for limit, fired in ((None, [["a", 1]]), (128, [])):
        mod = types.ModuleType("submission")
        mod.__dict__["LIMIT"] = limit
        exec(compile(LEDGER, "<submission>", "exec"), mod.__dict__)
        got = on_bus(mod, ops)
        assert got[1] == {"trace": [], "error": None}
        assert got[2]["trace"] == fired
        assert len({id(bus) for bus in mod.BUSES}) == 131  # the scenario's bus, 130 others


# -- the fourteenth blind batch (once_semantics) ----------------------------------------
SETTLES = """
import inspect

def once(bus, event, handler):
    fired = []

    async def wrapper(*args, **kwargs):
        if fired:
            return
        fired.append(True)
        bus.off(event, wrapper)
        if ACK and args and callable(args[-1]):  # socket.io's habit: a function last is an ack
            *args, ack = args
            ack(handler(*args, **kwargs))
            return
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if RAISE_RETURNED and isinstance(result, Exception):  # error-as-value
            raise result

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper)
    return handler
"""


def settling_module(**flags: bool) -> types.ModuleType:
    made = types.ModuleType("submission")
    made.__dict__.update({"ACK": False, "RAISE_RETURNED": False, **flags})
    exec(compile(SETTLES, "<submission>", "exec"), made.__dict__)
    return made


def test_an_exception_returned_is_a_value_which_a_wrapper_that_raises_it_shows() -> None:
    import asyncio

    calls: list[Any] = []
    assert isinstance(made("x", {"kind": "returns_exception"}, calls)(1), ValueError)
    coroutine = made("y", {"kind": "async_returns_exception"}, calls)(2)
    assert calls == [(1,)] and isinstance(asyncio.run(coroutine), ValueError)
    assert calls == [(1,), (2,)]
    ops = [{"op": "once", "event": "e", "listener": "x", "kind": "returns_exception"},
           {"op": "once", "event": "e", "listener": "y", "kind": "async_returns_exception"},
           emit(1)]
    passed_on = {"trace": [["x", 1], ["y", 1]], "error": None, "value": []}
    assert on_bus(settling_module(), ops)[2] == passed_on
    raised = on_bus(settling_module(RAISE_RETURNED=True), ops)[2]
    shown = [f"ValueError: a value listener {n} returned, not an error it raised" for n in "xy"]
    assert raised == {**passed_on, "value": ["ValueError", "ValueError"], "collected": shown}


def test_callable_args_are_functions_recorded_as_the_values_they_stand_for() -> None:
    from day25.course.inside.plain_values import emit_arguments, recorded_payload

    reported: list[str] = []
    args = emit_arguments({"args": [1, "ack"], "callable_args": [1]}, reported.append)
    assert args[0] == 1 and isinstance(args[1], types.FunctionType)
    assert recorded_payload(tuple(args)) == {"args": [1, "ack"]}
    assert recorded_payload((args[1],)) == "ack" and reported == []
    args[1](None)
    assert len(reported) == 1 and "given to emit as an argument was called back" in reported[0]
    ops = [{"op": "once", "event": "e", "listener": "a"},
           {"op": "emit", "event": "e", "args": [1, "ack"], "callable_args": [1]}]
    got = on_bus(settling_module(), ops)[1]
    assert got == {"trace": [["a", {"args": [1, "ack"]}]], "error": None, "value": []}
    acked = on_bus(settling_module(ACK=True), ops)[1]
    assert acked["trace"] == [["a", 1]] and "was called back" in acked["error"]


def test_renew_with_max_listeners_gives_a_bus_that_warns_past_them() -> None:
    import warnings

    ops = [{"op": "renew", "max_listeners": 2},
           *[{"op": "on", "event": "e", "listener": n} for n in "abc"], emit(1)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = on_bus(settling_module(), ops)
    assert result[4]["trace"] == [["a", 1], ["b", 1], ["c", 1]]  # it only warns
    assert limit_warnings(caught) == ["ListenerLimitWarning"]
    with warnings.catch_warnings(record=True) as caught:  # else no limit, as at the start
        warnings.simplefilter("always")
        on_bus(settling_module(), [{"op": "renew"}, *ops[1:]])
    assert limit_warnings(caught) == []


def limit_warnings(caught: list[Any]) -> list[str]:
    """The listener-limit warnings among ``caught``: ``catch_warnings`` records the
    whole process's, and a worker may also collect, say, a ResourceWarning for a
    socket an earlier test left to the garbage collector."""
    return [type(w.message).__name__ for w in caught if "Listener" in type(w.message).__name__]


# -- the seventeenth blind batch (once_semantics) ----------------------------------------
OFF_AFTER = """
import inspect

def once(bus, event, handler):
    fired = []

    async def wrapper(*args, **kwargs):
        if fired:
            return
        fired.append(True)
        if not LATE:
            bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            if LATE:  # off only once the handler returned: still on the bus while it runs
                bus.off(event, wrapper)

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper)
    return handler
"""


def test_a_count_among_then_ops_traces_the_listeners_held_while_the_listener_runs() -> None:
    """The seventeenth batch's ``count`` among a listener's ``then`` ops: how many listeners
    the bus holds for that event while the listener runs, as ``["count <event>", n]`` in
    the trace, so a once-wrapper still on the bus while its handler runs shows."""
    ops = [{"op": "once", "event": "e", "listener": "a", "kind": "async",
            "then": [{"op": "count", "event": "e"}, {"op": "count", "event": "f"}]},
           {"op": "on", "event": "e", "listener": "z"}, emit(1), {"op": "count", "event": "e"}]
    for late, held in ((False, 1), (True, 2)):
        made = types.ModuleType("submission")
        made.__dict__["LATE"] = late
        exec(compile(OFF_AFTER, "<submission>", "exec"), made.__dict__)
        result = on_bus(made, ops)
        assert result[2] == {"trace": [["a", 1], ["count e", held], ["count f", 0], ["z", 1]],
                             "error": None, "value": []}
        assert result[3]["value"] == 1  # after the emit, gone either way


# -- the eighteenth blind batch (once_semantics): tuple_args ------------------------------
SPREADS = """
def once(bus, event, handler):
    def wrapper(*args, **kwargs):
        bus.off(event, wrapper)
        if SPREAD and len(args) == 1 and isinstance(args[0], tuple):
            args = args[0]  # a lone tuple taken for the arguments themselves
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper)
    return handler
"""


def test_tuple_args_give_one_tuple_argument_which_a_wrapper_that_spreads_it_shows() -> None:
    from day25.course.inside.plain_values import emit_arguments

    assert emit_arguments({"payload": [1, 2], "tuple_args": [0]}, print) == [(1, 2)]
    assert emit_arguments({"args": [[1], 2], "tuple_args": [0]}, print) == [(1,), 2]
    ops = [{"op": "once", "event": "e", "listener": "a"},
           {"op": "emit", "event": "e", "payload": [1, 2], "tuple_args": [0]}]
    for spread, seen in ((False, (1, 2)), (True, {"args": [1, 2]})):  # a list once JSON
        made = types.ModuleType("submission")
        made.__dict__["SPREAD"] = spread
        exec(compile(SPREADS, "<submission>", "exec"), made.__dict__)
        assert on_bus(made, ops)[1] == {"trace": [["a", seen]], "error": None, "value": []}


# -- the nineteenth blind batch (once_semantics): StopIteration, TimeoutError ---------------
def test_stop_iteration_and_timeout_error_listeners_raise_pythons_own_and_reach_the_bus() -> None:
    """``"raises": "StopIteration"`` / ``"TimeoutError"``: Python's own. One raised through
    an ``async def`` wrapper (PEP 479 makes it a ``RuntimeError`` caused by it) is reported
    as the listener's ``StopIteration`` (``plain_values.pep479``); another is left as it is."""
    from day25.course.inside.plain_values import pep479

    ops = [{"op": "once", "event": "e", "listener": "s", "raises": "StopIteration"},
           {"op": "on", "event": "e", "listener": "t", "kind": "async", "raises": "TimeoutError"},
           {"op": "on", "event": "e", "listener": "p", "raises": "StopIteration"}, emit(1)]
    got = on_bus(once_module(), ops)[3]
    assert got["value"] == ["StopIteration", "TimeoutError", "StopIteration"]
    assert got["trace"] == [["s", 1], ["t", 1], ["p", 1]]
    other = RuntimeError("no StopIteration behind it")
    other.__cause__ = ValueError("why")
    assert pep479(other) is other
    own = RuntimeError("once handler raised StopIteration")  # a wrapper's own (22nd batch)
    own.__cause__ = StopIteration()
    assert pep479(own) is own
