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
"""

from __future__ import annotations

import asyncio
import builtins

from day25.course.protocol import LISTENER_ERRORS

__all__ = ["listener_error"]

_RAISES: dict[str, type[BaseException]] = {n: getattr(builtins, n) for n in LISTENER_ERRORS}
_RAISES |= {e.__name__: e for e in (asyncio.InvalidStateError, asyncio.CancelledError)}
_RAISES |= {n: getattr(builtins, n) for n in ("IndexError", "StopIteration", "TimeoutError")}


def listener_error(kind: str) -> type[BaseException]:
    """The exception class a listener with ``"raises": kind`` raises."""
    if kind == "WebSocketDisconnect":
        from nexios.websockets import WebSocketDisconnect  # only when asked: see above

        return WebSocketDisconnect
    return _RAISES.get(kind, RuntimeError)
