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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = ["SETTLE_HORIZON", "CountingExecutor", "executor_busy", "loop_busy", "settle"]

SETTLE_HORIZON = 0.25  # a timer due sooner than this is work still to come


class CountingExecutor(ThreadPoolExecutor):
    """A served app's default executor (``asyncio.to_thread``, ``run_in_executor``), counting
    the work it was given and has not finished.

    Why: a worker in ``time.sleep`` or waiting on a socket reads as asleep in ``/proc``, and
    the pool's own idle count drifts once work queues (a worker that takes a queued item
    does not take an idle slot): counting submissions is the one exact answer.
    """

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="day25-app-worker")
        self._count_lock = threading.Lock()
        self._unfinished = 0

    @property
    def unfinished(self) -> int:
        return self._unfinished

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        with self._count_lock:
            self._unfinished += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: object) -> None:
        with self._count_lock:
            self._unfinished -= 1


def executor_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether the loop's default executor has work queued or a worker at work, running or
    not. Exact for a :class:`CountingExecutor`; for another pool, a guess from its idle
    count (a worker frees its slot of ``_idle_semaphore`` once its item is done)."""
    executor = getattr(loop, "_default_executor", None)
    if isinstance(executor, CountingExecutor):
        return executor.unfinished > 0
    threads = getattr(executor, "_threads", None)
    idle = getattr(getattr(executor, "_idle_semaphore", None), "_value", None)
    if threads is None or idle is None:
        return False
    queued = getattr(executor, "_work_queue", None)
    return len(threads) > idle or bool(queued is not None and queued.qsize())


def _threads_busy() -> bool:
    """Whether a thread other than the caller is running or in disk wait (``/proc``; on
    macOS and Windows only the executor's workers are seen, by :func:`executor_busy`)."""
    me = threading.get_native_id()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return False
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


def loop_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Callbacks ready to run, a timer due soon, or a worker thread at work: the app is still
    reacting (a hidden probe that drives tabs on the app's own loop asks this too)."""
    if len(getattr(loop, "_ready", ())) > 0:
        return True
    horizon = loop.time() + SETTLE_HORIZON
    for handle in getattr(loop, "_scheduled", ()):
        if not handle.cancelled() and handle.when() < horizon:
            return True
    # a worker of the loop's executor is busy even while it sleeps or waits on I/O (a thread
    # in ``time.sleep`` reads as sleeping in /proc): ``asyncio.to_thread`` is work to come
    return executor_busy(loop) or _threads_busy()


async def settle(quiet: float, limit: float) -> bool:
    """True once the app has had nothing to do for ``quiet`` seconds (False after ``limit``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    calm_since: float | None = None
    while loop.time() < deadline:
        await asyncio.sleep(0.005)
        if loop_busy(loop):
            calm_since = None
        elif calm_since is None:
            calm_since = loop.time()
        elif loop.time() - calm_since >= quiet:
            return True
    return False
