"""Graded suite for Exercise 1: priority_ordering (25 points in all): random programs.

Programs drawn at random (from a fixed seed: every submission meets the same ones),
each run in a child process against the submission; the verdict is the reference
model's (tests/hidden/conftest.py), computed here.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from day25.course.harness import load_beside

EXERCISE = "priority_ordering"
_ops = load_beside(__file__, "priority_ops")
H, on, emit, emit_args, off = _ops.H, _ops.on, _ops.emit, _ops.emit_args, _ops.off


# -- random programs against the model ------------------------------------------------
# Steered towards the sequences where implementations differ: few names on two events, so
# the same handler is removed, re-registered and registered on both; every kind of
# listener and every spelling of a priority; listeners that emit again (the same event or
# the other), raise, or call on/off during the emit; emits of no or several arguments.
NAMES = ["a", "b", "c", "d"]
EVENTS = ["x", "y"]
KINDS = ["sync", "async", "returns_awaitable", "returns_task", "returns_future",
         "returns_awaitable_object", "returns_value", "async_callable", "method"]
PRIORITIES: list[str | int | None] = [None, "LOWEST", "LOW", "MEDIUM", "NORMAL", "HIGH",
                                      "HIGHEST", 2, 3, -1, 7]
AWAITED = {"async", "returns_awaitable", "returns_task", "returns_awaitable_object",
           "async_callable"}


@st.composite
def programs(draw: st.DrawFn) -> list[dict[str, Any]]:
    # concurrent emits run side by side: then a listener must not change the listeners
    # (which emit sees the change would be a matter of interleaving, which no rule fixes)
    concurrent = draw(st.booleans())
    base: dict[str, dict[str, Any]] = {}
    for name in NAMES:
        spec: dict[str, Any] = {"kind": draw(st.sampled_from(KINDS))}
        if spec["kind"] in AWAITED:
            spec["delay"] = draw(st.integers(0, 2))
            if draw(st.integers(0, 2)) == 0:
                spec["reemit"] = {"event": draw(st.sampled_from(EVENTS)), "payload": "re"}
        if draw(st.integers(0, 4)) == 0:
            spec["raises"] = draw(st.sampled_from([True, "ValueError"]))
        base[name] = spec
    specs = dict(base)
    changing = [n for n in NAMES if not concurrent and draw(st.integers(0, 2)) == 0]
    for name in changing:
        changes = []
        for _ in range(draw(st.integers(1, 2))):
            other, ev = draw(st.sampled_from(NAMES)), draw(st.sampled_from(EVENTS))
            if draw(st.booleans()) and other not in changing:  # no chain reaction of ons
                changes.append(on(other, draw(st.sampled_from(PRIORITIES)), ev, **base[other]))
            else:
                changes.append({**off(other, ev), **base[other]})
        specs[name] = {**base[name], "then": changes}

    def register(name: str, event: str) -> dict[str, Any]:
        return on(name, draw(st.sampled_from(PRIORITIES)), event, **specs[name])

    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(2, 12))):
        name, event = draw(st.sampled_from(NAMES)), draw(st.sampled_from(EVENTS))
        choice = draw(st.sampled_from(["on", "on", "on", "off", "again", "emit", "emit",
                                       "args", "clear"]))
        if choice == "on":
            ops.append(register(name, event))
        elif choice == "off":
            ops.append({**off(name, event), **specs[name]})
        elif choice == "again":  # removed and registered anew: it moves to the back
            ops += [{**off(name, event), **specs[name]}, register(name, event)]
        elif choice == "emit":
            ops.append(emit(draw(st.integers(0, 9)), event=event))
        elif choice == "args":
            ops.append(emit_args(draw(st.sampled_from([[], [1, 2]])), event, k=1))
        else:  # every listener of the event gone: its emit runs nothing
            ops += [{**off(n, event), **specs[n]} for n in NAMES] + [emit(-1, event=event)]
    ops.append(emit(100, event="x"))
    if concurrent:
        ops.append({"op": "emit_concurrently", "event": "y", "payloads": [200, 201]})
    else:
        ops.append(emit(101, event="y"))
    return ops


@pytest.mark.points(3)
@pytest.mark.category("model")
@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(ops=programs())
def test_random_programs_match_the_model(check: Any, ops: list[dict[str, Any]]) -> None:
    check(ops, H)
