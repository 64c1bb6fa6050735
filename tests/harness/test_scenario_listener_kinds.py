"""What the scenario runner's listener kinds and shapes are, alone and in an emit, in-process.

An ``async_returns_awaitable`` listener reports an emit that awaits its result's result
as well, and the shapes the seventh blind batch asked for are what they say: a
generator-based coroutine, a handler made with ``wraps``, an empty-collection handler
and a one-parameter one; and the ninth batch's: methods bound to equal objects, a
Future returned done; and the tenth's: a plain generator returned, which is a value, an
awaitable that is an empty collection, a C callable with no signature to read; and the
later batches': a coroutine only for a true payload, Python's and asyncio's own
exceptions raised, a returned value code may misread, a listener called as a copy.
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
module, on, emit, traces = _subjects.module, _subjects.on, _subjects.emit, _subjects.traces
made = _subjects.made


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
    assert result["error"].startswith(("TypeError: object generator can't be used in 'await'",
                                       "TypeError: 'generator' object can't be awaited"))  # 3.14


def test_a_watched_generator_is_a_value_and_running_it_through_is_reported() -> None:
    """The twenty-second batch's ``returns_watched_generator``: a plain generator returned,
    not awaitable; an emit that runs it through (a ``for`` loop) is reported."""
    calls: list[Any] = []
    returned = made("wg", {"kind": "returns_watched_generator"}, calls)(1)
    assert calls == [(1,)] and inspect.isgenerator(returned)
    assert not inspect.isawaitable(returned)
    ops = [on("wg", kind="returns_watched_generator"), emit(1)]
    result = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][1]
    assert result == {"op": "emit", "trace": [["wg", 1]], "error": None}
    drains = module()  # runs a generator through, then takes it for nothing to await
    drains.__dict__["AWAITABLE"] = lambda r: inspect.isgenerator(r) and [*r] == ["never"]
    result = run_scenario(drains, "PriorityEmitter", {"ops": ops})["ops"][1]
    assert result["trace"] == [["wg", 1]]
    assert "the generator listener wg returned was run through" in result["error"]


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


def test_an_equal_no_hash_listener_and_listeners_of_one_qualname_are_other_handlers() -> None:
    """The twenty-third batch's shapes: an object with its own ``__eq__`` and no hash,
    another equal one at every mention (a registry keyed by ``id`` for unhashable
    handlers misses it); two functions named alike are still two handlers."""
    from day25.course.inside.listeners import handler_of

    calls: list[Any] = []
    nh = made("nh", {"equal": True, "no_hash": True}, calls)
    first, second = handler_of(nh), handler_of(nh)
    assert first == second and first is not second and first.__hash__ is None
    with pytest.raises(TypeError, match="unhashable"):
        hash(first)
    second(1)
    assert calls == [(1,)]
    a, b = (made(n, {"qualname": "make.<locals>.<lambda>"}, []) for n in ("a", "b"))
    assert a.__qualname__ == b.__qualname__ == a.__name__ == "make.<locals>.<lambda>"
    assert a.__module__ == b.__module__ and a != b
    assert made("c", {}, []).__qualname__ == "listener_c"


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


# -- the sixteenth blind batch (once_semantics): self_checked -----------------------------
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


def test_one_object_methods_share_their_self_and_a_same_future_returns_its_first() -> None:
    """The twenty-fourth batch's shapes: two ``one_object`` methods are bound to one object
    and told apart by their function only (an ``off`` that compares ``__self__`` alone
    removes both); a ``same_future`` listener returns its first call's done Future at
    every call, as a cached result is."""
    import asyncio

    from day25.course.inside.listeners import handler_of

    calls: list[Any] = []
    shape = {"kind": "method", "one_object": True}
    save, audit = (made(n, shape, calls) for n in ("save", "audit"))
    assert handler_of(save) == handler_of(save) and handler_of(save) is not handler_of(save)
    assert handler_of(save).__self__ is handler_of(audit).__self__
    assert handler_of(save) != handler_of(audit)
    handler_of(audit)(1)
    assert calls == [(1,)]

    async def twice(op: dict[str, Any]) -> tuple[Any, Any]:
        listener = made("f", op, [])
        return listener(1), listener(2)

    first, second = asyncio.run(twice({"kind": "returns_done_future", "raises": True,
                                       "same_future": True}))
    assert first is second and str(first.exception()) == "listener f failed"
    first, second = asyncio.run(twice({"kind": "returns_done_future"}))
    assert first is not second and first.done() and second.done()


def test_a_class_handler_and_a_failed_pool_job_are_what_they_say() -> None:
    """The twenty-sixth batch's shapes: a class as the handler records when it is called
    (constructed) with the emit's arguments, a generator function's call runs none of its
    body (it records nothing), and a thread pool's Future, done with an error, is not
    awaitable: a value."""
    import concurrent.futures

    calls: list[Any] = []
    handler = made("cls", {"kind": "class_handler"}, calls)
    assert isinstance(handler, type) and calls == []
    assert isinstance(handler(1, k=2), handler) and calls == [(1,)]
    genfn = made("g", {"kind": "generator_function"}, calls)
    assert inspect.isgeneratorfunction(genfn) and inspect.isgenerator(genfn(2))
    job = made("pool", {"kind": "returns_thread_future"}, calls)(3)
    assert isinstance(job, concurrent.futures.Future) and not inspect.isawaitable(job)
    assert isinstance(job.exception(), LookupError)
