"""Bug: an emit nested inside a listener logs and skips a raising listener instead of letting its exception out.

Breaks: "If one of its listeners raises, the exception comes out of the inner
`await emitter.emit(...)`, in the listener that called it." (and rule 8: "the listeners
after it do not run in that emit").
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority

log = logging.getLogger(__name__)


class _Registration(NamedTuple):
    priority: int
    seq: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """Registrations as named tuples, sorted at emit time by (-priority, seq)."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[_Registration]] = {}
        self._seq = itertools.count()
        self._depth = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        reg = _Registration(int(priority), next(self._seq), handler)
        self._registrations.setdefault(event, []).append(reg)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self._registrations.get(event)
        if regs is not None:
            self._registrations[event] = [r for r in regs if r.handler != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = sorted(self._registrations.get(event, ()), key=lambda r: (-r.priority, r.seq))
        self._depth += 1
        try:
            for reg in snapshot:
                try:
                    result = reg.handler(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    if self._depth > 1:
                        # a nested emit must not break the listener that started it
                        log.exception("listener %r of nested emit %r failed", reg.handler, event)
                        continue
                    raise
        finally:
            self._depth -= 1
