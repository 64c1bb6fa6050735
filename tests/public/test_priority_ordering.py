"""Public checks for Exercise 1: priority_ordering.

Run them with ``day25 check priority_ordering``. Your module runs in a separate
process, as at grading. There is one check for every kind of graded check
(``@pytest.mark.category``; the table is in ``docs/exercises/priority_ordering.md``).
"""

from __future__ import annotations

from typing import Any

import pytest

EXERCISE = "priority_ordering"


def on(name: str, priority: str | int | None = None, kind: str = "sync",
       **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": kw.pop("event", "e"), "listener": name, "priority": priority,
            "kind": kind, **kw}


def off(name: str, event: str = "e") -> dict[str, Any]:
    return {"op": "off", "event": event, "listener": name}


def emit(payload: Any, event: str = "e", **kwargs: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"op": "emit", "event": event, "payload": payload}
    if kwargs:
        op["kwargs"] = kwargs
    return op


@pytest.mark.category("priority")
def test_higher_priority_runs_first(expect: Any) -> None:
    ops = [on("low", "LOW"), on("high", "HIGH"), on("medium", "MEDIUM"), emit(1)]
    expect(ops, [[], [], [], [["high", 1], ["medium", 1], ["low", 1]]])


@pytest.mark.category("default_priority")
def test_the_default_priority_is_medium(expect: Any) -> None:
    ops = [on("low", "LOW"), on("default"), on("high", "HIGH"), emit(1)]
    expect(ops, [[], [], [], [["high", 1], ["default", 1], ["low", 1]]])


@pytest.mark.category("ties")
def test_same_priority_keeps_registration_order(expect: Any) -> None:
    ops = [on("first"), on("second"), on("third"), emit(1)]
    expect(ops, [[], [], [], [["first", 1], ["second", 1], ["third", 1]]])


@pytest.mark.category("arguments")
def test_positional_and_keyword_arguments_are_passed_through(expect: Any) -> None:
    # exactly what emit got: emit("e") calls a(), emit("e", 1, 2) calls a(1, 2)
    # (a listener records its one argument, or {"args": [...]} for none or several)
    ops = [on("a"), emit({"id": 1}, who="ann"), {"op": "emit", "event": "e", "args": []},
           {"op": "emit", "event": "e", "args": [1, 2]}]
    expect(ops, [[], [["a", {"id": 1}, {"who": "ann"}]], [["a", {"args": []}]],
                 [["a", {"args": [1, 2]}]]])


@pytest.mark.category("awaiting")
def test_async_listeners_are_awaited_in_order(expect: Any) -> None:
    ops = [on("slow", "HIGH", "async", delay=3), on("sync", "MEDIUM"), emit(1)]
    expect(ops, [[], [], [["slow", 1], ["sync", 1]]])
    # an emit cancelled while it awaits a listener (a wait_for around it that runs out,
    # on a clock that skips the 100 s) lets the cancellation out, runs nothing after it,
    # and cancels what it awaited: nothing of it goes on into the next emit
    ops = [on("slow", "HIGH", "async", sleep=100), on("after", "LOW"), {**emit(1), "timeout": 1},
           emit(2)]
    expect(ops, [[], [], [], [["slow", 2], ["after", 2]]], values={2: "timed out"},
           clock="virtual")


@pytest.mark.category("off")
def test_off_removes_only_that_handler(expect: Any) -> None:
    # off names one event: "a" stays on "f"; an event nobody listens to is no error
    # and for good: the emit after the next one still runs b
    ops = [on("a"), on("b"), on("a", event="f"), off("a"), off("never_added"),
           off("a", event="nobody"), emit(1), emit(2, event="f"), emit(3)]
    expect(ops, [[], [], [], [], [], [], [["b", 1]], [["a", 2]], [["b", 3]]])


@pytest.mark.category("events")
def test_events_are_independent(expect: Any) -> None:
    ops = [on("a", event="x"), emit(1, event="y"), emit(2, event="x")]
    expect(ops, [[], [], [["a", 2]]])
    # "An event is its exact name": "Save", "save" and " save" are three events
    ops = [on("a", event="Save"), on("b", event="save"), on("c", event=" save"),
           emit(1, event="save")]
    expect(ops, [[], [], [], [["b", 1]]])
    # "A `*` in a name is a character, not a wildcard": "*" and "ui:*" hear only that name
    ops = [on("star", event="*"), on("ui", event="ui:*"), emit(1, event="ui:click"),
           emit(2, event="*")]
    expect(ops, [[], [], [], [["star", 2]]])


