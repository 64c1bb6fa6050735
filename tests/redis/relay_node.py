"""A node of a relayed chat, as the Redis tests build it: a broker, a bus, a relay, and
every event its bus emitted (and ``until``, to wait for it without sleeping blind)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from typing import Any

from day25 import EventBus
from day25.realtime import Broker, EventRelay

WITHIN = 30.0  # a bound that only a hang reaches: never hit when the code is right


class Node:
    """One process's view: a bus, a relay, and every event its bus emitted."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "t",
        events: Collection[str] = ("room.message",),
        maxlen: int = 10_000,
    ) -> None:
        self.broker = Broker(url, prefix=prefix)
        self.bus = EventBus()
        self.relay = EventRelay(self.broker, self.bus, events=events, maxlen=maxlen, block=0.2)
        self.heard: list[tuple[str, dict[str, Any]]] = []
        for event in ("room.message", "room.join"):  # listened to, relayed or not
            self.bus.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Callable[[dict[str, Any]], None]:
        def record(data: dict[str, Any]) -> None:
            self.heard.append((event, data))

        return record

    @property
    def got(self) -> list[dict[str, Any]]:
        """The payloads of ``room.message`` this node's bus emitted, in order."""
        return [data for event, data in self.heard if event == "room.message"]

    async def __aenter__(self) -> Node:
        await self.relay.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.relay.stop()
        await self.broker.aclose()


async def until(check: Callable[[], bool], within: float = WITHIN) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)
