"""Three bugs of the bus (issue 12), each pinned by a test that failed before its fix.

1. The shared awaitable of a clean sync emit was bound to the first event loop
   that made it: ``add_done_callback`` on it in a later loop raised "Event loop
   is closed".
2. A sync-only emit from plain sync code warned "coroutine 'settled' was never
   awaited", until the event had once been emitted inside a loop.
3. ``current_event()`` in an exact (non-wildcard) listener raised on some paths
   and returned the name on others; it now returns the name on every path.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from day25 import EventBus, current_event


# -- 1: one finished awaitable, any event loop -----------------------------------
def test_the_awaitable_of_a_sync_emit_works_in_every_event_loop() -> None:
    bus = EventBus()
    log: list[int] = []
    bus.on("e", log.append)

    async def use(n: int) -> tuple[int, int]:
        pending = bus.emit("e", n)
        called: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        pending.add_done_callback(lambda done: called.set_result(done.result().ran))  # type: ignore[attr-defined]
        return await called, (await pending).ran

    assert asyncio.run(use(1)) == (1, 1)
    assert asyncio.run(use(2)) == (1, 1)  # a new loop: was RuntimeError('Event loop is closed')
    assert log == [1, 2]


def test_a_finished_emit_made_without_a_loop_is_awaited_in_any_loop() -> None:
    bus = EventBus()
    bus.on("e", lambda x: None)
    pending = bus.emit("e", 1)  # plain sync code: no loop anywhere
    assert asyncio.run(asyncio.wait_for(pending, 1)).ran == 1
    assert asyncio.run(asyncio.wait_for(pending, 1)).ran == 1  # and again, in another loop


# -- 2: no warning from a sync emit in sync code ---------------------------------
@pytest.mark.parametrize("emitted_in_a_loop_first", [False, True])
def test_a_sync_emit_in_plain_sync_code_does_not_warn(emitted_in_a_loop_first: bool) -> None:
    bus = EventBus()
    log: list[int] = []
    bus.on("e", log.append)
    if emitted_in_a_loop_first:
        asyncio.run(_emit(bus, 0))
    gc.collect()  # what earlier tests left (an unclosed file) must not warn in here
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bus.emit("e", 1)  # the listener ran; there is nothing left to await
        bus.emit("e")  # another argument shape, another path
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert log[-1:] == [1]


async def _emit(bus: EventBus, payload: Any) -> None:
    await bus.emit("e", payload)


def test_an_emit_with_errors_in_sync_code_logs_them_and_does_not_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    bus.on("e", lambda x: 1 / 0)
    gc.collect()  # as above: only what happens in here may warn in here
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pending = bus.emit("e", 1)
        assert asyncio.run(asyncio.wait_for(pending, 1)).ran == 1
        bus.emit("e", 2)
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert caplog.text.count("ZeroDivisionError") == 2


# -- 3: current_event() is the event's name in every listener --------------------
def _sync_recorder(seen: list[str]) -> Callable[..., None]:
    def listener(*args: Any, **kwargs: Any) -> None:
        seen.append(current_event())

    return listener


def _async_recorder(seen: list[str]) -> Callable[..., Any]:
    async def listener(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        seen.append(current_event())

    return listener


EMITS: dict[str, Callable[[EventBus], Any]] = {
    "emit one payload": lambda bus: bus.emit("e", 1),
    "emit no payload": lambda bus: bus.emit("e"),
    "emit keywords": lambda bus: bus.emit("e", 1, k=2),
    "emit_concurrent": lambda bus: bus.emit_concurrent("e", 1),
    "fire": lambda bus: bus.fire("e", 1),
    "namespace": lambda bus: bus.namespace("ns").emit("e", 1),
}


@pytest.mark.parametrize("how", list(EMITS))
@pytest.mark.parametrize("kinds", ["sync", "async", "sync+async", "once", "raising first"])
@pytest.mark.parametrize("wildcard_elsewhere", [False, True])
async def test_current_event_is_the_name_in_exact_listeners_on_every_path(
    how: str, kinds: str, wildcard_elsewhere: bool
) -> None:
    bus = EventBus()
    seen: list[str] = []
    name = "ns:e" if how == "namespace" else "e"
    if wildcard_elsewhere:
        bus.on("other:*", print)  # a pattern on the bus that does not match
    if kinds == "raising first":
        bus.on(name, lambda *a, **kw: 1 / 0)
    if kinds == "once":
        bus.once(name, _sync_recorder(seen))
    if "sync" in kinds or kinds == "raising first":
        bus.on(name, _sync_recorder(seen))
    if "async" in kinds:
        bus.on(name, _async_recorder(seen))
    await EMITS[how](bus)
    assert seen and seen == [name] * len(seen)


async def test_current_event_in_a_nested_emit_and_after_it() -> None:
    bus = EventBus()
    seen: list[str] = []

    def outer(x: int) -> None:
        seen.append(current_event())
        bus.emit("inner", x)
        seen.append(current_event())  # back in "outer" once the nested emit returned

    async def outer_async(x: int) -> None:
        await bus.emit("inner", x)
        seen.append(current_event())

    bus.on("outer", outer)
    bus.on("outer", outer_async)
    bus.on("inner", lambda x: seen.append(current_event()))
    await bus.emit("outer", 1)
    assert seen == ["outer", "inner", "outer", "inner", "outer"]


async def test_current_event_outside_a_listener_is_a_clear_error() -> None:
    bus = EventBus()
    started: list[asyncio.Task[str]] = []

    async def starts_a_task(x: int) -> None:
        started.append(asyncio.ensure_future(_name_later()))

    bus.on("e", starts_a_task)
    await bus.emit("e", 1)
    with pytest.raises(RuntimeError, match="only works inside a listener"):
        current_event()
    with pytest.raises(RuntimeError, match="only works inside a listener"):
        await started[0]  # a task a listener starts runs outside the emit


async def _name_later() -> str:
    await asyncio.sleep(0)
    return current_event()
