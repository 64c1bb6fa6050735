"""Concurrent dispatch, fire-and-forget, and the many-listener paths."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from day25 import EventBus, EventPriority


async def test_emit_concurrent_overlaps_a_level_but_keeps_levels_in_order() -> None:
    bus = EventBus()
    log: list[str] = []

    def make(name: str) -> Any:
        async def listener() -> None:
            log.append(f"{name}:start")
            await asyncio.sleep(0.01)
            log.append(f"{name}:end")

        return listener

    bus.on("e", make("h1"), priority=EventPriority.HIGH)
    bus.on("e", make("h2"), priority=EventPriority.HIGH)
    bus.on("e", make("low"), priority=EventPriority.LOW)
    result = await bus.emit_concurrent("e")
    assert result.ran == 3
    assert log[:2] == ["h1:start", "h2:start"]  # the HIGH level overlapped
    assert log[-2:] == ["low:start", "low:end"]  # LOW waited for the whole level


async def test_emit_concurrent_collects_errors_and_honours_once() -> None:
    bus = EventBus()
    calls: list[int] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    bus.on("e", broken)
    bus.once("e", lambda: calls.append(1))
    first = await bus.emit_concurrent("e")
    second = await bus.emit_concurrent("e")
    assert [type(e) for e in first.errors] == [RuntimeError]
    assert first.ran == 2 and second.ran == 1 and calls == [1]


async def test_emit_concurrent_propagates_cancellation() -> None:
    bus = EventBus()

    async def cancelled() -> None:
        raise asyncio.CancelledError

    bus.on("e", cancelled)
    with pytest.raises(asyncio.CancelledError):
        await bus.emit_concurrent("e")


async def test_fire_keeps_a_reference_and_drain_waits_for_everything() -> None:
    bus = EventBus()
    log: list[int] = []

    async def slow(n: int) -> None:
        await asyncio.sleep(0.01)
        log.append(n)
        if n < 3:
            bus.fire("e", n + 1)  # fired while draining: drain waits for it too

    bus.on("e", slow)

    def sync_code() -> asyncio.Task[Any]:
        return bus.fire("e", 1)

    task = sync_code()
    del task
    gc.collect()  # a fire-and-forget task must not be collected mid-flight
    assert bus.pending == 1
    await bus.drain()
    assert log == [1, 2, 3]
    assert bus.pending == 0


async def test_fire_passes_keyword_payloads_untouched() -> None:
    bus = EventBus()
    got: list[dict[str, Any]] = []
    bus.on("e", lambda **kw: got.append(kw))
    await bus.fire("e", wait=True, concurrent=False)
    assert got == [{"wait": True, "concurrent": False}]


def test_fire_without_a_loop_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match=r"asyncio\.run"):
        EventBus().fire("e")


async def test_fire_validates_the_name_in_the_caller() -> None:
    with pytest.raises(TypeError, match="non-empty string"):
        EventBus().fire("")


async def test_fired_listener_errors_are_in_the_task_result_not_lost() -> None:
    bus = EventBus()
    bus.on("e", lambda: 1 / 0)
    result = await bus.fire("e")
    assert isinstance(result.errors[0], ZeroDivisionError)


async def test_many_listeners_and_many_results() -> None:
    bus = EventBus(max_listeners=0)
    count = [0]
    for _ in range(100):
        bus.on("e", lambda: count.__setitem__(0, count[0] + 1))
    result = await bus.emit("e")
    assert result.ran == 100 and count == [100]


async def test_async_fast_path_collects_errors() -> None:
    bus = EventBus()

    async def ok() -> None:
        pass

    async def bad() -> None:
        raise LookupError("x")

    bus.on("e", ok)
    bus.on("e", bad)
    result = await bus.emit("e")
    assert result.ran == 2 and isinstance(result.errors[0], LookupError)


async def test_the_plan_cache_stays_bounded() -> None:
    bus = EventBus()
    bus.on("*", lambda: None)
    for n in range(5000):
        await bus.emit(f"user.{n}.created")
    assert len(bus._plans) <= 2048
