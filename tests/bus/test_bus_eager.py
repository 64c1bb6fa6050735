"""The eager rule: with only sync listeners, ``emit`` runs them before it returns;
awaiting gives the result. With any async listener, nothing runs until awaited."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import pytest

from day25 import EmitResult, EventBus, current_event


def sync_bus(log: list[Any], n: int = 3, **options: Any) -> EventBus:
    bus = EventBus(**options)
    for i in range(n):
        bus.on("e", lambda *a, i=i, **kw: log.append((i, a, kw)))
    return bus


async def test_sync_listeners_ran_before_the_await_and_await_gives_the_result() -> None:
    log: list[Any] = []
    bus = sync_bus(log)
    pending = bus.emit("e", "payload")
    assert [i for i, _, _ in log] == [0, 1, 2]  # before any await
    result = await pending
    assert isinstance(result, EmitResult) and result == (3, ())
    assert len(log) == 3  # awaiting does not run them again


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), ((1, 2), {}), ((), {"event": "x", "payload": 1}), ((1,), {"k": 2})],
)
async def test_every_argument_shape_of_a_sync_plan_is_eager(args: Any, kwargs: Any) -> None:
    log: list[Any] = []
    bus = sync_bus(log, 2)
    pending = bus.emit("e", *args, **kwargs)
    assert log == [(0, args, kwargs), (1, args, kwargs)]  # keyword names are not stolen
    assert (await pending).ran == 2


async def test_once_and_wildcard_sync_plans_are_eager_too() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.once("ui:click", lambda: seen.append("once"))
    bus.on("ui:*", lambda: seen.append(current_event()))
    pending = bus.emit("ui:click")
    assert seen == ["once", "ui:click"]
    with pytest.raises(RuntimeError):
        current_event()  # reset when emit returned
    assert (await pending).ran == 2
    assert (await bus.emit("ui:click")).ran == 1


async def test_errors_are_in_the_awaited_result() -> None:
    bus = EventBus()
    bus.on("e", lambda x: 1 / 0)
    bus.on("e", lambda x: None)
    result = await bus.emit("e", 1)
    assert result.ran == 2 and isinstance(result.errors[0], ZeroDivisionError)


async def test_raise_errors_comes_out_of_the_await_after_all_listeners_ran() -> None:
    log: list[Any] = []
    bus = EventBus(raise_errors=True)
    bus.on("e", lambda x: 1 / 0)
    bus.on("e", lambda x: log.append(x))
    pending = bus.emit("e", 7)  # no raise at the call
    assert log == [7]
    with pytest.raises(ExceptionGroup) as group:
        await pending
    assert isinstance(group.value.exceptions[0], ZeroDivisionError)


async def test_base_exceptions_leave_the_eager_emit_at_once() -> None:
    bus = EventBus()

    def interrupt(x: int) -> None:
        raise KeyboardInterrupt

    bus.on("e", interrupt)
    with pytest.raises(KeyboardInterrupt):
        bus.emit("e", 1)


async def test_a_plan_with_an_async_listener_is_lazy_and_keeps_priority_order() -> None:
    log: list[str] = []
    bus = EventBus()

    async def middle() -> None:
        log.append("async")

    bus.on("e", lambda: log.append("high"), priority="high")
    bus.on("e", middle)
    bus.on("e", lambda: log.append("low"), priority="low")
    pending = bus.emit("e")
    assert log == []  # nothing ran: not even the sync HIGH listener
    assert (await pending).ran == 3
    assert log == ["high", "async", "low"]


@pytest.mark.parametrize("payload", [(), (1,)], ids=["no payload", "one payload"])
async def test_an_unawaited_emit_with_async_listeners_warns_naming_emit(
        payload: tuple[int, ...]) -> None:
    """The warning names what the student called (``emit``), not a private method, and
    so does the coroutine's repr (what ``print(bus.emit(...))`` shows)."""
    bus = EventBus()

    async def listener(*args: int) -> None:
        pass

    bus.on("e", listener)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pending = bus.emit("e", *payload)
        assert repr(pending).startswith("<coroutine object EventBus.emit at ")
        del pending
        gc.collect()
    said = {str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)}
    assert said == {"coroutine 'EventBus.emit' was never awaited"}, said


async def test_a_sync_listener_returning_an_awaitable_makes_the_rest_wait() -> None:
    log: list[str] = []
    bus = EventBus()

    async def work(x: int) -> None:
        await asyncio.sleep(0)
        log.append(f"awaited {x}")

    bus.on("e", lambda x: log.append("first"))
    bus.on("e", lambda x: work(x))
    bus.on("e", lambda x: log.append("last"))
    pending = bus.emit("e", 1)
    assert log == ["first"]  # eager up to the first real wait
    assert (await pending).ran == 3
    assert log == ["first", "awaited 1", "last"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_create_task_ensure_future_and_gather_take_both_plan_kinds(kind: str) -> None:
    log: list[int] = []
    bus = EventBus()
    if kind == "sync":
        bus.on("e", log.append)
    else:

        async def listener(x: int) -> None:
            log.append(x)

        bus.on("e", listener)
    assert (await asyncio.create_task(bus.emit("e", 1))).ran == 1
    assert (await asyncio.ensure_future(bus.emit("e", 2))).ran == 1
    results = await asyncio.gather(bus.emit("e", 3), bus.emit("e", 4), bus.emit("e", 5))
    assert [r.ran for r in results] == [1, 1, 1]
    assert (await asyncio.wait_for(bus.emit("e", 6), 5)).ran == 1
    assert sorted(log) == [1, 2, 3, 4, 5, 6]


def test_asyncio_run_takes_an_emit_made_outside_any_loop() -> None:
    log: list[int] = []
    bus = EventBus()
    bus.on("e", log.append)
    assert asyncio.run(bus.emit("e", 1)).ran == 1
    assert asyncio.run(bus.emit("e", 2)).ran == 1
    assert log == [1, 2]


async def test_namespaces_are_eager_like_the_bus() -> None:
    log: list[str] = []
    ui = EventBus().namespace("ui")
    ui.on("click", log.append)
    pending = ui.emit("click", "ok")
    assert log == ["ok"]
    assert (await pending).ran == 1


async def test_fire_still_runs_listeners_in_the_task_not_in_the_call() -> None:
    log: list[int] = []
    bus = EventBus()
    bus.on("e", log.append)
    task = bus.fire("e", 1)
    assert log == [] and bus.pending == 1
    assert (await task).ran == 1 and log == [1]
