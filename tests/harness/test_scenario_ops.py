"""What the scenario runner's newer ops and shapes do to the code under test, in-process.

``renew`` puts a fresh subject where the old one was (in memory too), a lower-case
level name reaches the code as that string, an ``async_returns_awaitable`` listener
reports an emit that awaits its result's result as well, and the shapes the seventh
blind batch asked for are what they say: a generator-based coroutine, a handler made
with ``wraps``, an empty-collection handler and a one-parameter one; and the ninth
batch's: methods bound to equal objects, a Future returned done, Nexios' own levels;
and the tenth's: a plain generator returned, which is a value, an awaitable that is an
empty collection, a C callable with no signature to read, a sync listener that emits,
and an emit given a timeout.
"""

from __future__ import annotations

import collections.abc
import inspect
import textwrap
import types
from typing import Any

import pytest

from day25.course.inside.scenarios import run_scenario
from day25.course.protocol import BUS_SUBJECT

EMITTER = """
import inspect

AWAITABLE = globals().get("AWAITABLE", inspect.isawaitable)
PRIORITIES = []
SEEN = []  # (len() of the handler or None, the name of its __wrapped__ or None)
BY_ID = {}  # KEYED: state kept by id(self) in the module, which a new emitter inherits

class PriorityEmitter:
    def __init__(self):
        self.handlers = []

    def _handlers(self):
        return BY_ID.setdefault(id(self), []) if KEYED else self.handlers

    def on(self, event, handler, priority=2):
        PRIORITIES.append(priority)
        wrapped = getattr(handler, "__wrapped__", None)
        SEEN.append((len(handler) if hasattr(handler, "__len__") else None,
                     getattr(wrapped, "__name__", None)))
        self._handlers().append(handler)
        return handler

    def off(self, event, handler):
        pass

    async def emit(self, event, *args, **kwargs):
        for handler in list(self._handlers()):
            result = handler(*args, **kwargs)
            while AWAITABLE(result):
                result = await result
                if not AGAIN:
                    break
"""


def module(*, keyed: bool = False, again: bool = False, abc: bool = False) -> types.ModuleType:
    made = types.ModuleType("submission")
    awaitable = (lambda r: isinstance(r, collections.abc.Awaitable)) if abc else None
    made.__dict__.update(KEYED=keyed, AGAIN=again)
    if awaitable:
        made.__dict__["AWAITABLE"] = awaitable
    exec(compile(textwrap.dedent(EMITTER), "<submission>", "exec"), made.__dict__)
    return made


def on(name: str, **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": "e", "listener": name, "kind": kw.pop("kind", "sync"), **kw}


def emit(payload: Any) -> dict[str, Any]:
    return {"op": "emit", "event": "e", "payload": payload}


def traces(mod: types.ModuleType, ops: list[dict[str, Any]]) -> list[Any]:
    result = run_scenario(mod, "PriorityEmitter", {"ops": ops})
    return [op["trace"] for op in result["ops"] if op["op"] == "emit"]


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


def test_awaiting_a_listeners_result_twice_is_reported() -> None:
    ops = [on("n", kind="async_returns_awaitable"), emit(1)]
    once = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][1]
    assert once == {"op": "emit", "trace": [["n", 1]], "error": None}
    twice = run_scenario(module(again=True), "PriorityEmitter", {"ops": ops})["ops"][1]
    assert twice["trace"] == [["n", 1]]
    assert "listener n's coroutine returned (awaitable itself) was awaited too" in twice["error"]


def test_a_generator_based_coroutine_is_awaitable_but_no_abc_awaitable() -> None:
    ops = [on("gen", kind="returns_generator_coroutine"), emit(1)]
    assert traces(module(), ops) == [[["gen", 1]]]  # inspect.isawaitable: awaited, it ran
    assert traces(module(abc=True), ops) == [[]]  # collections.abc.Awaitable: never ran


