"""Listener priorities that speak both the lesson's and Nexios' vocabulary.

The Day 25 lesson says ``LOW / MEDIUM / HIGH``; Nexios 3.12 says
``HIGHEST / HIGH / NORMAL / LOW / LOWEST`` and has no ``MEDIUM``. Code written
for either should run unchanged, so :class:`EventPriority` carries all six names
(``NORMAL`` is an alias of ``MEDIUM``) and :func:`coerce_priority` also accepts
members of ``nexios.events.EventPriority``, their names as strings, and plain
integers for finer ordering. A bigger number runs earlier.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["EventPriority", "PriorityLike", "coerce_priority"]


class EventPriority(enum.IntEnum):
    """How early a listener runs: ``HIGHEST`` first, ``LOWEST`` last."""

    LOWEST = 0
    LOW = 1
    MEDIUM = 2
    NORMAL = 2  # Nexios' name for the default level; an alias of MEDIUM.
    HIGH = 3
    HIGHEST = 4


PriorityLike = EventPriority | int | str | enum.Enum


def coerce_priority(value: Any) -> int:
    """Turn any accepted priority spelling into the integer the bus sorts by.

    Accepted: :class:`EventPriority`, plain ``int`` (bigger runs earlier), a
    level name such as ``"high"`` or ``"NORMAL"``, or any enum member whose
    *name* is one of the level names (this is how ``nexios.events.EventPriority``
    members work: their values are arbitrary ``auto()`` numbers, so we go by name).
    """
    if isinstance(value, EventPriority):
        return int(value)
    if isinstance(value, bool):
        raise TypeError(f"priority must be an EventPriority, a level name or an int, not {value!r}")
    if isinstance(value, int):
        return value
    name = value.name if isinstance(value, enum.Enum) else value
    if isinstance(name, str):
        try:
            return int(EventPriority[name.strip().upper()])
        except KeyError:
            pass
        names = ", ".join(m for m in EventPriority.__members__)
        raise ValueError(f"unknown priority {value!r}; use one of {names} or an int")
    raise TypeError(f"priority must be an EventPriority, a level name or an int, not {value!r}")
