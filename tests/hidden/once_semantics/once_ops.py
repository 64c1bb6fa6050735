"""The scenario steps of the once_semantics suite, shared by its test modules.

Each function builds one op of a scenario (a dict the child runs against the
submission's ``once`` on the bundled EventBus, and the reference model of
``tests/hidden/conftest.py`` replays); ``H`` is the hint every failure message ends with.
"""

from __future__ import annotations

from typing import Any

H = "See docs/exercises/once_semantics.md and the exercise's hints."


def once(listener: str, event: str = "e", priority: str | int | None = None,
         **kw: Any) -> dict[str, Any]:
    return {"op": "once", "event": event, "listener": listener, "priority": priority,
            "kind": kw.pop("kind", "sync"), "style": kw.pop("style", "call"), **kw}


def on(listener: str, event: str = "e", priority: str | int | None = None,
       **kw: Any) -> dict[str, Any]:
    return {"op": "on", "event": event, "listener": listener, "priority": priority,
            "kind": kw.pop("kind", "sync"), **kw}


def emit(payload: Any, event: str = "e", **kwargs: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"op": "emit", "event": event, "payload": payload}
    if kwargs:
        op["kwargs"] = kwargs
    return op


def emit_args(args: list[Any], event: str = "e", **kwargs: Any) -> dict[str, Any]:
    """An emit with these positional arguments (none, or several), not one payload."""
    return {"op": "emit", "event": event, "args": args, **({"kwargs": kwargs} if kwargs else {})}


def off(listener: str, event: str = "e") -> dict[str, Any]:
    return {"op": "off", "event": event, "listener": listener}


def count(event: str = "e") -> dict[str, Any]:
    return {"op": "count", "event": event}


def together(*payloads: Any, event: str = "e") -> dict[str, Any]:
    return {"op": "emit_concurrently", "event": event, "payloads": list(payloads)}