def test_a_plain_generator_is_a_value_that_code_awaiting_it_fails_on() -> None:
    """The tenth batch's ``returns_generator``: it ran, and is not awaitable; an emit
    that awaits it anyway (as ``asyncio.iscoroutine`` on 3.11 invites) gets Python's
    ``TypeError``, from the ``await``, not from the listener."""
    ops = [on("gen", kind="returns_generator"), emit(1)]
    result = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][1]
    assert result == {"op": "emit", "trace": [["gen", 1]], "error": None}
    awaits = module()
    awaits.__dict__["AWAITABLE"] = lambda r: isinstance(r, types.GeneratorType)
    result = run_scenario(awaits, "PriorityEmitter", {"ops": ops})["ops"][1]
    assert result["trace"] == [["gen", 1]]
    assert result["error"].startswith("TypeError: object generator can't be used in 'await'")


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_an_empty_awaitable_is_awaitable_yet_false() -> None:
    ops = [on("empty", kind="returns_falsy_awaitable"), emit(1)]
    assert traces(module(), ops) == [[["empty", 1]]]  # awaited: it ran
    truthy = module()  # awaits only what is true and awaitable: never ran
    truthy.__dict__["AWAITABLE"] = lambda r: bool(r) and inspect.isawaitable(r)
    assert traces(truthy, ops) == [[]]


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_an_awaitable_list_is_a_list_and_awaitable() -> None:
    """The fifteenth batch's ``returns_awaitable_list``: code that takes every instance
    of a builtin type for a plain value never awaits it, so it never ran."""
    result = made("l", {"kind": "returns_awaitable_list"}, [])(1)
    assert isinstance(result, list) and len(result) == 0 and inspect.isawaitable(result)
    result._work.close()
    ops = [on("l", kind="returns_awaitable_list"), emit(1)]
    assert traces(module(), ops) == [[["l", 1]]]  # awaited: it ran
    builtins_are_values = module()
    builtins_are_values.__dict__["AWAITABLE"] = (
        lambda r: not isinstance(r, list) and inspect.isawaitable(r))
    assert traces(builtins_are_values, ops) == [[]]


def test_a_no_signature_listener_is_a_callable_inspect_cannot_read() -> None:
    calls: list[Any] = []
    listener = made("c", {"kind": "no_signature"}, calls)
    with pytest.raises(ValueError, match="no signature found"):
        inspect.signature(listener)
    listener(1, k=2)
    assert calls == [(1,)]
    ops = [on("c", kind="no_signature"), {**emit(1), "kwargs": {"k": 2}}]
    assert traces(module(), ops) == [[["c", 1, {"k": 2}]]]


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


def test_wraps_and_falsy_listeners_are_what_they_say() -> None:
    mod = module()
    traces(mod, [on("b"), on("made_from_b", wraps="b"), on("empty", falsy=True), emit(1)])
    assert mod.SEEN == [(None, None), (None, "listener_b"), (0, None)]


def test_a_one_parameter_listener_given_two_raises_pythons_own_type_error() -> None:
    ops = [on("one", kind="one_arg"), {"op": "emit", "event": "e", "args": [1, 2]}]
    result = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][1]
    assert result["trace"] == [] and result["error"].startswith("TypeError: ")
    assert "positional argument" in result["error"]
    # on the bus, beside a listener that raised a TypeError of its own, Python's is
    # not taken for a copy of that one
    ops.insert(0, on("boom", raises="TypeError"))
    result = run_scenario(module(), BUS_SUBJECT, {"ops": ops})["ops"][2]
    assert result["trace"] == [["boom", {"args": [1, 2]}]]
    assert result["value"] == ["TypeError", "TypeError"]


def test_an_equal_listener_is_another_equal_object_at_every_mention() -> None:
    from day25.course.inside.listeners import handler_of, make_listener

    calls: list[Any] = []

    async def no_reemit(op: dict[str, Any]) -> None:
        pass

    made = make_listener("eq", {"equal": True}, record=lambda a, k: calls.append(a),
                         after=lambda: None, reemit=no_reemit, resolving=set(),
                         misused=lambda text: None)
    first, second = handler_of(made), handler_of(made)
    assert first == second and first is not second and hash(first) == hash(second)
    second(1)
    assert calls == [(1,)]


