"""The ``once_elsewhere`` op: the same module's ``once`` used on many other buses.

Why it exists: a ``once`` that keeps a record per bus in a bounded cache
(``functools.lru_cache`` keeps 128) forgets the armed registrations of the bus it
used longest ago, which then never fire. The texts say a once-handler fires on the
next emit, whatever else the program did meanwhile.

``{"op": "once_elsewhere", "event", "buses": n}``: the module's ``once`` registers a
handler that does nothing for ``event`` on each of ``n`` other new buses, which are
dropped when the op ends. Nothing of them may reach the scenario's own bus.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from day25.course.inside.guarded_bus import GuardedBus

__all__ = ["ONCE_ELSEWHERE", "once_elsewhere"]

#: the op this module runs
ONCE_ELSEWHERE = "once_elsewhere"


def _nothing(*args: Any, **kwargs: Any) -> None:
    """The handler given on the other buses."""


def once_elsewhere(module: ModuleType, op: dict[str, Any]) -> None:
    """The module's ``once(bus, op["event"], ...)`` on ``op["buses"]`` new buses."""
    for bus in [GuardedBus() for _ in range(int(op.get("buses", 130)))]:
        module.once(bus, op["event"], _nothing)
