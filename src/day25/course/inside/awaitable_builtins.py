"""An awaitable that is an instance of a builtin value type too: ``returns_awaitable_list``.

Why a module of its own: :mod:`day25.course.inside.listeners` is at its size limit. The
shape came from the fifteenth blind batch (exercise 2), where a wrapper returned any
instance of a builtin type (``None``, numbers, ``str``, ``list``, ``dict``, ...) as a
plain value without asking ``inspect.isawaitable``: a fast path that never awaits a
subclass of one that has ``__await__``. The text says whatever the handler returns that
is awaitable is awaited, an empty collection with an ``__await__`` too.

Listener kind: ``returns_awaitable_list`` (a sync function that returns an object of a
subclass of ``list``, empty, with an ``__await__`` that runs the listener's body).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["AWAITABLE_LIST", "AwaitableList"]

#: the listener kind this module makes
AWAITABLE_LIST = "returns_awaitable_list"


class AwaitableList(list[Any]):
    """What a ``returns_awaitable_list`` listener returns: an empty ``list`` that is
    awaitable through its ``__await__`` (``isinstance(result, list)`` is true)."""

    def __init__(self, work: Coroutine[Any, Any, None]) -> None:
        super().__init__()
        self._work = work

    def __await__(self) -> Generator[Any, None, None]:
        return self._work.__await__()
