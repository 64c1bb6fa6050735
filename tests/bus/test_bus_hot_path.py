"""The hot path of ``emit`` (one payload, plain sync listeners) keeps every rule.

``EventBus.emit`` runs such a plan in a plain loop and hands over to
``_resume_sync`` at the first listener that raises or returns something. Each
test warms the plan up with a clean emit first (so the plain loop is what runs),
then changes what one listener does.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import inspect
import logging
import pickle
import sys
import tracemalloc
from typing import Any
from unittest import mock

import pytest

from day25 import EmitResult, EventBus


class Switch:
    """A listener whose behaviour a test changes between emits."""

    def __init__(self, name: str, log: list[Any]) -> None:
        self.name, self.log = name, log
        self.action: Any = None
        self.__qualname__ = name

    def __call__(self, payload: Any) -> Any:
        self.log.append((self.name, payload))
        return self.action(payload) if self.action is not None else None


async def warmed(n: int, **options: Any) -> tuple[EventBus, list[Switch], list[Any]]:
    log: list[Any] = []
    bus = EventBus(**options)
    listeners = [Switch(f"l{i}", log) for i in range(n)]
    for fn in listeners:
        bus.on("e", fn)
    assert await bus.emit("e", "warm") == (n, ())
    log.clear()
    return bus, listeners, log


def _raise(exc: BaseException) -> Any:
    def action(payload: Any) -> None:
        raise exc

    return action


@pytest.mark.parametrize("k", [0, 2, 4])
async def test_a_listener_that_raises_does_not_stop_the_others(
    k: int, caplog: pytest.LogCaptureFixture
) -> None:
    bus, listeners, log = await warmed(5)
    boom = ValueError("boom")
    listeners[k].action = _raise(boom)
    with caplog.at_level(logging.ERROR, logger="day25.events"):
        result = await bus.emit("e", 7)
    assert log == [(f"l{i}", 7) for i in range(5)]
    assert result == EmitResult(5, (boom,))
    assert f"raised by listener l{k} for event 'e'" in boom.__notes__
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] == [boom]
    listeners[k].action = None
    assert await bus.emit("e", 8) == (5, ())  # the plan still runs clean


async def test_two_failing_listeners_and_raise_errors() -> None:
    bus, listeners, log = await warmed(4, raise_errors=True)
    listeners[1].action = lambda p: 1 / 0
    listeners[3].action = lambda p: [][1]
    pending = bus.emit("e", 1)  # no raise at the call: every listener ran
    assert len(log) == 4
    with pytest.raises(ExceptionGroup) as group:
        await pending
    assert [type(e) for e in group.value.exceptions] == [ZeroDivisionError, IndexError]


@pytest.mark.parametrize("k", [0, 3])
async def test_a_listener_returning_an_awaitable_is_awaited_in_order(k: int) -> None:
    bus, listeners, log = await warmed(4)

    async def later(p: Any) -> None:
        await asyncio.sleep(0)
        log.append(("awaited", p))

    listeners[k].action = later
    pending = bus.emit("e", 1)
    assert log == [(f"l{i}", 1) for i in range(k + 1)]  # the rest waits for the await
    assert await pending == (4, ())
    names = [name for name, _ in log]
    assert names == [f"l{i}" for i in range(k + 1)] + ["awaited"] + [
        f"l{i}" for i in range(k + 1, 4)
    ]


async def test_the_same_function_twice_runs_twice_and_hands_over_at_the_right_one() -> None:
    log: list[Any] = []
    bus = EventBus()
    first, twice, between = Switch("first", log), Switch("twice", log), Switch("between", log)
    for fn in (first, twice, between, twice):  # the same object twice: same rules
        bus.on("e", fn)
    assert await bus.emit("e", 0) == (4, ())
    calls = iter(range(1, 100))
    twice.action = lambda p: 1 / 0 if next(calls) % 2 == 0 else None  # its 2nd call raises
    result = await bus.emit("e", 1)
    assert [type(e) for e in result.errors] == [ZeroDivisionError] and result.ran == 4
    assert [name for name, _ in log] == ["first", "twice", "between", "twice"] * 2


async def test_a_listener_returning_a_plain_value_is_ignored() -> None:
    bus, listeners, log = await warmed(3)
    listeners[1].action = lambda p: 42
    pending = bus.emit("e", 1)
    assert len(log) == 3  # all ran before the await, as any sync plan
    assert await pending == (3, ())


async def test_on_off_and_reentrant_emit_during_an_emit_work_on_a_snapshot() -> None:
    bus, listeners, log = await warmed(3)
    late = Switch("late", log)

    def first(p: Any) -> None:
        if p == 1:
            bus.on("e", late)  # forgets the cached plan: the running emit keeps its own
            bus.off("e", listeners[2])
            bus.emit("e", 2)  # re-entrant, sees the new listeners

    listeners[0].action = first
    assert await bus.emit("e", 1) == (3, ())
    assert log == [("l0", 1), ("l0", 2), ("l1", 2), ("late", 2), ("l1", 1), ("l2", 1)]
    log.clear()
    await bus.emit("e", 3)
    assert log == [("l0", 3), ("l1", 3), ("late", 3)]


@pytest.mark.parametrize("error", [asyncio.CancelledError, KeyboardInterrupt])
async def test_base_exceptions_propagate_at_once(
    error: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    bus, listeners, log = await warmed(3)
    listeners[1].action = _raise(error("stop"))
    with caplog.at_level(logging.ERROR, logger="day25.events"), pytest.raises(error):
        bus.emit("e", 1)  # raised by emit itself: the sync listeners run inside it
    assert log == [("l0", 1), ("l1", 1)]
    assert not caplog.records


async def test_other_argument_shapes_take_the_general_paths() -> None:
    log: list[Any] = []
    bus = EventBus()
    bus.on("e", lambda *a, **kw: log.append((a, kw)))
    await bus.emit("e", 0)
    for args, kwargs in (((), {}), ((1, 2), {}), ((), {"x": 1}), ((1,), {"x": 2})):
        log.clear()
        assert await bus.emit("e", *args, **kwargs) == (1, ())
        assert log == [(args, kwargs)]
    with pytest.raises(TypeError, match="non-empty string"):
        bus.emit(5, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot emit the wildcard"):
        bus.emit("e:*", 1)
    with pytest.raises(TypeError):
        bus.emit()  # type: ignore[call-arg]


def test_emit_without_a_running_loop() -> None:
    log: list[Any] = []
    bus = EventBus()
    bus.on("e", log.append)
    for i in range(2):
        assert asyncio.run(bus.emit("e", i)) == (1, ())

    async def in_a_loop() -> EmitResult:
        return await bus.emit("e", 2)

    assert asyncio.run(in_a_loop()) == (1, ())
    pending = bus.emit("e", 3)  # no loop: runs now, gives an awaitable
    assert log == [0, 1, 2, 3]
    assert asyncio.run(pending) == (1, ())
    assert asyncio.run(bus.emit("e", 4)) == (1, ())


async def test_emit_is_a_plain_method_that_tools_can_wrap() -> None:
    bus = EventBus()
    bus.on("e", lambda p: None)
    assert inspect.ismethod(bus.emit) and bus.emit.__func__ is EventBus.emit
    real = EventBus.emit
    with mock.patch.object(EventBus, "emit", autospec=True, side_effect=real) as spy:
        assert (await bus.emit("e", 1)).ran == 1
    spy.assert_called_once_with(bus, "e", 1)

    class Counting(EventBus):
        calls = 0

        def emit(self, event: str, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += 1
            return super().emit(event, *args, **kwargs)

    counting = Counting()
    counting.on("e", lambda p: None)
    await counting.emit("e", 1)
    await counting.emit("e", 2)
    assert Counting.calls == 2


async def test_a_bus_can_be_copied_and_pickled_after_emitting() -> None:
    bus = EventBus(max_listeners=7)
    bus.on("e", print, priority="high")
    bus.on("e", repr)
    await bus.emit("e", "warm")  # its plan (and the plan's Finished) is cached now
    for clone in (copy.deepcopy(bus), pickle.loads(pickle.dumps(bus))):
        assert clone.listeners("e") == [print, repr] and clone.max_listeners == 7
        assert (await clone.emit("e", "x")).ran == 2
        clone.off("e", print)
        assert clone.listeners("e") == [repr] and bus.listeners("e") == [print, repr]


async def test_no_references_or_memory_leak_over_many_emits() -> None:
    bus, listeners, _ = await warmed(10)
    payload = object()
    gc.collect()
    before = sys.getrefcount(payload)
    tracemalloc.start()
    try:
        for _ in range(20_000):
            await bus.emit("e", payload)
        listeners[0].log.clear()
        first = tracemalloc.get_traced_memory()[0]
        for _ in range(20_000):
            await bus.emit("e", payload)
            if len(listeners[0].log) > 5_000:
                listeners[0].log.clear()
        listeners[0].log.clear()
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    gc.collect()
    assert sys.getrefcount(payload) == before
    assert grown < 64_000, grown


async def test_no_references_leak_on_the_hand_over_paths() -> None:
    bus, listeners, log = await warmed(3)
    payload, value = object(), object()
    listeners[1].action = lambda p: value  # a non-None result: handed over
    err = ValueError("x")
    listeners[2].action = _raise(err)
    logging.getLogger("day25.events").disabled = True
    try:
        gc.collect()
        before = (sys.getrefcount(payload), sys.getrefcount(value))
        for i in range(2_000):
            await bus.emit("e", payload)
            await bus.emit("e", payload, i)  # two payloads: the general path
            await bus.emit("e", payload, key=i)
            log.clear()
            err.__notes__.clear()
            err.__traceback__ = None
        gc.collect()
        assert (sys.getrefcount(payload), sys.getrefcount(value)) == before
    finally:
        logging.getLogger("day25.events").disabled = False
