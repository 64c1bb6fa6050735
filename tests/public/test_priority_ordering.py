"""Public checks for exercise 1, priority_ordering.

Run them with:  python -m pytest tests/public/test_priority_ordering.py --submission exercises
"""

from __future__ import annotations

from typing import Any

EXERCISE = "priority_ordering"


def hint(n: int) -> str:
    return f"Read hint {n} of priority_ordering (exercises/catalogue.toml, or the notebook)."


def on(name: str, priority: str | None = None, kind: str = "sync", **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": "e", "listener": name, "priority": priority, "kind": kind, **kw}


def test_higher_priority_runs_first(expect: Any) -> None:
    ops = [on("low", "LOW"), on("high", "HIGH"), on("medium"), {"op": "emit", "event": "e",
                                                                "payload": 1}]
    expect(ops, [[], [], [], [["high", 1], ["medium", 1], ["low", 1]]], hint(2))


def test_same_priority_keeps_registration_order(expect: Any) -> None:
    ops = [on("first"), on("second"), on("third"), {"op": "emit", "event": "e", "payload": 1}]
    expect(ops, [[], [], [], [["first", 1], ["second", 1], ["third", 1]]], hint(1))


def test_async_listeners_are_awaited_in_order(expect: Any) -> None:
    ops = [on("slow", "HIGH", "async", delay=3), on("sync", "MEDIUM"),
           {"op": "emit", "event": "e", "payload": 1}]
    expect(ops, [[], [], [["slow", 1], ["sync", 1]]], hint(3))


def test_off_removes_only_that_handler(expect: Any) -> None:
    ops = [on("a"), on("b"), {"op": "off", "event": "e", "listener": "a"},
           {"op": "emit", "event": "e", "payload": 1}]
    expect(ops, [[], [], [], [["b", 1]]], hint(4))
