"""The twenty-fifth blind batch (halfway): what the runner tells about a listener's error.

A listener's own exception must reach the bus as it was raised. ``Raised`` tells a
stand-in from it: one whose arguments a wrapper rewrote in place is named as such, and an
``"ExceptionGroup"`` listener raises a group of one, which a wrapper that hands on the one
error inside it replaces. A ``once`` that refuses a handler that is not callable must
leave nothing on the bus, and one that leaves it to fail in the emit must fail once.
"""

from __future__ import annotations

import textwrap
import types
from typing import Any

from day25.course.inside.listener_errors import Raised, listener_error
from day25.course.inside.scenarios import run_scenario
from day25.course.protocol import BUS_SUBJECT

ONCE = """
def once(bus, event, handler):
    def wrapper(*args, **kwargs):
        bus.off(event, wrapper)
        try:
            return handler(*args, **kwargs)
        except ExceptionGroup as group:
            if UNWRAP:
                raise group.exceptions[0]
            raise
        except Exception as exc:
            if REWRITE:
                exc.args = (f"once failed: {exc.args[0]}",)
            raise
    wrapper.__wrapped__ = handler
    bus.on(event, wrapper)
    return handler
"""


def once_module(**flags: bool) -> types.ModuleType:
    made = types.ModuleType("submission")
    made.__dict__.update({"UNWRAP": False, "REWRITE": False, **flags})
    exec(compile(textwrap.dedent(ONCE), "<submission>", "exec"), made.__dict__)
    return made


def errors(mod: types.ModuleType, raises: str) -> Any:
    ops = [{"op": "once", "event": "e", "listener": "h", "raises": raises},
           {"op": "emit", "event": "e", "payload": 1}]
    return run_scenario(mod, BUS_SUBJECT, {"ops": ops})["ops"][1]["value"]


def test_an_exception_group_listener_raises_a_group_of_one_which_must_stay_whole() -> None:
    group = listener_error("ExceptionGroup")("listener g failed")
    assert isinstance(group, ExceptionGroup) and len(group.exceptions) == 1
    assert errors(once_module(), "ExceptionGroup") == ["ExceptionGroup"]
    assert errors(once_module(UNWRAP=True), "ExceptionGroup") == ["ValueError"]


def test_the_listeners_own_error_with_its_arguments_rewritten_is_named_so() -> None:
    assert errors(once_module(), "ValueError") == ["ValueError"]
    [rewritten] = errors(once_module(REWRITE=True), "ValueError")
    assert rewritten.startswith("the ValueError a listener raised, its arguments changed to")
    raised = Raised()
    error = raised.make("KeyError", "k", cause=False)
    assert raised.name(error) == "KeyError" and not raised.replaced(error)
    assert raised.replaced(KeyError(*error.args))  # a copy stands in for it


NOT_CALLABLE = """
def once(bus, event, handler):
    def wrapper(*args, **kwargs):
        if not FOREVER:
            bus.off(event, wrapper)
        return handler(*args, **kwargs)
    bus.on(event, wrapper)
    if not callable(handler) and LATE:
        raise TypeError(f"not callable: {handler!r}")
    return handler
"""


def test_once_not_callable_wants_nothing_left_after_a_refusal_and_one_failing_emit() -> None:
    def outcome(**flags: bool) -> Any:
        made = types.ModuleType("submission")
        made.__dict__.update({"FOREVER": False, "LATE": False, **flags})
        exec(compile(NOT_CALLABLE, "<submission>", "exec"), made.__dict__)
        ops = [{"op": "once_not_callable", "event": "e"}]
        return run_scenario(made, BUS_SUBJECT, {"ops": ops})["ops"][0]["error"]

    assert outcome() is None  # left to fail in one emit, then gone
    assert "raised TypeError, yet left 1 listener(s)" in outcome(LATE=True)
    assert "[['TypeError'], ['TypeError']] and left 1" in outcome(FOREVER=True)
