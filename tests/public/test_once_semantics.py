"""Public checks for Exercise 2: once_semantics.

Run them with ``day25 check once_semantics``. Your module runs in a separate
process, as at grading. There is one check for every kind of graded check
(``@pytest.mark.category``; the table is in ``docs/exercises/once_semantics.md``).
"""

from __future__ import annotations

from typing import Any

import pytest

EXERCISE = "once_semantics"


def once(name: str, priority: str | bool | None = None, kind: str = "sync",
         **kw: Any) -> dict[str, Any]:
    return {"op": "once", "event": "e", "listener": name, "priority": priority, "kind": kind,
            **kw}


def on(name: str, priority: str | None = None, kind: str = "sync", **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": "e", "listener": name, "priority": priority, "kind": kind, **kw}


def off(name: str) -> dict[str, Any]:
    return {"op": "off", "event": "e", "listener": name}


def emit(payload: Any, **kwargs: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"op": "emit", "event": "e", "payload": payload}
    if kwargs:
        op["kwargs"] = kwargs
    return op


COUNT = {"op": "count", "event": "e"}


@pytest.mark.category("fires_once")
def test_fires_on_the_next_emit_only(expect: Any) -> None:
    # the emits report no error: a sync handler's None is not awaited
    expect([once("a"), emit(1), emit(2)], [[], [["a", 1]], []], values={1: [], 2: []})


@pytest.mark.category("async_handler")
def test_an_async_handler_is_awaited_once(expect: Any) -> None:
    ops = [once("a", kind="async", delay=2), on("b", "LOW"), emit(1), emit(2)]
    expect(ops, [[], [], [["a", 1], ["b", 1]], [["b", 2]]])
    # whatever it returns that is awaitable: a Task, a Future, an object with __await__
    # (none of them is a coroutine)
    ops = [once("t", kind="returns_task", delay=2), once("f", kind="returns_future"),
           once("o", kind="returns_awaitable_object"), on("b", "LOW"), emit(1), emit(2)]
    expect(ops, [[], [], [], [], [["t", 1], ["f", 1], ["o", 1], ["b", 1]], [["b", 2]]])


@pytest.mark.category("nothing_left")
def test_nothing_is_left_on_the_bus_after_it_fired(expect: Any) -> None:
    expect([once("a"), COUNT, emit(1), COUNT], [[], [], [["a", 1]], []],
           values={1: 1, 3: 0})
    # on a pattern ("ui:*"): it fires on the first event it hears, and then nothing of
    # yours is left under the pattern
    ops = [once("a", event="ui:*"), {"op": "emit", "event": "ui:click", "payload": 1},
           {"op": "count", "event": "ui:*"}, {"op": "emit", "event": "ui:key", "payload": 2}]
    expect(ops, [[], [["a", 1]], [], []], values={2: 0})


@pytest.mark.category("decorator")
def test_works_as_a_decorator_and_returns_the_handler(expect: Any) -> None:
    ops = [on("mid"), once("a", kind="async", style="decorator"),
           once("b", "HIGH", style="decorator"), emit(1), emit(2)]
    expect(ops, [[], [], [], [["b", 1], ["mid", 1], ["a", 1]], [["mid", 2]]])
    # the decorator form is once(bus, event) with no handler, not one whose handler is not
    # callable: once(bus, "e", 42) raises TypeError at once, or fails in the emit
    expect([{"op": "once_not_callable", "event": "e"}], [[]])
    # one decorator used on two handlers: two registrations, each fires once
    ops = [once("a", style="decorator", decorator="d"), once("b", style="decorator", decorator="d"),
           emit(1), emit(2)]
    expect(ops, [[], [], [["a", 1], ["b", 1]], []])


@pytest.mark.category("priority")
def test_it_runs_at_its_priority(expect: Any) -> None:
    # LOWEST is 0, a priority like any other: it runs after LOW, not with the defaults
    ops = [on("mid"), once("first", "HIGH"), on("low", "LOW"), once("last", "LOWEST"), emit(1)]
    expect(ops, [[], [], [], [], [["first", 1], ["mid", 1], ["low", 1], ["last", 1]]])
    # an IntEnum of your own goes by its value, "even one named like a level (HIGH = 9 is
    # 9, not the bus's HIGH)"; and "priority=True ... raises the TypeError that bus.on
    # raises, and registers nothing"
    ops = [once("highest", "HIGHEST"), once("own_high", "int_enum.HIGH"), once("b", True),
           COUNT, emit(1)]
    expect(ops, [[], [], [], [], [["own_high", 1], ["highest", 1]]], errors={2: "TypeError"},
           values={3: 2})
    # a handler that is false is a handler all the same: only `handler is None` is the
    # decorator form
    expect([once("empty", falsy=True), emit(1), emit(2)], [[], [["empty", 1]], []])


@pytest.mark.category("reentrant")
def test_a_listener_that_emits_again_does_not_fire_it_twice(expect: Any) -> None:
    # the outer emit still reaches the wrapper it listed before the inner emit fired it:
    # it must do nothing there, not raise (the emit reports no error)
    ops = [on("again", "HIGH", "async", reemit={"event": "e", "payload": 2}), once("a"), emit(1)]
    expect(ops, [[], [], [["again", 1], ["again", 2], ["a", 2]]], values={2: []})
    # a sync handler that emits the event again itself: it has fired by then
    ops = [once("a", reemit={"event": "e", "payload": 2}), on("b", "LOW"), emit(1)]
    expect(ops, [[], [], [["a", 1], ["b", 2], ["b", 1]]])


@pytest.mark.category("concurrent")
def test_concurrent_emits_fire_it_once(expect: Any) -> None:
    ops = [on("slow", "HIGH", "async", delay=2), once("a", kind="async"),
           {"op": "emit_concurrently", "event": "e", "payloads": [1, 2]}, COUNT]
    expect(ops, [[], [], [["slow", 1], ["slow", 2], ["a", 1]], []], values={3: 1})


@pytest.mark.category("cancel")
def test_off_with_the_original_handler_cancels_it(expect: Any) -> None:
    expect([once("a"), off("a"), emit(1)], [[], [], []])


@pytest.mark.category("model")
def test_a_mixed_program(expect: Any) -> None:
    ops = [once("a", "LOW"), on("b"), once("c", "HIGH", kind="async"), emit(1), once("a"),
           emit(2), emit(3)]
    expect(ops, [[], [], [], [["c", 1], ["b", 1], ["a", 1]], [], [["b", 2], ["a", 2]],
                 [["b", 3]]])


@pytest.mark.category("cancel_during_emit")
def test_off_during_an_emit_cancels_it_from_the_next_emit(expect: Any) -> None:
    ops = [on("canceller", "HIGH", then=[off("a")]), once("a"), emit(1), emit(2)]
    expect(ops, [[], [], [["canceller", 1], ["a", 1]], [["canceller", 2]]])


@pytest.mark.category("raising_handler")
def test_a_raising_handler_counts_as_fired_and_the_bus_sees_its_error(expect: Any) -> None:
    # its own exception reaches the bus: boom raises ValueError, the result holds it
    # and it left the bus when it was called: only "after" is left, right after that emit
    ops = [once("boom", raises="ValueError"), on("after", "LOW"), emit(1), COUNT, emit(2), COUNT]
    expect(ops, [[], [], [["boom", 1], ["after", 1]], [], [["after", 2]], []],
           values={2: ["ValueError"], 3: 1, 4: [], 5: 1})


@pytest.mark.category("kwargs")
def test_keyword_arguments_reach_the_handler(expect: Any) -> None:
    expect([once("a"), emit(1, who="ann")], [[], [["a", 1, {"who": "ann"}]]])
    # whatever their names: one named like a parameter of your wrapper reaches the handler too
    expect([{"op": "once_keywords", "event": "e"}], [[]])


@pytest.mark.category("same_handler_twice")
def test_the_same_handler_given_twice_fires_twice_then_never(expect: Any) -> None:
    expect([once("a"), once("a"), emit(1), emit(2)], [[], [], [["a", 1], ["a", 1]], []])


@pytest.mark.category("permanent_listener")
def test_a_permanent_listener_of_the_same_handler_survives(expect: Any) -> None:
    ops = [on("a"), once("a", "HIGH"), emit(1), emit(2)]
    expect(ops, [[], [], [["a", 1], ["a", 1]], [["a", 2]]])
