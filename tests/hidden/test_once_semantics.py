"""Graded suite for Exercise 2: once_semantics (25 points).

Scenarios run in a child against the submission's ``once`` on a bundled
EventBus whose own ``once`` raises; the reference model (conftest.py) says
what a correct ``once`` does.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXERCISE = "once_semantics"
H = "See docs/exercises/once_semantics.md and the exercise's hints."


def once(listener: str, event: str = "e", priority: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"op": "once", "event": event, "listener": listener, "priority": priority,
            "kind": kw.pop("kind", "sync"), "style": kw.pop("style", "call"), **kw}


def on(listener: str, event: str = "e", priority: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": event, "listener": listener, "priority": priority,
            "kind": kw.pop("kind", "sync"), **kw}


def emit(payload: Any, event: str = "e", **kwargs: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"op": "emit", "event": event, "payload": payload}
    if kwargs:
        op["kwargs"] = kwargs
    return op


def off(listener: str, event: str = "e") -> dict[str, Any]:
    return {"op": "off", "event": event, "listener": listener}


def count(event: str = "e") -> dict[str, Any]:
    return {"op": "count", "event": event}


def together(*payloads: Any, event: str = "e") -> dict[str, Any]:
    return {"op": "emit_concurrently", "event": event, "payloads": list(payloads)}


@pytest.mark.points(2)
@pytest.mark.category("fires_once")
def test_fires_on_the_next_emit_only(check: Any) -> None:
    check([once("a"), emit(1), emit(2), emit(3)], H)


@pytest.mark.points(1)
@pytest.mark.category("async_handler")
def test_async_handler_fires_once_and_is_awaited(check: Any) -> None:
    check([once("a", kind="async", delay=2), on("b", priority="LOW"), emit(1), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("nothing_left")
def test_leaves_no_listener_behind(check: Any) -> None:
    check([once("a"), count(), emit(1), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("decorator")
def test_works_as_a_decorator_and_returns_the_handler(check: Any) -> None:
    check([once("a", style="decorator"), once("b", style="decorator", kind="async"), emit(1),
           emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("priority")
def test_respects_priority_among_other_listeners(check: Any) -> None:
    check([on("low", priority="LOW"), on("mid"), once("first", priority="HIGH"),
           once("late_mid"), emit(1), emit(2)], H)


@pytest.mark.points(2)
@pytest.mark.category("reentrant")
def test_reentrant_emit_does_not_fire_it_twice(check: Any) -> None:
    check([on("loop", priority="HIGH", kind="async", reemit={"event": "e", "payload": "again"}),
           once("a"), emit(1), emit(2), count()], H)


@pytest.mark.points(2)
@pytest.mark.category("reentrant")
def test_handler_that_emits_its_own_event_fires_once(check: Any) -> None:
    check([once("a", kind="async", reemit={"event": "e", "payload": "again"}), on("b"),
           emit(1), emit(2), count()], H)


@pytest.mark.points(2)
@pytest.mark.category("concurrent")
def test_concurrent_emits_fire_it_once(check: Any) -> None:
    check([on("slow", priority="HIGH", kind="async", delay=2), once("a", kind="async"),
           together(1, 2, 3, 4), emit(5), count()], H)


@pytest.mark.points(2)
@pytest.mark.category("cancel")
def test_off_with_the_original_handler_cancels_it(check: Any) -> None:
    check([once("a"), on("b"), off("a"), emit(1), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("cancel")
def test_off_after_it_fired_is_harmless(check: Any) -> None:
    check([once("a"), emit(1), off("a"), emit(2), once("a"), emit(3)], H)


@pytest.mark.points(1)
@pytest.mark.category("fires_once")
def test_several_once_listeners_each_fire_once(check: Any) -> None:
    check([once("a"), once("b", kind="async"), once("a", event="f"), emit(1),
           emit(2, event="f"), emit(3), emit(4, event="f")], H)


@pytest.mark.points(2)
@pytest.mark.category("cancel_during_emit")
def test_off_during_an_emit_cancels_it_from_the_next_emit(check: Any) -> None:
    check([on("canceller", priority="HIGH", then=[off("a")]), once("a"), on("b", priority="LOW"),
           emit(1), emit(2), count(), once("c", priority="LOW"),
           on("late_canceller", then=[off("c")]), emit(3), emit(4), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("raising_handler")
def test_a_raising_handler_counts_as_fired_and_its_error_reaches_the_bus(check: Any) -> None:
    check([once("boom", raises=True), on("after", priority="LOW"), emit(1), emit(2), count(),
           once("async_boom", kind="async", raises=True), emit(3), emit(4), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("kwargs")
def test_positional_and_keyword_arguments_reach_the_handler(check: Any) -> None:
    check([once("a"), once("b", kind="async"), emit({"user": "ann"}, who="x", n=2), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("same_handler_twice")
def test_the_same_handler_given_twice_fires_twice_then_never(check: Any) -> None:
    check([once("a"), once("a", priority="HIGH"), on("b"), emit(1), emit(2), count(),
           once("c"), once("c"), off("c"), emit(3), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("permanent_listener")
def test_a_permanent_listener_of_the_same_handler_survives(check: Any) -> None:
    check([on("a"), once("a", priority="HIGH"), emit(1), emit(2), count(),
           once("b", kind="async"), on("b", kind="async"), emit(3), emit(4), count()], H)


# -- random programs against the model ------------------------------------------------
NAMES = ["a", "b", "c", "d"]


@st.composite
def programs(draw: st.DrawFn) -> list[dict[str, Any]]:
    specs = {}
    for name in NAMES:
        kind = draw(st.sampled_from(["sync", "async"]))
        spec: dict[str, Any] = {"kind": kind}
        if kind == "async":
            spec["delay"] = draw(st.integers(0, 2))
            if draw(st.booleans()):
                spec["reemit"] = {"event": draw(st.sampled_from(["x", "y"])), "payload": "re"}
        specs[name] = spec
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(NAMES))
        event = draw(st.sampled_from(["x", "y"]))
        choice = draw(st.sampled_from(["once", "once", "on", "off", "emit", "emit", "together"]))
        priority = draw(st.sampled_from([None, "LOW", "HIGH"]))
        if choice == "once":
            style = draw(st.sampled_from(["call", "decorator"]))
            ops.append(once(name, event, priority, style=style, **specs[name]))
        elif choice == "on":
            ops.append(on(name, event, priority, **specs[name]))
        elif choice == "off":
            ops.append({**off(name, event), **specs[name]})
        elif choice == "emit":
            ops.append(emit(draw(st.integers(0, 9)), event))
        else:
            ops.append(together(10, 11, 12, event=event))
    ops += [emit(100, "x"), together(200, 201, event="y"), count("x"), count("y")]
    return ops


@pytest.mark.points(3)
@pytest.mark.category("model")
@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(ops=programs())
def test_random_programs_match_the_model(check: Any, ops: list[dict[str, Any]]) -> None:
    check(ops, H)