def made(name: str, op: dict[str, Any], calls: list[Any]) -> Any:
    from day25.course.inside.listeners import make_listener

    async def no_reemit(op: dict[str, Any]) -> None:
        pass

    def after() -> None:
        if op.get("raises"):
            raise ValueError(f"listener {name} failed")

    return make_listener(name, op, record=lambda a, k: calls.append(a), after=after,
                         reemit=no_reemit, resolving=set(), misused=lambda text: None)


def test_equal_methods_bind_equal_objects_yet_are_other_handlers() -> None:
    """Two equal dataclass instances' ``handle``: Python compares a bound method's
    ``__self__`` by identity, so only a comparison of the objects themselves mixes
    them up (the ninth batch's ``off`` by ``(__self__, __func__)``)."""
    from day25.course.inside.listeners import handler_of

    mine, theirs = (made(n, {"kind": "method", "equal": True}, []) for n in ("mine", "theirs"))
    assert handler_of(mine) == handler_of(mine) and handler_of(mine) != handler_of(theirs)
    assert handler_of(mine).__self__ == handler_of(theirs).__self__
    plain = made("plain", {"kind": "method"}, [])
    assert handler_of(plain).__self__ != handler_of(mine).__self__


def test_a_done_future_carries_the_listeners_own_outcome() -> None:
    import asyncio

    async def call(op: dict[str, Any]) -> tuple[Any, list[Any]]:
        calls: list[Any] = []
        return made("f", op, calls)(1), calls

    future, calls = asyncio.run(call({"kind": "returns_done_future"}))
    assert future.done() and future.result() is None and calls == [(1,)]
    future, calls = asyncio.run(call({"kind": "returns_done_future", "raises": True}))
    assert future.done() and calls == [(1,)]
    assert str(future.exception()) == "listener f failed"


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


# -- the sixteenth blind batch (once_semantics): plain_values.Urgency, other_buses -------
def test_an_int_enum_level_reaches_the_code_as_a_member_of_an_int_enum_of_its_own() -> None:
    from day25 import EventPriority
    from day25.course.inside.plain_values import Urgency

    mod = module()
    traces(mod, [on("a", priority="int_enum.URGENT"), on("b", priority="int_enum.ROUTINE")])
    assert mod.PRIORITIES == [10, -1]
    assert all(type(p) is Urgency and not isinstance(p, EventPriority) for p in mod.PRIORITIES)


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


# -- the twelfth blind batch (priority_ordering) ----------------------------------------
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_an_awaitable_if_truthy_listener_returns_a_coroutine_for_a_true_payload_only() -> None:
    import asyncio

    calls: list[Any] = []
    listener = made("m", {"kind": "returns_awaitable_if_truthy"}, calls)
    assert listener(0) is None and calls == [(0,)]  # recorded at once
    coroutine = listener(1)
    assert inspect.iscoroutine(coroutine) and calls == [(0,)]  # runs only when awaited
    asyncio.run(coroutine)
    assert calls == [(0,), (1,)]
    ops = [on("m", kind="returns_awaitable_if_truthy"), emit(0), emit(1)]
    assert traces(module(), ops) == [[["m", 0]], [["m", 1]]]
    # an emit that asks once whether the listener's result is awaitable, and trusts that
    verdicts: list[bool] = []

    def asked_once(result: Any) -> bool:
        if not verdicts:
            verdicts.append(inspect.isawaitable(result))
        return verdicts[0]

    learned = module()
    learned.__dict__["AWAITABLE"] = asked_once
    assert traces(learned, ops) == [[["m", 0]], []]  # the coroutine never ran


def test_an_index_error_listener_raises_pythons_own_index_error() -> None:
    ops = [on("i", raises="IndexError"), on("b"), emit(1)]
    result = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][2]
    assert result["trace"] == [["i", 1]]
    assert result["error"].startswith("IndexError: listener i failed")