@pytest.mark.category("duplicates")
def test_the_same_handler_twice_runs_twice(expect: Any) -> None:
    ops = [on("a"), on("a", "HIGH"), emit(1), off("a"), emit(2)]
    expect(ops, [[], [], [["a", 1], ["a", 1]], [], []])
    # each registration has its own place in registration order, and one put back after
    # off takes a new place, at the end of its priority (not the place it had)
    ops = [on("a"), on("b"), on("a"), emit(1), off("a"), on("a"), emit(2)]
    expect(ops, [[], [], [], [["a", 1], ["b", 1], ["a", 1]], [], [], [["b", 2], ["a", 2]]])


@pytest.mark.category("reentrant")
def test_an_emit_inside_a_listener_runs_to_the_end_first(expect: Any) -> None:
    ops = [on("outer", "HIGH", "async", reemit={"event": "inner", "payload": "n"}),
           on("after", "LOW"), on("in", event="inner"), emit(1)]
    expect(ops, [[], [], [], [["outer", 1], ["in", "n"], ["after", 1]]])
    # an emit of the very event being emitted too (outer re-emits only once)
    ops = [on("outer", "HIGH", "async", reemit={"event": "e", "payload": "n"}),
           on("after", "LOW"), emit(1)]
    expect(ops, [[], [], [["outer", 1], ["outer", "n"], ["after", "n"], ["after", 1]]])


@pytest.mark.category("model")
def test_a_mixed_program(expect: Any) -> None:
    ops = [on("a", "LOW", "async"), on("b"), on("c", "HIGH"), emit(1), off("b"), on("b", "LOW"),
           emit(2)]
    expect(ops, [[], [], [], [["c", 1], ["b", 1], ["a", 1]], [], [],
                 [["c", 2], ["a", 2], ["b", 2]]])


@pytest.mark.category("priority_values")
def test_plain_ints_and_every_eventpriority_member_work(expect: Any) -> None:
    # LOWEST is 0, a priority like any other: it runs after LOW, not with the defaults
    ops = [on("lowest", "LOWEST"), on("five", 5), on("low", "LOW"), on("highest", "HIGHEST"),
           on("medium", "MEDIUM"), on("high", "HIGH"), emit(1)]
    expect(ops, [[], [], [], [], [], [], [["five", 1], ["highest", 1], ["high", 1],
                                          ["medium", 1], ["low", 1], ["lowest", 1]]])
    # "`2**53 + 1` before `2**53`, however large (an `int`, not a `float`)", and an IntEnum
    # of the caller's own goes by its number, not its name: its HIGH = 9 runs before HIGHEST
    ops = [on("two53", 2**53), on("two53_plus_1", 2**53 + 1), on("highest", "HIGHEST"),
           on("own_high", "int_enum.HIGH"), emit(1)]
    expect(ops, [[], [], [], [], [["two53_plus_1", 1], ["two53", 1], ["own_high", 1],
                                  ["highest", 1]]])


@pytest.mark.category("changes_during_emit")
def test_on_and_off_during_an_emit_count_from_the_next_emit(expect: Any) -> None:
    ops = [on("adder", "HIGH", then=[on("late", "LOW")]), on("remover", then=[off("victim")]),
           on("victim", "LOW"), emit(1), emit(2)]
    expect(ops, [[], [], [], [["adder", 1], ["remover", 1], ["victim", 1]],
                 [["adder", 2], ["remover", 2], ["late", 2]]])


@pytest.mark.category("raising_listener")
def test_a_raising_listener_stops_the_emit(expect: Any) -> None:
    # its own exception comes out: boom raises ValueError, emit raises that ValueError
    ops = [on("first", "HIGH"), on("boom", raises="ValueError"), on("never", "LOW"), emit(1)]
    expect(ops, [[], [], [], [["first", 1], ["boom", 1]]], errors={3: "ValueError"})


@pytest.mark.category("bound_methods")
def test_off_with_a_bound_method_removes_it(expect: Any) -> None:
    ops = [on("method", kind="method"), on("other"), off("method"), emit(1)]
    expect(ops, [[], [], [], [["other", 1]]])


@pytest.mark.category("awaitables")
def test_any_awaitable_a_listener_returns_is_awaited(expect: Any) -> None:
    ops = [on("returns", "HIGH", "returns_awaitable"), on("callable", kind="async_callable"),
           on("plain", "LOW"), emit(1)]
    expect(ops, [[], [], [], [["returns", 1], ["callable", 1], ["plain", 1]]])
    # a Task, a Future and an object with __await__ are awaitable, and not coroutines
    ops = [on("task", "HIGH", "returns_task", delay=2), on("future", kind="returns_future"),
           on("object", kind="returns_awaitable_object"), on("plain", "LOW"), emit(1)]
    expect(ops, [[], [], [], [], [["task", 1], ["future", 1], ["object", 1], ["plain", 1]]])


@pytest.mark.category("return_value")
def test_emit_returns_none(expect: Any) -> None:
    ops = [on("a"), emit(1)]
    expect(ops, [[], [["a", 1]]], values={1: None})
