"""Bug: `on` checks the event name against the lesson's naming rule (lower-case words, optional `ns:` prefixes and `.verb` parts) and raises ValueError for any other name.

Breaks: "An event is its exact name: `"Save"`, `"save"` and `" save"` are three events." and "a listener of `"*"` or `"ui:*"` hears only an emit of that very name." ... `on("Save", f)` (or `on(" save", f)`, `on("*", f)`) raises `ValueError: 'Save': use lower-case ...` instead of registering f for that event.

Carried over from notebooks/12_best_practices.ipynb, cell 1 (`NAME = re.compile(...)`
and `check_event_name`: "A rule you cannot check is a rule nobody follows"), with the
`.verb` part made optional so that short names such as "e" pass.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from day25 import EventPriority

NAME = re.compile(r"^([a-z][a-z0-9_]*:)*[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def check_event_name(name: str) -> None:
    if not NAME.match(name):
        raise ValueError(f"{name!r}: use lower-case 'noun.verb', optionally 'namespace:'")


@dataclass(order=True)
class _Registration:
    rank: int
    seq: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, list[_Registration]] = {}
        self._seq = count(1)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        check_event_name(event)
        regs = self._events.setdefault(event, [])
        regs.append(_Registration(-int(priority), next(self._seq), handler))
        regs.sort()
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._events:
            self._events[event] = [r for r in self._events[event] if not r.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for reg in list(self._events.get(event, ())):
            result = reg.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
