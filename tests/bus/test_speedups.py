"""The C hot path of ``emit`` (day25._speedups) keeps every rule of the Python one.

conftest.py runs each test with the C emitter and with pure Python: the same
assertions must hold for both. A plan only reaches the C loop once it has a
shared ``done`` (after its first clean emit inside a loop), so each test warms the
plan up with a clean emit first, then changes what a listener does.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import os
import subprocess
import sys
import tracemalloc
import weakref
from typing import Any

import pytest

from day25 import EmitResult, EventBus, accelerator


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


def test_the_extension_is_built_and_used(implementation: str) -> None:
    # No silent pure Python: CI installs gcc (.ci/system-deps), so this must hold there.
    assert accelerator.built(), "day25._speedups was not compiled: pip install -e . with gcc"
    import day25._speedups as speedups

    bus = EventBus()
    assert accelerator.implementation() == implementation
    if implementation == "C":
        assert type(bus.emit) is speedups.Emitter
    else:
        assert inspect.ismethod(bus.emit) and bus.emit.__func__ is EventBus.emit


def test_the_environment_switch_forces_pure_python() -> None:
    code = "import day25; from day25 import accelerator as a; print(a.implementation(), "
    code += "type(day25.EventBus().emit).__name__)"
    for value, expected in (("1", "Python method"), ("", "C Emitter")):
        env = {**os.environ, "DAY25_NO_EXTENSIONS": value}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert out.stdout.strip() == expected, out.stderr


def test_asking_for_c_without_the_extension_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(accelerator, "_built", False)
    with pytest.raises(RuntimeError, match="not built"):
        accelerator.use_c(True)


@pytest.mark.parametrize("k", [0, 2, 4])
async def test_a_listener_that_raises_does_not_stop_the_others(
    k: int, caplog: pytest.LogCaptureFixture
) -> None:
    bus, listeners, log = await warmed(5)
    boom = ValueError("boom")
    listeners[k].action = lambda p: (_ for _ in ()).throw(boom)
    with caplog.at_level(logging.ERROR, logger="day25.events"):
        result = await bus.emit("e", 7)
    assert log == [(f"l{i}", 7) for i in range(5)]
    assert result == EmitResult(5, (boom,))
    assert f"raised by listener l{k} for event 'e'" in boom.__notes__
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] == [boom]
    assert boom.__traceback__ is not None  # logged with where it came from
    listeners[k].action = None
    assert await bus.emit("e", 8) == (5, ())  # the plan is still the fast one


async def test_two_failing_listeners_and_raise_errors() -> None:
    bus, listeners, log = await warmed(4, raise_errors=True)
    listeners[1].action = lambda p: 1 / 0
    listeners[3].action = lambda p: [][1]
    with pytest.raises(ExceptionGroup) as group:
        await bus.emit("e", 1)
    assert [type(e) for e in group.value.exceptions] == [ZeroDivisionError, IndexError]
    assert len(log) == 4


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
            bus.on("e", late)  # clears the cached plans: the running emit keeps its own
            bus.off("e", listeners[2])
            bus.emit("e", 2)  # re-entrant, sees the new listeners

    listeners[0].action = first
    result = await bus.emit("e", 1)
    assert result == (3, ())
    assert log == [("l0", 1), ("l0", 2), ("l1", 2), ("late", 2), ("l1", 1), ("l2", 1)]
    log.clear()
    await bus.emit("e", 3)
    assert log == [("l0", 3), ("l1", 3), ("late", 3)]


@pytest.mark.parametrize("error", [asyncio.CancelledError, KeyboardInterrupt])
async def test_base_exceptions_propagate_at_once(
    error: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    bus, listeners, log = await warmed(3)

    def stop(p: Any) -> None:
        raise error("stop")

    listeners[1].action = stop
    with caplog.at_level(logging.ERROR, logger="day25.events"), pytest.raises(error):
        bus.emit("e", 1)  # raised by emit itself: the sync listeners run inside it
    assert log == [("l0", 1), ("l1", 1)]
    assert not caplog.records


async def test_other_argument_shapes_go_to_the_python_emit() -> None:
    log: list[Any] = []
    bus = EventBus()
    bus.on("e", lambda *a, **kw: log.append((a, kw)))
    await bus.emit("e", 0)
    for args, kwargs in (((), {}), ((1, 2), {}), ((), {"x": 1}), ((1,), {"x": 2})):
        log.clear()
        assert await bus.emit("e", *args, **kwargs) == (1, ())
        assert log == [(args, kwargs)]
    log.clear()
    await bus.emit("e", 1, x=2)  # literal keywords: a different call path in C than **kwargs
    await bus.emit("e", x=3)
    await bus.emit("e", *range(12), k=4)  # more arguments than the C code's small buffer
    assert log == [((1,), {"x": 2}), ((), {"x": 3}), (tuple(range(12)), {"k": 4})]
    with pytest.raises(TypeError, match="non-empty string"):
        bus.emit(5, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot emit the wildcard"):
        bus.emit("e:*", 1)
    with pytest.raises(TypeError):
        bus.emit()  # type: ignore[call-arg]
    assert await EventBus.emit(bus, "e", 9) == (1, ())  # the documented method still works


def test_emit_without_a_running_loop() -> None:
    log: list[Any] = []
    bus = EventBus()
    bus.on("e", log.append)
    for i in range(2):
        assert asyncio.run(bus.emit("e", i)) == (1, ())  # made without a loop: no shared done

    async def warm() -> EmitResult:
        return await bus.emit("e", 2)

    assert asyncio.run(warm()) == (1, ())  # the plan's shared done, of a loop now closed
    pending = bus.emit("e", 3)  # no loop: runs now, gives an awaitable
    assert log == [0, 1, 2, 3]
    assert asyncio.run(pending) == (1, ())
    assert asyncio.run(bus.emit("e", 4)) == (1, ())


async def test_a_subclass_that_overrides_emit_keeps_its_emit() -> None:
    class Counting(EventBus):
        calls = 0

        def emit(self, event: str, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += 1
            return super().emit(event, *args, **kwargs)

    bus = Counting()
    bus.on("e", lambda p: None)
    await bus.emit("e", 1)
    await bus.emit("e", 2)
    assert Counting.calls == 2


async def test_emit_looks_like_the_method_it_replaces() -> None:
    bus = EventBus()
    assert inspect.signature(bus.emit) == inspect.signature(EventBus.emit.__get__(bus))
    assert bus.emit.__self__ is bus and bus.emit.__name__ == "emit"
    ref = weakref.ref(bus)
    del bus
    gc.collect()
    assert ref() is None  # the emitter's reference back to the bus is collectable


async def test_no_references_or_memory_leak_over_many_emits() -> None:
    bus, listeners, _ = await warmed(10)
    payload = object()
    plan = bus._plans["e"]
    done = plan.done
    listeners[9].action = lambda p: None
    gc.collect()
    before = (sys.getrefcount(payload), sys.getrefcount(done), sys.getrefcount(plan))
    tracemalloc.start()
    try:
        for _ in range(3):
            for _ in range(33_000):
                await bus.emit("e", payload)
            listeners[0].log.clear()
        first = tracemalloc.get_traced_memory()[0]
        for _ in range(100_000):
            await bus.emit("e", payload)
            if len(listeners[0].log) > 10_000:
                listeners[0].log.clear()
        listeners[0].log.clear()
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    gc.collect()
    assert (sys.getrefcount(payload), sys.getrefcount(done), sys.getrefcount(plan)) == before
    assert grown < 64_000, grown


async def test_no_references_leak_on_the_hand_over_paths() -> None:
    bus, listeners, log = await warmed(3)
    payload, value = object(), object()
    listeners[1].action = lambda p: value  # a non-None result: handed to Python
    err = ValueError("x")
    listeners[2].action = lambda p: (_ for _ in ()).throw(err)
    logging.getLogger("day25.events").disabled = True
    try:
        gc.collect()
        before = (sys.getrefcount(payload), sys.getrefcount(value))
        for i in range(2_000):
            await bus.emit("e", payload)
            await bus.emit("e", payload, i)  # two payloads: the Python emit
            await bus.emit("e", payload, key=i)
            log.clear()
            err.__notes__.clear()
            err.__traceback__ = None
        gc.collect()
        assert (sys.getrefcount(payload), sys.getrefcount(value)) == before
    finally:
        logging.getLogger("day25.events").disabled = False
