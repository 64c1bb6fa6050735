"""How nexios logs in the course's own processes: the warm servers and the inside program.

The app process's log must show every record a submission's app logs.

Why: nexios logs through a ``QueueHandler`` whose ``QueueListener`` thread does
the writing, and the thread is started when nexios is imported. The sandboxed
runner imports nexios once in a warm server and forks the app process from it;
threads do not survive a fork, so the records queued in the child were never
written. The same app then showed a traceback under the portable runner and an
empty log in the sandbox, and a check of the log could grade the same code two
ways. And a warm server that forks while other threads run risks a child stuck
on a lock one of them held (Python 3.12 and later warn about it on every fork).

So :func:`log_nexios_directly` runs before nexios is imported, in the warm
servers and in the inside program alike: it gives the ``nexios`` logger a plain
``StreamHandler`` on ``sys.stderr`` with nexios' format, and nexios, which adds
its queue only to a logger that has no handler, starts no thread.
:func:`write_queued_records_directly` swaps any ``QueueHandler`` that appears
anyway for such a handler. The log is the same wherever the app runs.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from typing import Any

__all__ = ["NEXIOS_FORMAT", "log_nexios_directly", "write_queued_records_directly"]

NEXIOS_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"  # nexios.logging's


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes: a process forked from
    a warm server gets streams of its own after the handler was made."""

    def __init__(self, level: int) -> None:
        logging.Handler.__init__(self, level)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always sys.stderr


def _direct(level: int = logging.NOTSET) -> logging.Handler:
    handler = _Stderr(level)
    handler.setFormatter(logging.Formatter(NEXIOS_FORMAT))
    return handler


def log_nexios_directly() -> None:
    """Before nexios is imported: its loggers write to stderr from the thread that logs."""
    nexios = logging.getLogger("nexios")
    if not nexios.handlers:
        nexios.addHandler(_direct())


def write_queued_records_directly() -> int:
    """Replace every logger's ``QueueHandler`` with a ``StreamHandler`` on stderr;
    returns how many were replaced."""
    loggers = [logging.getLogger()] + [
        logger for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    replaced = 0
    for logger in loggers:
        for handler in list(logger.handlers):
            if isinstance(handler, logging.handlers.QueueHandler):
                logger.removeHandler(handler)
                logger.addHandler(_direct(handler.level))
                replaced += 1
    return replaced
