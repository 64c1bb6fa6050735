"""What the scenario runner's newer ops and shapes do to the code under test, in-process.

``renew`` puts a fresh subject where the old one was (in memory too), a lower-case
level name reaches the code as that string, and an ``async_returns_awaitable``
listener reports an emit that awaits its result's result as well.
"""

from __future__ import annotations

import textwrap
import types
from typing import Any

from day25.course.inside.scenarios import run_scenario

EMITTER = """
import inspect

PRIORITIES = []
BY_ID = {}  # KEYED: state kept by id(self) in the module, which a new emitter inherits

class PriorityEmitter:
    def __init__(self):
        self.handlers = []

    def _handlers(self):
        return BY_ID.setdefault(id(self), []) if KEYED else self.handlers

    def on(self, event, handler, priority=2):
        PRIORITIES.append(priority)
        self._handlers().append(handler)
        return handler

    def off(self, event, handler):
        pass

    async def emit(self, event, *args, **kwargs):
        for handler in list(self._handlers()):
            result = handler(*args, **kwargs)
            while inspect.isawaitable(result):
                result = await result
                if not AGAIN:
                    break
"""


def module(*, keyed: bool = False, again: bool = False) -> types.ModuleType:
    made = types.ModuleType("submission")
    made.__dict__.update(KEYED=keyed, AGAIN=again)
    exec(compile(textwrap.dedent(EMITTER), "<submission>", "exec"), made.__dict__)
    return made


def on(name: str, **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": "e", "listener": name, "kind": kw.pop("kind", "sync"), **kw}


def emit(payload: Any) -> dict[str, Any]:
    return {"op": "emit", "event": "e", "payload": payload}


def traces(mod: types.ModuleType, ops: list[dict[str, Any]]) -> list[Any]:
    result = run_scenario(mod, "PriorityEmitter", {"ops": ops})
    return [op["trace"] for op in result["ops"] if op["op"] == "emit"]


RENEWED = [on("a"), emit(1), {"op": "renew"}, on("b"), emit(2)]


def test_renew_gives_a_new_subject_in_the_old_ones_place() -> None:
    assert traces(module(), RENEWED) == [[["a", 1]], [["b", 2]]]
    # the fresh emitter took the old one's id: what was kept by id shows in it
    assert traces(module(keyed=True), RENEWED) == [[["a", 1]], [["a", 2], ["b", 2]]]


def test_a_lower_case_level_name_reaches_the_code_as_that_string() -> None:
    mod = module()
    traces(mod, [on("a", priority="high"), on("b", priority="HIGH"), on("c", priority=7)])
    assert [repr(p) for p in mod.PRIORITIES] == ["'high'", "<EventPriority.HIGH: 3>", "7"]


def test_awaiting_a_listeners_result_twice_is_reported() -> None:
    ops = [on("n", kind="async_returns_awaitable"), emit(1)]
    once = run_scenario(module(), "PriorityEmitter", {"ops": ops})["ops"][1]
    assert once == {"op": "emit", "trace": [["n", 1]], "error": None}
    twice = run_scenario(module(again=True), "PriorityEmitter", {"ops": ops})["ops"][1]
    assert twice["trace"] == [["n", 1]]
    assert "listener n's coroutine returned (awaitable itself) was awaited too" in twice["error"]
