"""Bug: the running emit's plan, cursor and arguments are kept in a ``threading.local`` (saved and restored around each emit, like Flask's request), but every asyncio task of one thread shares that object, so two emits running at the same time read each other's state.

Breaks: "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 2))`): each calls every listener of its own snapshot, with its own arguments." ... with an async listener ``a`` then a sync listener ``b`` on ``"e"``, that gather calls ``a(1)``, ``a(2)``, then ``b(2)`` from the first emit's loop, never ``b(1)``, and the second emit then fails with ``AttributeError`` (the first one reset the shared slot to ``None``).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


class _Frame:
    """One running emit: its plan, how far it got, and its arguments."""

    __slots__ = ("args", "index", "kwargs", "plan")

    def __init__(self, plan: list[Callable[..., Any]], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.plan = plan
        self.index = 0
        self.args = args
        self.kwargs = kwargs


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = count()
        self._local = threading.local()  # the current emit, per thread

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((-int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._listeners:
            self._listeners[event] = [e for e in self._listeners[event] if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        plan = [handler for *_key, handler in sorted(self._listeners.get(event, ()),
                                                      key=lambda e: (e[0], e[1]))]
        outer = getattr(self._local, "frame", None)  # an emit inside a listener nests
        self._local.frame = _Frame(plan, args, kwargs)
        try:
            while await self._step():
                pass
        finally:
            self._local.frame = outer

    async def _step(self) -> bool:
        """Run the current emit's next listener; False once there is none."""
        frame: _Frame = self._local.frame
        if frame.index >= len(frame.plan):
            return False
        handler = frame.plan[frame.index]
        frame.index += 1
        result = handler(*frame.args, **frame.kwargs)
        if inspect.isawaitable(result):
            await result
        return True
