"""Every rule in day25.bus's docstring, one test each (or a few); the rules about event
names are in test_bus_names.py."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import pytest
from nexios.events import EventPriority as NexiosPriority

from day25 import EmitResult, EventBus, EventPriority


def recorder(log: list[Any], name: str, *, is_async: bool = False) -> Any:
    if is_async:

        async def alistener(*args: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0)
            log.append((name, args, kwargs))

        alistener.__qualname__ = name
        return alistener

    def listener(*args: Any, **kwargs: Any) -> None:
        log.append((name, args, kwargs))

    listener.__qualname__ = name
    return listener


def names(log: list[Any]) -> list[str]:
    return [entry[0] for entry in log]


# -- on / decorator / return values ----------------------------------------
async def test_on_as_decorator_and_call_return_the_handler_unchanged() -> None:
    bus = EventBus()
    log: list[Any] = []

    @bus.on("user.created")
    async def handle(user: dict[str, str]) -> None:
        log.append(user["name"])

    direct = recorder(log, "direct")
    assert bus.on("user.created", direct) is direct
    assert handle.__name__ == "handle"
    result = await bus.emit("user.created", {"name": "Bob"})
    assert log[0] == "Bob"
    assert result == EmitResult(ran=2, errors=())


async def test_kwargs_reach_listeners_and_are_not_stolen() -> None:
    bus = EventBus()
    log: list[Any] = []
    bus.on("e", recorder(log, "a"))
    bus.on("e", recorder(log, "b", is_async=True))
    # names the bus itself might want (priority, concurrent, wait) stay the payload's
    await bus.emit("e", 1, priority="x", concurrent=True, wait=False)
    assert log == [
        ("a", (1,), {"priority": "x", "concurrent": True, "wait": False}),
        ("b", (1,), {"priority": "x", "concurrent": True, "wait": False}),
    ]


async def test_sync_and_async_listeners_are_awaited_in_turn() -> None:
    bus = EventBus()
    log: list[str] = []

    async def slow() -> None:
        log.append("slow:start")
        await asyncio.sleep(0.01)
        log.append("slow:end")

    bus.on("e", slow)
    bus.on("e", lambda: log.append("sync"))
    await bus.emit("e")
    assert log == ["slow:start", "slow:end", "sync"]


async def test_a_sync_listener_returning_an_awaitable_is_awaited() -> None:
    bus = EventBus()
    log: list[int] = []

    async def work(x: int) -> None:
        log.append(x)

    bus.on("e", lambda x: work(x))  # a lambda wrapping a coroutine function
    await bus.emit("e", 7)
    assert log == [7]


async def test_callable_object_with_async_call_is_awaited() -> None:
    bus = EventBus()
    log: list[int] = []

    class Handler:
        async def __call__(self, x: int) -> None:
            await asyncio.sleep(0)
            log.append(x)

    bus.on("e", Handler())
    await bus.emit("e", 3)
    assert log == [3]


# -- priorities ---------------------------------------------------------------
async def test_high_before_medium_before_low_ties_in_registration_order() -> None:
    bus = EventBus()
    log: list[Any] = []
    bus.on("e", recorder(log, "low1"), priority=EventPriority.LOW)
    bus.on("e", recorder(log, "med1"))
    bus.on("e", recorder(log, "high1", is_async=True), priority=EventPriority.HIGH)
    bus.on("e", recorder(log, "low2", is_async=True), priority=EventPriority.LOW)
    bus.on("e", recorder(log, "high2"), priority=EventPriority.HIGH)
    bus.on("e", recorder(log, "med2", is_async=True), priority=EventPriority.MEDIUM)
    await bus.emit("e")
    assert names(log) == ["high1", "high2", "med1", "med2", "low1", "low2"]


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        (EventPriority.MEDIUM, 2),
        (EventPriority.NORMAL, 2),
        (NexiosPriority.NORMAL, 2),
        (NexiosPriority.HIGHEST, 4),
        (NexiosPriority.LOWEST, 0),
        ("high", 3),
        ("Medium", 2),
        (10, 10),
    ],
)
async def test_priority_spellings_of_the_lesson_and_of_nexios(spelling: Any, expected: int) -> None:
    bus = EventBus()
    log: list[Any] = []
    bus.on("e", recorder(log, "probe"), priority=spelling)
    for level in range(-1, 12):
        bus.on("e", recorder(log, str(level)), priority=level)
    await bus.emit("e")
    order = names(log)
    # the probe runs just before the listener of its own level (ties: registered first)
    assert order.index("probe") == order.index(str(expected)) - 1


def test_bad_priorities_are_clear_errors() -> None:
    bus = EventBus()
    with pytest.raises(ValueError, match="unknown priority 'URGENT'"):
        bus.on("e", print, priority="URGENT")
    with pytest.raises(TypeError, match="priority must be"):
        bus.on("e", print, priority=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="priority must be"):
        bus.on("e", print, priority=True)
    assert bus.listeners("e") == []


# -- once ---------------------------------------------------------------------
async def test_once_fires_once_as_in_the_lesson() -> None:
    bus = EventBus()
    log: list[str] = []

    @bus.once("first.login")
    async def first_login(user: str) -> None:
        log.append(user)

    assert first_login.__name__ == "first_login"
    assert (await bus.emit("first.login", "Alice")).ran == 1
    assert (await bus.emit("first.login", "Alice")).ran == 0
    assert log == ["Alice"]


async def test_once_survives_reentrant_emit_from_its_own_listener() -> None:
    bus = EventBus()
    log: list[int] = []

    async def again(n: int) -> None:
        log.append(n)
        await bus.emit("e", n + 1)  # would fire again if it were still registered

    bus.once("e", again)
    await bus.emit("e", 1)
    assert log == [1]


async def test_once_fires_once_under_concurrent_emits() -> None:
    bus = EventBus()
    log: list[int] = []

    async def slow_first(n: int) -> None:
        await asyncio.sleep(0)

    bus.on("e", slow_first, priority=EventPriority.HIGH)  # every emit yields first
    bus.once("e", recorder(log, "once"))
    await asyncio.gather(*(bus.emit("e", n) for n in range(5)))
    assert len(log) == 1


async def test_off_with_the_original_cancels_a_once_before_it_fires() -> None:
    bus = EventBus()
    log: list[Any] = []
    fn = recorder(log, "x")
    bus.once("e", fn)
    bus.off("e", fn)
    assert (await bus.emit("e")).ran == 0
    assert log == []


async def test_off_matches_functools_wraps_wrappers() -> None:
    bus = EventBus()
    log: list[Any] = []
    fn = recorder(log, "inner")

    @functools.wraps(fn)
    def wrapper(*args: Any) -> None:
        fn(*args)

    bus.on("e", wrapper)
    bus.off("e", fn)
    await bus.emit("e")
    assert log == []


# -- off ------------------------------------------------------------------------
async def test_off_removes_one_handler_or_all_and_missing_is_fine() -> None:
    bus = EventBus()
    log: list[Any] = []
    a, b = recorder(log, "a"), recorder(log, "b")
    bus.on("e", a)
    bus.on("e", a)  # registered twice: runs twice
    bus.on("e", b)
    await bus.emit("e")
    assert names(log) == ["a", "a", "b"]
    bus.off("e", a)  # removes every registration of a
    log.clear()
    await bus.emit("e")
    assert names(log) == ["b"]
    bus.off("e")
    bus.off("e")  # nothing left: not an error
    bus.off("never.registered", b)
    assert bus.listeners("e") == [] and "e" not in bus.event_names()


async def test_off_works_with_bound_methods() -> None:
    bus = EventBus()
    log: list[str] = []

    class Widget:
        def clicked(self) -> None:
            log.append("clicked")

    w = Widget()
    bus.on("click", w.clicked)
    bus.off("click", w.clicked)  # a new bound-method object, equal to the first
    await bus.emit("click")
    assert log == []


# -- snapshot -----------------------------------------------------------------
async def test_changes_during_an_emit_apply_from_the_next_emit() -> None:
    bus = EventBus()
    log: list[Any] = []
    late = recorder(log, "late")
    victim = recorder(log, "victim")

    def first() -> None:
        log.append(("first", (), {}))
        bus.on("e", late)
        bus.off("e", victim)

    bus.on("e", first)
    bus.on("e", victim)
    await bus.emit("e")
    assert names(log) == ["first", "victim"]
    log.clear()
    await bus.emit("e")
    assert names(log) == ["first", "late"]


# -- errors -------------------------------------------------------------------
async def test_a_raising_listener_does_not_stop_the_others(caplog: Any) -> None:
    bus = EventBus()
    log: list[Any] = []

    def broken(x: int) -> None:
        raise ValueError(f"bad {x}")

    async def abroken(x: int) -> None:
        raise KeyError(x)

    bus.on("e", broken, priority="high")
    bus.on("e", abroken)
    bus.on("e", recorder(log, "after"), priority="low")
    with caplog.at_level(logging.ERROR, logger="day25.events"):
        result = await bus.emit("e", 1)
    assert names(log) == ["after"]
    assert result.ran == 3 and not result.ok
    assert [type(e) for e in result.errors] == [ValueError, KeyError]
    assert "broken" in caplog.text and "'e'" in caplog.text
    assert any("raised by listener" in note for note in result.errors[0].__notes__)
    with pytest.raises(ExceptionGroup) as group:
        result.raise_errors()
    assert len(group.value.exceptions) == 2


async def test_raise_errors_opt_in_raises_after_all_listeners_ran() -> None:
    bus = EventBus(raise_errors=True)
    log: list[Any] = []
    bus.on("e", lambda: 1 / 0)
    bus.on("e", recorder(log, "still runs"))
    with pytest.raises(ExceptionGroup) as group:
        await bus.emit("e")
    assert names(log) == ["still runs"]
    assert isinstance(group.value.exceptions[0], ZeroDivisionError)


async def test_cancellation_propagates_and_is_not_collected() -> None:
    bus = EventBus()
    log: list[Any] = []

    async def cancelled() -> None:
        raise asyncio.CancelledError

    bus.on("e", cancelled)
    bus.on("e", recorder(log, "after"))
    with pytest.raises(asyncio.CancelledError):
        await bus.emit("e")
    assert log == []


async def test_keyboard_interrupt_in_a_sync_listener_propagates() -> None:
    bus = EventBus()

    def interrupt() -> None:
        raise KeyboardInterrupt

    bus.on("e", interrupt)
    with pytest.raises(KeyboardInterrupt):
        await bus.emit("e")
