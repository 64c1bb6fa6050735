"""Whether a served app has finished reacting: the inside half of ``AppServer.settled()``.

Why: "no frame will come" used to mean "none came within a timeout", which
made every failing check cost seconds and every silence check a guess. Here the
app's own event loop is asked: an app with no ready callbacks, no timer due
soon and no busy worker thread for a while has finished reacting to what it
was sent.
"""

from __future__ import annotations

import asyncio
import os
import threading

__all__ = ["SETTLE_HORIZON", "settle"]

SETTLE_HORIZON = 0.25  # a timer due sooner than this is work still to come


def _executor_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether the loop's default executor (``asyncio.to_thread``, ``run_in_executor``) has
    work queued or a worker at work: what :func:`_threads_busy` can see without ``/proc``
    (macOS, Windows). A worker frees its slot of ``_idle_semaphore`` once its item is done."""
    executor = getattr(loop, "_default_executor", None)
    threads = getattr(executor, "_threads", None)
    idle = getattr(getattr(executor, "_idle_semaphore", None), "_value", None)
    if threads is None or idle is None:
        return False
    queued = getattr(executor, "_work_queue", None)
    return len(threads) > idle or bool(queued is not None and queued.qsize())


def _threads_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether a thread other than the caller is running or in disk wait (``/proc``)."""
    me = threading.get_native_id()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return _executor_busy(loop)
    for tid in tasks:
        if tid == str(me):
            continue
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] in ("R", "D"):
            return True
    return False


def _loop_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Callbacks ready to run, a timer due soon, or a worker thread at work."""
    if len(getattr(loop, "_ready", ())) > 0:
        return True
    horizon = loop.time() + SETTLE_HORIZON
    for handle in getattr(loop, "_scheduled", ()):
        if not handle.cancelled() and handle.when() < horizon:
            return True
    return _threads_busy(loop)


async def settle(quiet: float, limit: float) -> bool:
    """True once the app has had nothing to do for ``quiet`` seconds (False after ``limit``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    calm_since: float | None = None
    while loop.time() < deadline:
        await asyncio.sleep(0.005)
        if _loop_busy(loop):
            calm_since = None
        elif calm_since is None:
            calm_since = loop.time()
        elif loop.time() - calm_since >= quiet:
            return True
    return False
