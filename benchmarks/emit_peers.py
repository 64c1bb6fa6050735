"""The other emitters ``benchmarks/emit.py`` measures beside day25: pyee, blinker and
Nexios' own, each dispatching to the same listeners as the bus's contenders.

A module of its own so that ``emit.py`` holds the day25 contenders, the scale runs and
the report; a peer that is not installed is left out of the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

SINK: list[Any] = []  # what every benchmark listener appends to (cleared now and then)
Bench = Callable[[int], Awaitable[None]]


def calling(emit: Callable[..., Any]) -> Bench:
    async def run(n: int) -> None:
        for i in range(n):
            emit("e", i)
            if len(SINK) > 10_000:
                SINK.clear()

    return run


def sync_peers(hs: list[Callable[[Any], None]]) -> dict[str, Bench]:
    """pyee, blinker and Nexios, each calling the sync listeners ``hs``."""
    out: dict[str, Bench] = {}
    try:
        from pyee import EventEmitter as PyeeEmitter

        pyee = PyeeEmitter()
        for h in hs:
            pyee.on("e", h)
        out["pyee emit"] = calling(pyee.emit)
    except ImportError:
        pass
    try:
        from blinker import Signal

        signal = Signal()
        for h in hs:
            signal.connect(h, weak=False)

        async def blinker_send(n: int) -> None:
            for i in range(n):
                signal.send(i)
                if len(SINK) > 10_000:
                    SINK.clear()

        out["blinker send"] = blinker_send
    except ImportError:
        pass
    from nexios.events import EventEmitter

    nexios = EventEmitter()
    for h in hs:
        nexios.on("e", h)
    out["nexios emit"] = calling(nexios.emit)
    return out


def async_peers(hs: list[Callable[[Any], Awaitable[None]]]) -> dict[str, Bench]:
    """blinker, pyee's asyncio emitter and Nexios (tasks), each with the async listeners."""
    out: dict[str, Bench] = {}
    try:
        from blinker import Signal

        signal = Signal()
        for h in hs:
            signal.connect(h, weak=False)

        async def blinker_send_async(n: int) -> None:
            for i in range(n):
                await signal.send_async(i, _sync_wrapper=None)  # type: ignore[arg-type]
                if len(SINK) > 10_000:
                    SINK.clear()

        out["blinker send_async"] = blinker_send_async
    except ImportError:
        pass
    try:
        from pyee.asyncio import AsyncIOEventEmitter

        async def pyee_async(n: int) -> None:
            pyee = AsyncIOEventEmitter()
            for h in hs:
                pyee.on("e", h)
            for i in range(n):
                pyee.emit("e", i)
                if i % 1000 == 999:
                    await pyee.wait_for_complete()
                    SINK.clear()
            await pyee.wait_for_complete()

        out["pyee asyncio (drained)"] = pyee_async
    except ImportError:
        pass
    from nexios.events import EventEmitter

    async def nexios_tasks(n: int) -> None:
        nexios = EventEmitter()
        for h in hs:
            nexios.on("e", h)
        for i in range(n):
            nexios.emit("e", i)
            if i % 1000 == 999:
                for _ in range(3):  # let the unreferenced tasks run
                    await asyncio.sleep(0)
                SINK.clear()
        for _ in range(3):
            await asyncio.sleep(0)

    out["nexios (tasks, drained)"] = nexios_tasks
    return out
