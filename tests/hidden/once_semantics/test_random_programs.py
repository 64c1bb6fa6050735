"""Graded suite for Exercise 2: once_semantics (25 points in all): random programs.

Programs drawn at random (from a fixed seed: every submission meets the same ones)
run in a child against the submission's ``once`` on a bundled EventBus whose own
``once`` raises; the reference model (conftest.py) says what a correct ``once`` does.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from day25.course.harness import load_beside

EXERCISE = "once_semantics"
_ops = load_beside(__file__, "once_ops")
H, once, on, off, count = _ops.H, _ops.once, _ops.on, _ops.off, _ops.count
emit, emit_args, together = _ops.emit, _ops.emit_args, _ops.together


# -- random programs against the model ------------------------------------------------
# Steered towards the sequences where implementations differ: few names on two events, so
# a handler is given, cancelled and given again, on both events, next to a permanent `on`
# of itself; every kind of handler, call form and priority spelling; handlers that emit
# again, raise, or call once/on/off while the emit runs; emits of no or several arguments;
# counts of what is left on the bus.
NAMES = ["a", "b", "c", "d"]
EVENTS = ["x", "y"]
KINDS = ["sync", "async", "returns_awaitable", "returns_task", "returns_future",
         "returns_value", "async_callable", "method"]
PRIORITIES: list[str | int | None] = [None, "LOW", "MEDIUM", "HIGH", 2, 5]
STYLES = ["call", "decorator", "keywords"]


@st.composite
def programs(draw: st.DrawFn) -> list[dict[str, Any]]:
    # concurrent emits take their snapshots before any listener runs (or, all-sync, one
    # after the other): a listener must not change the listeners then, whose effect would
    # be a matter of interleaving, which no rule fixes
    concurrent = draw(st.booleans())
    base: dict[str, dict[str, Any]] = {}
    for name in NAMES:
        spec: dict[str, Any] = {"kind": draw(st.sampled_from(KINDS))}
        if spec["kind"] not in ("sync", "method"):
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
            what = draw(st.sampled_from(["once", "on", "off"]))
            if what != "off" and (other not in changing or (other == name and what == "once")):
                make = once if what == "once" else on
                changes.append(make(other, ev, draw(st.sampled_from(PRIORITIES)), **base[other]))
            else:
                changes.append({**off(other, ev), **base[other]})
        specs[name] = {**base[name], "then": changes}

    def give(name: str, event: str) -> dict[str, Any]:
        return once(name, event, draw(st.sampled_from(PRIORITIES)),
                    style=draw(st.sampled_from(STYLES)), **specs[name])

    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(2, 10))):
        name, event = draw(st.sampled_from(NAMES)), draw(st.sampled_from(EVENTS))
        choice = draw(st.sampled_from(["once", "once", "on", "off", "again", "emit", "emit",
                                       "args", "together", "count"]))
        if choice == "once":
            ops.append(give(name, event))
        elif choice == "on":
            ops.append(on(name, event, draw(st.sampled_from(PRIORITIES)), **specs[name]))
        elif choice == "off":
            ops.append({**off(name, event), **specs[name]})
        elif choice == "again":  # cancelled and given again: it fires once, at the back
            ops += [{**off(name, event), **specs[name]}, give(name, event)]
        elif choice == "emit":
            ops.append(emit(draw(st.integers(0, 9)), event))
        elif choice == "args":
            ops.append(emit_args(draw(st.sampled_from([[], [1, 2]])), event, k=1))
        elif choice == "together" and concurrent:
            ops.append(together(10, 11, 12, event=event))
        else:
            ops.append(count(event))
    ops += [emit(100, "x"), together(200, 201, event="y") if concurrent else emit(101, "y"),
            count("x"), count("y")]
    return ops


@pytest.mark.points(3)
@pytest.mark.category("model")
@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(ops=programs())
def test_random_programs_match_the_model(check: Any, ops: list[dict[str, Any]]) -> None:
    check(ops, H)
