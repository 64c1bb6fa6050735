"""How the bus tells a listener's failure: one log record, in the order things happened,
with a traceback that starts where the listener's code does.

Why a module: the bus catches a listener's exception to keep the other listeners
running, so nobody else prints it; this log line is how a student learns that their
listener raised. Two things made it hard to read in a notebook:

* it came *above* what the cell printed before the failure: the log goes to stderr at
  once, while stdout waits in a buffer (a pipe's, or Jupyter's);
* its traceback began with the bus's own frames (and the ``Recorder``'s wrapper),
  lines of course code a student did not write and need not read.

So stdout is flushed first, and the logged traceback skips the leading frames that are
day25's own. The exception itself is not changed: ``EmitResult.errors`` holds it with
its whole traceback, and a failure inside day25's own code keeps every frame.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from types import TracebackType

__all__ = ["log_failure"]

logger = logging.getLogger("day25.events")
#: day25's folder (the bus, the Recorder, ...), spelled as its code objects name it
_OWN = os.path.dirname(os.path.abspath(__file__)) + os.sep


def log_failure(exc: BaseException, listener: str, event: str) -> None:
    """Log that ``listener`` raised ``exc`` for ``event`` (an error, on ``day25.events``)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no stdout, or closed
        sys.stdout.flush()
    tb = from_the_listener(exc.__traceback__)
    logger.error("listener %s for event %r raised", listener, event,
                 exc_info=(type(exc), exc, tb))


def from_the_listener(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without its leading frames in day25's own files, unless that is all of it."""
    first = tb
    while first is not None and first.tb_frame.f_code.co_filename.startswith(_OWN):
        first = first.tb_next
    return tb if first is None else first
