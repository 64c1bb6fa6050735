"""Public checks for exercise 2, once_semantics.

Run them with:  python -m pytest tests/public/test_once_semantics.py --submission exercises
"""

from __future__ import annotations

from typing import Any

EXERCISE = "once_semantics"


def hint(n: int) -> str:
    return f"Read hint {n} of once_semantics (exercises/catalogue.toml, or the notebook)."


def emit(payload: Any) -> dict[str, Any]:
    return {"op": "emit", "event": "e", "payload": payload}


def test_fires_on_the_next_emit_only(expect: Any) -> None:
    ops = [{"op": "once", "event": "e", "listener": "a", "kind": "sync"}, emit(1), emit(2)]
    expect(ops, [[], [["a", 1]], []], hint(1))


def test_a_listener_that_emits_again_does_not_fire_it_twice(expect: Any) -> None:
    ops = [{"op": "on", "event": "e", "listener": "again", "priority": "HIGH", "kind": "async",
            "reemit": {"event": "e", "payload": 2}},
           {"op": "once", "event": "e", "listener": "a", "kind": "sync"}, emit(1)]
    expect(ops, [[], [], [["again", 1], ["again", 2], ["a", 2]]], hint(2))


def test_off_with_the_original_handler_cancels_it(expect: Any) -> None:
    ops = [{"op": "once", "event": "e", "listener": "a", "kind": "sync"},
           {"op": "off", "event": "e", "listener": "a"}, emit(1)]
    expect(ops, [[], [], []], hint(3))


def test_works_as_a_decorator_and_returns_the_handler(expect: Any) -> None:
    ops = [{"op": "once", "event": "e", "listener": "a", "kind": "async", "style": "decorator"},
           emit(1), emit(2)]
    expect(ops, [[], [["a", 1]], []], hint(4))
