"""Check of step reentrant_once: ``once`` survives re-entrant and concurrent emits."""

from __future__ import annotations

import asyncio
from types import ModuleType

from day25 import EventBus, EventPriority


async def check(step: ModuleType) -> None:
    bus, calls = EventBus(), []

    async def shout(n: int) -> None:
        calls.append(n)
        if n == 1:
            await bus.emit("e", 2)  # the handler emits its own event again

    step.once(bus, "e", shout)
    await bus.emit("e", 1)
    assert calls, (
        "The async handler never ran: calling an async def handler only makes a coroutine; "
        "your wrapper must await what the handler returns (when it is awaitable)."
    )
    assert calls == [1], (
        f"The handler emits 'e' again while it runs: it must still run once; ran for {calls}."
    )

    bus, calls = EventBus(), []

    async def again(n: int) -> None:
        if n == 1:
            await bus.emit("e", 2)

    bus.on("e", again, priority=EventPriority.HIGH)
    step.once(bus, "e", lambda n: calls.append(n))
    await bus.emit("e", 1)
    assert calls, (
        "This once-handler never ran, though the first one did: is the flag that says "
        "'fired' shared by every once() (a module-level global, a class attribute)? Each "
        "once() needs its own."
    )
    assert calls == [2], (
        "A higher-priority listener emits 'e' again before the once-handler's turn: the inner "
        f"emit fires it, and the outer emit (whose snapshot still holds it) must not: got {calls}."
    )

    bus, calls = EventBus(), []

    async def slow(n: int) -> None:
        await asyncio.sleep(0)

    def record(n: int) -> None:
        calls.append(n)

    bus.on("e", slow, priority=EventPriority.HIGH)
    step.once(bus, "e", record)
    await asyncio.gather(bus.emit("e", 1), bus.emit("e", 2), bus.emit("e", 3))
    assert len(calls) == 1, f"Three emits at once: the handler runs once in total, not {calls}."
    left = [fn for fn in bus.listeners("e") if fn is not slow]
    assert not left, (
        f"After it fired, {len(left)} listener(s) of yours are still registered for 'e': your "
        "wrapper of the check's handler `record` (functools.wraps gives a wrapper the name of "
        "what it wraps). Take it off the bus (off) when it fires, so nothing of yours is left "
        "there."
    )
