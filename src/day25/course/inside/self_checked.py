"""A listener object that knows itself: the ``"self_checked": true`` flag.

Why a module of its own: :mod:`day25.course.inside.listeners` is at its size limit,
and this shape came from the sixteenth blind batch (exercise 1), where an emit built
its snapshot with ``dataclasses.astuple``, which deep-copies every field: a bound
method or callable object was replaced by a copy of its object, and the copy was
called. The texts say the emit calls the listeners, the very handlers given to ``on``,
so a counter ``c`` registered as ``c.handle`` counts on ``c``, not on a throw-away copy.

The flag wraps a listener in a callable object that holds a weak reference to itself
(which ``copy.copy`` and ``copy.deepcopy`` keep as it is, so a copy's reference is the
original's): called as another object than the one made, a copy, it still records, and
reports it through ``misused``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["self_checked"]


class _SelfChecked:
    """A callable object that reports being called as a copy of itself."""

    def __init__(self, fn: Callable[..., Any], name: str, misused: Callable[[str], None]) -> None:
        self._fn, self._name, self._misused = fn, name, misused
        self._me = weakref.ref(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._me() is not self:
            self._misused(f"a copy of listener {self._name} (a callable object) was called, "
                          "not the object given to on: the emit calls the handler itself")
        return self._fn(*args, **kwargs)


def self_checked(made: Any, name: str, misused: Callable[[str], None]) -> Any:
    """``made`` as a callable object that reports a call on a copy of itself."""
    return _SelfChecked(made, name, misused)
