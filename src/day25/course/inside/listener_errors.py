"""What a scenario listener raises (``"raises"``): the exception classes, by name.

Why a module of its own: :mod:`day25.course.inside.scenarios` is at its size limit.
``"raises": true`` (or a name not listed) raises ``RuntimeError``; the names of
``LISTENER_ERRORS`` (``"ValueError"``, ``"KeyError"``, ``"TypeError"``), ``"IndexError"``,
``"StopIteration"``, ``"TimeoutError"``: Python's; ``"InvalidStateError"``,
``"CancelledError"``: asyncio's (as ``set_result`` of a cancelled Future raises the first);
``"WebSocketDisconnect"`` (twenty-third batch): Nexios' own, as a send to a browser tab
that just closed raises it, which the lessons catch as "a normal goodbye" in a socket loop,
while to a bus it is a listener's error like any other. Nexios is imported only when that
one is asked for (importing it costs tenths of a second; the priority checks import it).
``"ExceptionGroup"`` (twenty-fifth batch): a group of one ``ValueError``, as a handler
whose own ``TaskGroup`` failed raises; it is that handler's exception, not the one inside.
``"SystemExit"`` (twenty-sixth batch): a "quit" listener calling ``sys.exit()``; not an
``Exception``, so it must come out of ``emit`` to its caller, and a coroutine run as a Task
lets it out of the event loop instead (the scenario then says so).

:class:`Raised` keeps what the listeners of one scenario raised, so that the exception
that reaches the bus or the emit's caller can be told from a stand-in for it: a copy, one
re-made from it, the same object without its ``__cause__`` or with other arguments (a
wrapper that rewrote its message in place). The texts ask for the listener's own.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable
from typing import Any

from day25.course.protocol import LISTENER_ERRORS

__all__ = ["Raised", "listener_error"]

_RAISES: dict[str, type[BaseException]] = {n: getattr(builtins, n) for n in LISTENER_ERRORS}
_RAISES |= {e.__name__: e for e in (asyncio.InvalidStateError, asyncio.CancelledError)}
_RAISES |= {n: getattr(builtins, n)
            for n in ("IndexError", "StopIteration", "TimeoutError", "SystemExit")}


def _group(message: str) -> ExceptionGroup[ValueError]:
    return ExceptionGroup(message, [ValueError(f"inside: {message}")])


def listener_error(kind: str) -> Callable[[str], BaseException]:
    """What makes the exception a listener with ``"raises": kind`` raises, from its message."""
    if kind == "ExceptionGroup":
        return _group
    if kind == "WebSocketDisconnect":
        from nexios.websockets import WebSocketDisconnect  # only when asked: see above

        made: Callable[[str], BaseException] = WebSocketDisconnect  # type: ignore[assignment]
        return made  # the message goes in as its code, which Nexios keeps as given
    return _RAISES.get(kind, RuntimeError)


class Raised:
    """What the listeners of one scenario raised, to tell their own from stand-ins."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._causes: dict[int, BaseException] = {}  # id(raised) -> its "cause"
        self._args: dict[int, tuple[Any, ...]] = {}  # id(raised) -> its arguments when raised

    def make(self, kind: str, name: str, *, cause: bool) -> BaseException:
        """The exception listener ``name`` raises, kept (``cause``: raised from another)."""
        error = listener_error(kind)(f"listener {name} failed")
        self.errors.append(error)
        self._args[id(error)] = error.args
        if cause:  # raised from another exception: that __cause__ is part of it
            self._causes[id(error)] = error.__cause__ = LookupError(f"why {name} failed")
        return error

    def replaced(self, error: BaseException) -> bool:
        """``error`` stands for what a listener raised but is another object of its type:
        a copy (the same arguments), or one re-made from it (raised ``from`` it, or
        quoting its message). The listener's own exception was not handed on."""
        return not any(error is r for r in self.errors) and any(
            type(error) is type(r) and (error.args == r.args or r in (error.__cause__,
                                        error.__context__) or str(r) in str(error))
            for r in self.errors)

    def name(self, error: BaseException) -> str:
        """The type name of an error in the bus's result, or what replaced or changed it."""
        name = type(error).__name__
        if any(error is r for r in self.errors):
            if error.__cause__ is not self._causes.get(id(error), error.__cause__):
                return f"the {name} a listener raised, without its __cause__"
            if error.args != self._args[id(error)]:
                return f"the {name} a listener raised, its arguments changed to {error.args!r:.80}"
        return f"another {name} than the one a listener raised" if self.replaced(error) else name
