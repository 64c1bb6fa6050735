"""settle: an app's worker thread is work to come until its item ends, however it waits.

A served app's loop gets a :class:`CountingExecutor`. A worker blocked on a lock, a socket
or ``time.sleep`` reads as asleep in ``/proc``, and the pool's idle count says "idle" once
a worker has taken an item that had queued behind the others: an app whose join looks a
name up with ``asyncio.to_thread`` was called settled mid-lookup, and its missing event
cost it the check.
"""

from __future__ import annotations

import asyncio
import threading
import time

from day25.course.inside.settle import CountingExecutor, loop_busy, settle


async def test_a_waiting_worker_and_one_that_queued_are_work() -> None:
    loop = asyncio.get_running_loop()
    executor = CountingExecutor()
    loop.set_default_executor(executor)
    started, gate = threading.Event(), threading.Event()

    def last() -> None:
        started.set()
        gate.wait(5)  # asleep, as far as /proc can tell

    # one more item than there are workers: the last one queues, then a worker that has
    # finished takes it without taking an idle slot
    quick = [asyncio.to_thread(time.sleep, 0.02) for _ in range(executor._max_workers)]
    held = asyncio.ensure_future(asyncio.to_thread(last))
    await asyncio.gather(*quick)
    assert await asyncio.to_thread(started.wait, 5)
    assert loop_busy(loop)
    assert not await settle(quiet=0.05, limit=0.3)
    gate.set()
    await held
    assert await settle(quiet=0.05, limit=2.0)