def test_a_cancelled_error_listener_raises_asyncios_own_and_the_scenario_goes_on() -> None:
    # nineteenth batch (priority_ordering): the emit lets it out, and it is a step's error,
    # not the end of the scenario (a BaseException the runner did not catch before)
    ops = [on("c", kind="async", raises="CancelledError"), on("b"), emit(1), emit(2)]
    steps = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"]
    assert [step["trace"] for step in steps[2:]] == [[["c", 1]], [["c", 2]]]
    assert all(s["error"].startswith("CancelledError: listener c failed") for s in steps[2:])


# -- the fourteenth blind batch (priority_ordering) ---------------------------------------
def test_a_returns_value_listener_returns_its_returned_value_which_code_may_misread() -> None:
    """``"returned"`` on a ``returns_value`` listener: what it returns instead of 42 (JSON:
    ``False``, 0, ...); an emit that takes ``return False`` for "stop" shows it."""
    calls: list[Any] = []
    assert made("v", {"kind": "returns_value"}, calls)(1) == 42
    falsy = made("f", {"kind": "returns_value", "returned": False}, calls)(2)
    assert falsy is False and calls == [(1,), (2,)]
    ops = [on("f", kind="returns_value", returned=False), on("b"), emit(1)]
    assert traces(module(), ops) == [[["f", 1], ["b", 1]]]
    stops = types.ModuleType("submission")  # jQuery's `return false`: the rest is skipped
    exec(compile(textwrap.dedent(STOPS_AT_FALSE), "<submission>", "exec"), stops.__dict__)
    assert traces(stops, ops) == [[["f", 1]]]


STOPS_AT_FALSE = """
class PriorityEmitter:
    def __init__(self):
        self.handlers = []

    def on(self, event, handler, priority=2):
        self.handlers.append(handler)
        return handler

    async def emit(self, event, *args, **kwargs):
        for handler in list(self.handlers):
            if handler(*args, **kwargs) is False:
                break
"""


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
    assert raised == {**passed_on, "value": ["ValueError", "ValueError"]}


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
    assert [type(w.message).__name__ for w in caught] == ["ListenerLimitWarning"]
    with warnings.catch_warnings(record=True) as caught:  # else no limit, as at the start
        warnings.simplefilter("always")
        on_bus(settling_module(), [{"op": "renew"}, *ops[1:]])
    assert caught == []


def test_a_self_checked_listener_reports_a_call_on_a_copy_of_itself() -> None:
    """The sixteenth batch's ``self_checked`` flag (exercise 1): a callable object that
    still records when a copy of it is called (``copy.deepcopy``, as
    ``dataclasses.astuple`` makes one), and reports that it was a copy."""
    ops = [on("obj", self_checked=True), on("aobj", kind="async", self_checked=True), emit(1)]
    assert run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][2] == {
        "op": "emit", "trace": [["obj", 1], ["aobj", 1]], "error": None}
    copying = module()
    copying.__dict__["list"] = lambda handlers: [__import__("copy").deepcopy(h) for h in handlers]
    result = run_scenario(copying, "PriorityEmitter", {"ops": ops})["ops"][2]
    assert result["trace"] == [["obj", 1], ["aobj", 1]]
    assert (result["error"] or "").count("a copy of listener") == 2
    assert "a copy of listener obj (a callable object) was called" in result["error"]


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


# -- the eighteenth blind batch (once_semantics): tuple_args, Urgency.HIGH ----------------
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


def test_an_int_enum_level_named_like_a_level_of_the_bus_reaches_the_code_by_its_value() -> None:
    from day25 import EventPriority
    from day25.course.inside.plain_values import Urgency

    mod = module()
    traces(mod, [on("a", priority="int_enum.HIGH")])
    assert mod.PRIORITIES == [9] and mod.PRIORITIES[0].name == "HIGH"
    assert type(mod.PRIORITIES[0]) is Urgency and mod.PRIORITIES[0] != EventPriority.HIGH


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
