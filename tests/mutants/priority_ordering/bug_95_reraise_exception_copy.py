"""Bug: a raising listener's exception is re-raised as a fresh copy (same type, same args) to drop the emitter frames from the traceback, so it is not the listener's own exception object (its attributes and identity are lost).

Breaks: "It is the listener's own exception, not another one wrapping it: a listener's ValueError comes out of emit as that ValueError, so the caller's except ValueError works."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass
class _Registration:
    handler: Callable[..., Any]
    priority: int
    seq: int

    @property
    def name(self) -> str:
        return getattr(self.handler, "__qualname__", type(self.handler).__name__)


@dataclass(eq=False)
class PriorityEmitter:
    """Dataclass-based emitter: registrations kept per event, sorted at emit time."""

    _events: dict[Any, list[_Registration]] = field(default_factory=dict)
    _next_seq: int = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._events.setdefault(event, []).append(_Registration(handler, int(priority), self._next_seq))
        self._next_seq += 1
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self._events.get(event)
        if regs is not None:
            regs[:] = [r for r in regs if r.handler != handler]

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        snapshot = sorted(self._events.get(event, ()), key=lambda r: (-r.priority, r.seq))
        for reg in snapshot:
            try:
                result = reg.handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                # re-raise a clean copy: same type and message (so except ValueError still
                # works) without the emitter's internals in the traceback
                try:
                    clean = type(exc)(*exc.args)
                except Exception:
                    raise exc
                raise clean from None
