"""The app process's log: every record a submission's app logs reaches its output.

Why: nexios logs through a ``QueueHandler`` whose ``QueueListener`` thread does
the writing, and the thread is started when nexios is imported. The sandboxed
runner imports nexios once in a warm zygote and forks the app process from it;
threads do not survive a fork, so the records queued in the child were never
written. The same app then showed a traceback under the portable runner and an
empty log in the sandbox, and a check of the log could grade the same code two
ways. :func:`write_queued_records_directly` swaps each such handler for a plain
``StreamHandler`` on ``sys.stderr`` with nexios' format, in either runner, so
the log is the same wherever the app runs.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys

__all__ = ["NEXIOS_FORMAT", "write_queued_records_directly"]

NEXIOS_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"  # nexios.logging's


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
                direct = logging.StreamHandler(sys.stderr)
                direct.setLevel(handler.level)
                direct.setFormatter(logging.Formatter(NEXIOS_FORMAT))
                logger.removeHandler(handler)
                logger.addHandler(direct)
                replaced += 1
    return replaced
