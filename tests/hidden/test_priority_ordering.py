"""Graded suite for Exercise 1: priority_ordering (25 points).

Every scenario runs in a child process against the submission; the verdict is
the reference model's (tests/hidden/conftest.py), computed here.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXERCISE = "priority_ordering"
H = "See docs/exercises/priority_ordering.md and the exercise's hints."


def on(listener: str, priority: str | int | None = None, event: str = "e",
       **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": event, "listener": listener, "priority": priority,
            "kind": kw.pop("kind", "sync"), **kw}


def emit(payload: Any, event: str = "e", **kwargs: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"op": "emit", "event": event, "payload": payload}
    if kwargs:
        op["kwargs"] = kwargs
    return op


def off(listener: str, event: str = "e") -> dict[str, Any]:
    return {"op": "off", "event": event, "listener": listener}


@pytest.mark.points(2)
@pytest.mark.category("priority")
def test_high_runs_before_medium_before_low(check: Any) -> None:
    check([on("low", "LOW"), on("medium", "MEDIUM"), on("high", "HIGH"), emit(1)], H)


@pytest.mark.points(1)
@pytest.mark.category("default_priority")
def test_default_priority_is_medium(check: Any) -> None:
    check([on("low", "LOW"), on("default"), on("high", "HIGH"), on("medium", "MEDIUM"),
           emit(1)], H)


@pytest.mark.points(2)
@pytest.mark.category("ties")
def test_ties_run_in_registration_order(check: Any) -> None:
    names = ["m1", "h1", "m2", "l1", "h2", "m3", "l2", "h3"]
    levels = ["MEDIUM", "HIGH", "MEDIUM", "LOW", "HIGH", "MEDIUM", "LOW", "HIGH"]
    check([*(on(n, p) for n, p in zip(names, levels, strict=True)), emit(1), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("arguments")
def test_arguments_and_keywords_are_passed_through(check: Any) -> None:
    check([on("a"), on("b", kind="async"), emit({"user": "ann"}, who="x", n=2)], H)


@pytest.mark.points(1)
@pytest.mark.category("awaiting")
def test_async_listeners_are_awaited_one_after_another(check: Any) -> None:
    check([on("slow", "HIGH", kind="async", delay=3), on("quick", "HIGH", kind="async", delay=0),
           on("last", "MEDIUM", kind="async", delay=1), emit(1)], H)


@pytest.mark.points(1)
@pytest.mark.category("awaiting")
def test_sync_and_async_interleave_in_priority_order(check: Any) -> None:
    check([on("s1", "LOW"), on("a1", "HIGH", kind="async", delay=2), on("s2", "HIGH"),
           on("a2", "MEDIUM", kind="async"), on("s3", "MEDIUM"), emit(7), emit(8)], H)


@pytest.mark.points(1)
@pytest.mark.category("awaiting")
def test_emit_returns_only_after_every_listener_finished(check: Any) -> None:
    # the next step's trace must not contain calls left over from the previous emit
    check([on("a", kind="async", delay=3), emit(1), on("b", event="other"),
           emit(2, event="other")], H)


@pytest.mark.points(1)
@pytest.mark.category("off")
def test_off_removes_only_that_handler(check: Any) -> None:
    check([on("a"), on("b"), on("c", "HIGH"), off("b"), emit(1)], H)


@pytest.mark.points(1)
@pytest.mark.category("off")
def test_off_of_unknown_handler_or_event_is_harmless(check: Any) -> None:
    check([on("a"), off("zzz"), off("a", event="nothing"), emit(1), off("a"), off("a"),
           emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("events")
def test_events_are_independent_and_unknown_events_are_silent(check: Any) -> None:
    check([on("a", event="x"), on("b", "HIGH", event="y"), emit(1, event="x"),
           emit(2, event="y"), emit(3, event="nobody")], H)


@pytest.mark.points(1)
@pytest.mark.category("duplicates")
def test_same_handler_twice_runs_twice_and_off_removes_both(check: Any) -> None:
    check([on("a", "LOW"), on("b"), on("a", "HIGH"), emit(1), off("a"), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("reentrant")
def test_reentrant_emit_runs_nested_in_order(check: Any) -> None:
    check([on("outer", "HIGH", kind="async", reemit={"event": "inner", "payload": "nested"}),
           on("after", "LOW"), on("in1", "LOW", event="inner"), on("in2", "HIGH", event="inner"),
           emit(1)], H)


@pytest.mark.points(2)
@pytest.mark.category("priority_values")
def test_any_int_and_every_eventpriority_member_orders_listeners(check: Any) -> None:
    check([on("low", "LOW"), on("lowest", "LOWEST"), on("ten", 10), on("normal", "NORMAL"),
           on("highest", "HIGHEST"), on("minus", -5), on("high", "HIGH"), on("zero", 0),
           emit(1)], H)


@pytest.mark.points(2)
@pytest.mark.category("changes_during_emit")
def test_on_and_off_during_an_emit_take_effect_from_the_next_emit(check: Any) -> None:
    check([on("adder", "HIGH", then=[on("late", "LOW")]),
           on("remover", then=[off("victim")]), on("victim", "LOW"),
           emit(1), emit(2), on("async_adder", "HIGH", kind="async",
                                then=[on("later", "HIGHEST")]), emit(3), emit(4)], H)


@pytest.mark.points(1)
@pytest.mark.category("raising_listener")
def test_a_raising_listener_stops_the_emit_and_its_error_comes_out(check: Any) -> None:
    check([on("first", "HIGH"), on("boom", raises=True), on("never", "LOW"), emit(1),
           on("async_boom", "HIGHEST", kind="async", raises=True), emit(2), off("boom"),
           off("async_boom"), emit(3)], H)


@pytest.mark.points(1)
@pytest.mark.category("bound_methods")
def test_off_with_the_same_bound_method_removes_it(check: Any) -> None:
    check([on("method", kind="method"), on("other"), on("method", "HIGH", kind="method"),
           emit(1), off("method"), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("awaitables")
def test_whatever_a_listener_returns_that_is_awaitable_is_awaited(check: Any) -> None:
    check([on("returns", "HIGH", kind="returns_awaitable", delay=2),
           on("callable", kind="async_callable", delay=1), on("plain", "LOW"), emit(1)], H)


@pytest.mark.points(1)
@pytest.mark.category("return_value")
def test_emit_returns_none(check: Any) -> None:
    check([emit(0), on("a"), on("b", kind="async"), emit(1)], H)


# -- random programs against the model ------------------------------------------------
NAMES = ["a", "b", "c", "d", "e"]


@st.composite
def programs(draw: st.DrawFn) -> list[dict[str, Any]]:
    specs = {}
    for name in NAMES:
        kind = draw(st.sampled_from(["sync", "async"]))
        spec: dict[str, Any] = {"kind": kind}
        if kind == "async":
            spec["delay"] = draw(st.integers(0, 3))
            if draw(st.booleans()):
                spec["reemit"] = {"event": draw(st.sampled_from(["x", "y"])), "payload": "re"}
        specs[name] = spec
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 14))):
        name = draw(st.sampled_from(NAMES))
        event = draw(st.sampled_from(["x", "y"]))
        choice = draw(st.sampled_from(["on", "on", "on", "off", "emit", "emit"]))
        if choice == "on":
            ops.append(on(name, draw(st.sampled_from([None, "LOW", "MEDIUM", "HIGH"])),
                          event=event, **specs[name]))
        elif choice == "off":
            ops.append({**off(name, event), **specs[name]})
        else:
            ops.append(emit(draw(st.integers(0, 9)), event=event))
    ops.append(emit(100, event="x"))
    ops.append({"op": "emit_concurrently", "event": "y", "payloads": [200, 201]})
    return ops


@pytest.mark.points(3)
@pytest.mark.category("model")
@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(ops=programs())
def test_random_programs_match_the_model(check: Any, ops: list[dict[str, Any]]) -> None:
    check(ops, H)
