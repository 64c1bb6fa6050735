"""The listeners of one bus, and the sorted *plan* each event name resolves to.

Why a module of its own: this is the bus's bookkeeping, kept apart from the
rules of emitting. A :class:`Registry` files every registration under its event
name or pattern and under the callable it was registered with, so ``on``,
``once``, ``off`` and a once-listener's removal cost the same with ten listeners
or ten thousand. ``EventBus.emit`` asks it for a :class:`Plan`: the event's
exact listeners merged with every matching wildcard, sorted by priority then
registration order, built on the first emit after a change and reused until the
next change. What a plan knows in advance (all sync? all async? any once or
wildcard?) picks the emit's path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from typing import Any

from day25.result import EmitResult, Finished

__all__ = ["Listener", "Plan", "Registry", "check_event", "pattern_matches"]

PLAN_CACHE_LIMIT = 2048  # distinct event names whose plans are kept at once


class Listener:
    """One registration: the callable, its priority and order, once or not."""

    __slots__ = ("callback", "is_async", "key", "names", "once", "order", "priority")

    def __init__(
        self, callback: Callable[..., Any], priority: int, order: int, once: bool, key: str
    ) -> None:
        self.callback = callback
        self.priority = priority
        self.order = order
        self.once = once
        self.key = key  # the event name or pattern it is registered under
        call = getattr(type(callback), "__call__", None)  # noqa: B004 - async __call__ objects
        self.is_async = inspect.iscoroutinefunction(callback) or (
            not inspect.isroutine(callback) and inspect.iscoroutinefunction(call)
        )
        # what off(key, fn) finds it by: the callable, and what it wraps (functools.wraps)
        wrapped = getattr(callback, "__wrapped__", None)
        self.names = (_name(callback),) if wrapped is None else (_name(callback), _name(wrapped))


def _name(fn: object) -> Hashable:
    """How a callable is looked up: by equality (bound methods are new objects each
    time, but equal), or by identity for the rare callable that cannot be hashed."""
    try:
        hash(fn)
    except TypeError:
        return ("unhashable", id(fn))
    return fn


class Plan:
    """The resolved, sorted listeners of one event name, cached until on/off."""

    __slots__ = ("awaited", "done", "entries", "has_async", "ok", "sync")

    def __init__(self, entries: tuple[Listener, ...]) -> None:
        self.entries = entries
        simple = not any(e.once or e.key.endswith("*") for e in entries)
        cbs = tuple(e.callback for e in entries)
        self.has_async = any(e.is_async for e in entries)
        # sync: the callables of a plan emit() may call in a plain loop, or None;
        # none twice, so that the loop knows a listener's position by the listener
        distinct = len(set(map(id, cbs))) == len(cbs)
        self.sync = cbs if simple and distinct and not self.has_async else None
        # awaited: the callables of a plan of only async functions, or None
        self.awaited = cbs if simple and entries and all(e.is_async for e in entries) else None
        self.ok = EmitResult(len(entries))
        self.done = Finished(self.ok)  # what every clean eager emit of this plan returns


def check_event(event: object, *, pattern_ok: bool) -> str:
    """``event`` if it is a valid event name (or, with ``pattern_ok``, a pattern)."""
    if not isinstance(event, str) or not event:
        raise TypeError(f"an event name must be a non-empty string, not {event!r}")
    star = event.find("*")
    if star != -1:
        if not pattern_ok:
            raise ValueError(f"cannot emit the wildcard pattern {event!r}; emit a concrete event")
        if event != "*" and not (event.endswith(":*") and star == len(event) - 1):
            raise ValueError(f"'*' may only be a whole last segment ('ui:*' or '*'), not {event!r}")
    return event


def pattern_matches(pattern: str, event: str) -> bool:
    """Whether the listeners of ``pattern`` (``"*"`` or ``"ui:*"``) hear ``event``."""
    return pattern == "*" or event.startswith(pattern[:-1])


class Registry:
    """Every registration of one bus, by key (event name or pattern) and by callable.

    ``by_key[key]`` holds a key's registrations in registration order, by their
    order number, so removing one is a dictionary deletion; ``_found[key]`` files
    them under what ``off`` looks them up by. ``plans`` caches one :class:`Plan`
    per emitted event name; a change to a name forgets that name's plan, a change
    to a pattern forgets them all, and the next emit rebuilds what it needs.
    """

    def __init__(self) -> None:
        self.by_key: dict[str, dict[int, Listener]] = {}
        self._found: dict[str, dict[Hashable, dict[int, Listener]]] = {}
        self._patterns: dict[str, None] = {}  # an ordered set of the keys ending in '*'
        self.plans: dict[str, Plan] = {}
        self._order = 0

    def add(self, key: str, callback: Callable[..., Any], priority: int, once: bool) -> int:
        """Register ``callback`` under ``key``; returns how many listeners ``key`` has now."""
        self._order += 1
        entry = Listener(callback, priority, self._order, once, key)
        entries = self.by_key.setdefault(key, {})
        entries[entry.order] = entry
        found = self._found.setdefault(key, {})
        for name in entry.names:
            found.setdefault(name, {})[entry.order] = entry
        if key.endswith("*"):
            self._patterns[key] = None
        self._forget(key)
        return len(entries)

    def find(self, key: str, callback: object) -> list[Listener]:
        """The registrations under ``key`` of ``callback`` or of a wrapper of it."""
        found = self._found.get(key, {}).get(_name(callback), {})
        return list(found.values())  # filed in registration order

    def remove(self, key: str, callback: object | None = None) -> None:
        """Remove ``callback``'s registrations under ``key``, or all of ``key``'s."""
        if key not in self.by_key:
            return
        if callback is None:
            self.by_key[key].clear()
        else:
            for entry in self.find(key, callback):
                self._drop(entry)
        self._forget(key)

    def claim(self, entry: Listener) -> bool:
        """Take a once-listener off the bus; False if someone already took it."""
        entries = self.by_key.get(entry.key)
        if entries is None or entries.get(entry.order) is not entry:
            return False
        self._drop(entry)
        self._forget(entry.key)
        return True

    def _drop(self, entry: Listener) -> None:
        del self.by_key[entry.key][entry.order]
        found = self._found[entry.key]
        for name in entry.names:
            same = found.get(name)
            if same is not None:
                same.pop(entry.order, None)
                if not same:
                    del found[name]

    def _forget(self, key: str) -> None:
        """Drop ``key`` once it has no listeners left, and the plans it was part of."""
        if not self.by_key.get(key):
            self.by_key.pop(key, None)
            self._found.pop(key, None)
            self._patterns.pop(key, None)
        if key.endswith("*"):
            self.plans.clear()
        else:
            self.plans.pop(key, None)

    def plan(self, event: str) -> Plan:
        """The cached plan of ``event``, built now if there is none."""
        plan = self.plans.get(event)
        if plan is None:
            check_event(event, pattern_ok=False)
            found = list(self.by_key.get(event, {}).values())
            for pattern in self._patterns:
                if pattern_matches(pattern, event):
                    found.extend(self.by_key[pattern].values())
            found.sort(key=_call_order)
            plan = Plan(tuple(found))
            if len(self.plans) >= PLAN_CACHE_LIMIT:
                self.plans.clear()
            self.plans[event] = plan
        return plan


def _call_order(entry: Listener) -> tuple[int, int]:
    return -entry.priority, entry.order
