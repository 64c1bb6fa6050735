"""What the scenario-op tests run: a submission's emitter, the ops, a listener made alone.

Loaded by path (``load_beside(__file__, "scenario_subjects")``) by
``test_scenario_ops.py``, ``test_scenario_listener_kinds.py`` and
``test_scenario_once_wrappers.py``, so all three share one module object. ``module()``
makes a ``PriorityEmitter`` submission (flags: ``keyed``, ``again``, ``abc``),
``on``/``emit`` the ops, ``traces`` the emits' traces of a scenario on it, and
``made`` one listener as the runner makes it.
"""

from __future__ import annotations

import collections.abc
import textwrap
import types
from typing import Any

from day25.course.inside.scenarios import run_scenario

EMITTER = """
import inspect

AWAITABLE = globals().get("AWAITABLE", inspect.isawaitable)
PRIORITIES = []
SEEN = []  # (len() of the handler or None, the name of its __wrapped__ or None)
BY_ID = {}  # KEYED: state kept by id(self) in the module, which a new emitter inherits

class PriorityEmitter:
    def __init__(self):
        self.handlers = []

    def _handlers(self):
        return BY_ID.setdefault(id(self), []) if KEYED else self.handlers

    def on(self, event, handler, priority=2):
        PRIORITIES.append(priority)
        wrapped = getattr(handler, "__wrapped__", None)
        SEEN.append((len(handler) if hasattr(handler, "__len__") else None,
                     getattr(wrapped, "__name__", None)))
        self._handlers().append(handler)
        return handler

    def off(self, event, handler):
        pass

    async def emit(self, event, *args, **kwargs):
        for handler in list(self._handlers()):
            result = handler(*args, **kwargs)
            while AWAITABLE(result):
                result = await result
                if not AGAIN:
                    break
"""


def module(*, keyed: bool = False, again: bool = False, abc: bool = False) -> types.ModuleType:
    made = types.ModuleType("submission")
    awaitable = (lambda r: isinstance(r, collections.abc.Awaitable)) if abc else None
    made.__dict__.update(KEYED=keyed, AGAIN=again)
    if awaitable:
        made.__dict__["AWAITABLE"] = awaitable
    exec(compile(textwrap.dedent(EMITTER), "<submission>", "exec"), made.__dict__)
    return made


def on(name: str, **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": "e", "listener": name, "kind": kw.pop("kind", "sync"), **kw}


def emit(payload: Any) -> dict[str, Any]:
    return {"op": "emit", "event": "e", "payload": payload}


def traces(mod: types.ModuleType, ops: list[dict[str, Any]]) -> list[Any]:
    result = run_scenario(mod, "PriorityEmitter", {"ops": ops})
    return [op["trace"] for op in result["ops"] if op["op"] == "emit"]


def made(name: str, op: dict[str, Any], calls: list[Any]) -> Any:
    from day25.course.inside.listeners import make_listener

    async def no_reemit(op: dict[str, Any]) -> None:
        pass

    def after() -> None:
        if op.get("raises"):
            raise ValueError(f"listener {name} failed")

    return make_listener(name, op, record=lambda a, k: calls.append(a), after=after,
                         reemit=no_reemit, resolving=set(), misused=lambda text: None)
