"""``id()`` as a graded module sees it in scenarios: a dead object's id goes to the next
object of its type at once.

Why: the texts say "keep no state by ``id`` in the module", because an id is unique only
among objects alive at the same time. CPython gives a freed address to the next object
of its size, but only when its allocator happens to; so a module that remembers, say,
``(id(bus), id(wrapper))`` of every once-listener that fired lost points in one run
and kept them all in another (a student's test: 25 of 25). Python allows an ``id()``
that reuses each dead object's id as soon as it can, and that is the ``id`` the module
gets here: state kept by id then meets a new object every time a scenario makes one
where an old one was, and a module that keeps none cannot tell the difference.

The ids given are odd numbers; an object that cannot be weakly referenced (an ``int``, a
``str``, a ``tuple``) gets its address, which is even, so the two never meet.
"""

from __future__ import annotations

import builtins
import weakref
from types import ModuleType
from typing import Any

__all__ = ["RecycledIds", "recycle_ids"]


class RecycledIds:
    """``id`` for one module: unique among live objects, reused by type once one dies."""

    def __init__(self) -> None:
        self._given: dict[int, tuple[weakref.ref[Any], int]] = {}  # address -> (ref, id)
        self._free: dict[type, list[int]] = {}  # the ids of dead objects, by their type
        self._last = -1

    def __call__(self, obj: object, /) -> int:
        address = builtins.id(obj)
        known = self._given.get(address)
        if known is not None and known[0]() is obj:
            return known[1]
        kind = type(obj)
        try:
            ref = weakref.ref(obj, lambda dead: self._died(address, kind, dead))
        except TypeError:
            return address
        free = self._free.get(kind)
        if free:
            given = free.pop()
        else:
            self._last += 2
            given = self._last
        self._given[address] = (ref, given)
        return given

    def _died(self, address: int, kind: type, ref: weakref.ref[Any]) -> None:
        known = self._given.get(address)
        if known is not None and known[0] is ref:
            del self._given[address]
            self._free.setdefault(kind, []).append(known[1])


def recycle_ids(module: ModuleType) -> None:
    """Give ``module`` a :class:`RecycledIds` as its ``id``, unless it defines one itself."""
    if "id" not in vars(module):
        module.id = RecycledIds()  # type: ignore[attr-defined]
