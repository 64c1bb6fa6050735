"""The inside process ends when the process that started it is gone.

Why: on Linux the sandbox asks the kernel for that (``PR_SET_PDEATHSIG``, see
:func:`day25.course.sandbox.rlimits.die_with_parent`). The portable runner
(macOS, Windows) has no such call, and an inside process leads a process group
of its own, out of reach of the terminal's Ctrl-C: a submission looping at its
top level would outlive a grading session that was killed (Ctrl-C in
``day25 check``, a timeout) and keep a core of the student's laptop busy. A
daemon thread looks twice a second whether the parent is still there; the
submission's code cannot stop it short of holding the GIL in C, as it could
stop the :mod:`~day25.course.inside.whereabouts` watcher.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["LIFELINE_NAME", "hold"]

LIFELINE_NAME = "day25-lifeline"  # not a thread of the submission's (apps.py)
PERIOD = 0.5  # seconds between two looks at the parent


def _parent_alive() -> Callable[[], bool] | None:
    """A test of whether this process's parent still runs (None: none on this system)."""
    parent = os.getppid()
    if sys.platform == "win32":  # Windows keeps the dead parent's id: hold its handle
        import _winapi

        synchronize, wait_object_0 = 0x00100000, 0
        try:
            handle = _winapi.OpenProcess(synchronize, False, parent)
        except OSError:
            return None
        return lambda: _winapi.WaitForSingleObject(handle, 0) != wait_object_0
    if parent <= 1:  # started by init (or already orphaned): nothing to watch
        return None
    return lambda: os.getppid() == parent  # an orphan is adopted by another process


def _watch(alive: Callable[[], bool]) -> None:
    while alive():
        time.sleep(PERIOD)
    os._exit(0)  # nobody is left to answer: end the submission's code too


def hold() -> None:
    """End this process, from a daemon thread, once its parent is gone."""
    alive = _parent_alive()
    if alive is not None:
        threading.Thread(target=_watch, args=(alive,), name=LIFELINE_NAME, daemon=True).start()
