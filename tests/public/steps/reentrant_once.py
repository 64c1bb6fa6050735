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
    assert calls == [2], (
        "A higher-priority listener emits 'e' again before the once-handler's turn: the inner "
        f"emit fires it, and the outer emit (whose snapshot still holds it) must not: got {calls}."
    )

    bus, calls = EventBus(), []

    async def slow(n: int) -> None:
        await asyncio.sleep(0)

    bus.on("e", slow, priority=EventPriority.HIGH)
    step.once(bus, "e", lambda n: calls.append(n))
    await asyncio.gather(bus.emit("e", 1), bus.emit("e", 2), bus.emit("e", 3))
    assert len(calls) == 1, f"Three emits at once: the handler runs once in total, not {calls}."
    assert bus.listeners("e") == [slow], "After it fired, nothing of yours is left on the bus."
