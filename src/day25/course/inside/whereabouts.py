"""Where the submission's code is running: its frames, named as the student names them.

Why: "did not finish within 10 s" tells a student that their code hung, not where.
The thread that hangs (a top level that never ends, a listener that never returns)
cannot say where it is, so a small watcher thread looks at the main thread twice a
second and tells the harness whenever the place changes
(:data:`~day25.course.protocol.INSIDE_AT`); the harness shows the last place with
the timeout. A loop in C that holds the GIL (``sum(range(10**12))``) stops the
watcher too: the place is then the last one seen, which is why the harness says
"last seen". :func:`places` also serves a thread that is asked about directly, such
as an app's blocked event loop.
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
from collections.abc import Callable
from types import FrameType

from day25.course.inside.channel import Channel
from day25.course.protocol import CODE_PLACES, INSIDE_AT, CodePlace

__all__ = ["WATCHER_NAME", "Watcher", "places", "places_of_thread"]

WATCHER_NAME = "day25-whereabouts"  # not a thread of the submission's (apps.py)


def places(frame: FrameType | None, folder: str) -> list[CodePlace]:
    """The frames of ``frame``'s stack that run a file in ``folder``, outermost first:
    the innermost :data:`~day25.course.protocol.CODE_PLACES` of them."""
    prefix = os.path.join(folder, "")
    found: list[CodePlace] = []
    while frame is not None and len(found) < CODE_PLACES:
        path = frame.f_code.co_filename
        if path.startswith(prefix):
            line = frame.f_lineno or 0
            found.append(CodePlace(file=os.path.relpath(path, folder), line=line,
                                   function=frame.f_code.co_name,
                                   code=linecache.getline(path, line).strip()))
        frame = frame.f_back
    found.reverse()
    return found


def places_of_thread(ident: int | None, folder: str) -> list[CodePlace]:
    """:func:`places` of the thread ``ident`` as it runs now (``[]`` if it is gone)."""
    frame = sys._current_frames().get(ident) if ident is not None else None
    try:
        return places(frame, folder)
    finally:
        del frame  # a frame holds its locals: never keep one


class Watcher(threading.Thread):
    """Calls ``report`` with where the submission's code runs in the thread that made the
    watcher, when that changes, every ``period`` seconds, until the process ends (a daemon
    thread). :meth:`on_channel` reports to the harness; ``day25 check``'s steps, which
    run without a harness, keep the place in a file."""

    def __init__(self, report: Callable[[list[CodePlace]], object], folder: str,
                 period: float = 0.5) -> None:
        super().__init__(name=WATCHER_NAME, daemon=True)
        self._report, self._folder, self._period = report, folder, period
        self._watched = threading.get_ident()

    @classmethod
    def on_channel(cls, channel: Channel, folder: str) -> Watcher:
        return cls(lambda at: channel.reply({"id": INSIDE_AT, "ok": True, "at": at}), folder)

    def run(self) -> None:
        seen: list[CodePlace] = []
        pause = threading.Event()  # never set: a sleep the interpreter's exit does not wait for
        while not pause.wait(self._period):
            now = places_of_thread(self._watched, self._folder)
            if now != seen:
                self._report(now)
                seen = now
