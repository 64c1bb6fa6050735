"""``settled()`` without ``/proc`` (macOS, Windows): a worker thread at work is still work.

On Linux the app process asks ``/proc`` which of its threads are running; elsewhere
it looks at the loop's default executor (``asyncio.to_thread``,
``run_in_executor``), so an app that does its I/O in a thread is not called
settled (and a frame still coming called missing) while the thread works.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from day25.course.inside import settle


@pytest.fixture
def no_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    listdir = os.listdir

    def without_proc(path: str) -> list[str]:
        if str(path).startswith("/proc"):
            raise FileNotFoundError(path)
        return listdir(path)

    monkeypatch.setattr(os, "listdir", without_proc)


async def test_a_busy_worker_thread_is_not_settled(no_proc: None) -> None:
    loop = asyncio.get_running_loop()
    work = asyncio.ensure_future(asyncio.to_thread(time.sleep, 0.6))
    await asyncio.sleep(0.05)
    assert settle.executor_busy(loop)
    assert not await settle.settle(quiet=0.05, limit=0.3)  # the thread still sleeps
    await work
    # its thread lives on, idle, once it gave back its slot: the worker does that just
    # after setting the result, so on a busy machine the loop may look a moment earlier
    for _ in range(200):  # at most 2 s
        if not settle.executor_busy(loop):
            break
        await asyncio.sleep(0.01)
    assert not settle.executor_busy(loop)
    assert await settle.settle(quiet=0.05, limit=1.0)

