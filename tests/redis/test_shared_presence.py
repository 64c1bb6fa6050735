"""SharedPresence on a real redis-server: users, not tabs, across nodes; a silent
node's users are reaped within ttl + interval; a node that was reaped while alive
comes back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from day25 import EventBus
from day25.realtime import Broker, EventRelay, SharedPresence
from day25.realtime.shared_presence import PRESENCE_JOIN, PRESENCE_LEAVE

from .servers import RedisServer

TTL, INTERVAL = 1.0, 0.25


class Node:
    def __init__(self, url: str) -> None:
        self.broker = Broker(url, prefix="t")
        self.bus = EventBus()
        self.relay = EventRelay(self.broker, self.bus, events={PRESENCE_JOIN, PRESENCE_LEAVE},
                                block=0.1)
        self.presence = SharedPresence(self.broker, self.relay, space="chat", ttl=TTL,
                                       interval=INTERVAL)
        self.seen: list[tuple[str, str, bool]] = []
        self.bus.on(PRESENCE_JOIN, lambda e: self.seen.append(("join", e["user"], e["first"])))
        self.bus.on(PRESENCE_LEAVE, lambda e: self.seen.append(("leave", e["user"], True)))

    async def start(self) -> Node:
        await self.relay.start()
        await self.presence.start()
        return self

    async def stop(self, *, forget: bool = True) -> None:
        await self.presence.stop(forget=forget)
        await self.relay.stop()
        await self.broker.aclose()

    def announced(self) -> list[tuple[str, str]]:
        """Joins and leaves of users (first connection anywhere, last one gone)."""
        return [(kind, user) for kind, user, first in self.seen if first]


async def until(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting: {check.__code__.co_consts}"
        await asyncio.sleep(0.02)


async def test_a_user_with_tabs_on_two_nodes_is_one_user(redis_server: RedisServer) -> None:
    a, b = await Node(redis_server.url).start(), await Node(redis_server.url).start()
    try:
        assert await a.presence.track("lobby", "ann", "c1") is True
        assert await b.presence.track("lobby", "ann", "c2") is False, "second tab: no new join"
        assert await b.presence.roster("lobby") == ["ann"]
        assert await a.presence.connection_count("lobby", "ann") == 2
        assert await a.presence.untrack("lobby", "ann") is False, "a tab left on b"
        assert await b.presence.untrack("lobby", "ann") is True, "the last tab anywhere"
        assert await a.presence.roster("lobby") == []
        await until(lambda: len(b.seen) == 3)
        assert a.announced() == b.announced() == [("join", "ann"), ("leave", "ann")]
    finally:
        await a.stop()
        await b.stop()


async def test_a_silent_node_is_reaped_within_ttl_plus_interval(redis_server: RedisServer) -> None:
    a, b = await Node(redis_server.url).start(), await Node(redis_server.url).start()
    try:
        await a.presence.track("lobby", "ann", "c1")
        await a.presence.track("lobby", "bob", "c2")
        await b.presence.track("lobby", "bob", "c3")  # bob also has a tab on b
        await a.stop(forget=False)  # as if SIGKILLed: no goodbye, the TTL must do it
        died = time.monotonic()
        await until(lambda: ("leave", "ann") in b.announced(), within=TTL + INTERVAL + 3)
        took = time.monotonic() - died
        assert took <= TTL + INTERVAL + 0.5, f"ann left {took:.2f} s after her node died"
        assert await b.presence.roster("lobby") == ["bob"], "bob is still on b"
        assert ("leave", "bob") not in b.announced()
        client = redis_server.client()
        assert client.smembers("t:chat:nodes") == {b.broker.node}
        assert client.keys(f"t:chat:held:{a.broker.node}") == []
    finally:
        await b.stop()


async def test_a_node_reaped_while_alive_puts_its_users_back(redis_server: RedisServer) -> None:
    a, b = await Node(redis_server.url).start(), await Node(redis_server.url).start()
    try:
        await a.presence.track("lobby", "ann", "c1")
        # a's heartbeats do not get through for longer than the TTL: b reaps a
        await a.presence.stop(forget=False)
        await until(lambda: ("leave", "ann") in b.announced())
        await a.presence.start()  # its next heartbeat gets through: ann is back
        await until(lambda: b.announced().count(("join", "ann")) == 2)
        assert await b.presence.roster("lobby") == ["ann"]
    finally:
        await a.stop()
        await b.stop()


async def test_untrack_while_redis_is_down_is_written_back_later(tmp_path: Any) -> None:
    server = RedisServer(tmp_path / "r", aof=True).start()
    a = await Node(server.url).start()
    try:
        await a.presence.track("lobby", "ann", "c1")
        server.kill()
        assert await a.presence.untrack("lobby", "ann") is False  # could not tell Redis
        server.start()
        await until(lambda: server.client().smembers("t:chat:users:lobby") == set())
    finally:
        await a.stop()
        server.kill()


async def test_a_leave_redis_forgot_is_still_announced(tmp_path: Any) -> None:
    """ann leaves while Redis is down, and Redis comes back with nothing (no persistence):
    no node holds her, so Redis cannot tell her leave from nothing. The node she left says
    it on its next heartbeat, or every other server's members would list her for good."""
    server = RedisServer(tmp_path / "r").start()
    a, b = await Node(server.url).start(), await Node(server.url).start()
    try:
        await a.presence.track("lobby", "ann", "c1")
        await b.presence.track("lobby", "bob", "c2")
        await until(lambda: ("join", "ann") in b.announced())
        server.kill()
        assert await a.presence.untrack("lobby", "ann") is False  # could not tell Redis
        server.start()
        await b.presence.beat()  # another node's heartbeat gets through first
        await until(lambda: ("leave", "ann") in b.announced())
        await until(lambda: server.client().smembers("t:chat:users:lobby") == {"bob"})
        assert ("leave", "bob") not in b.announced()
        assert b.announced().count(("leave", "ann")) == 1
    finally:
        await a.stop()
        await b.stop()
        server.kill()


async def test_a_leave_the_reaper_announced_is_not_announced_again(
        redis_server: RedisServer) -> None:
    """ann leaves while her node is cut off for longer than the TTL: the reaper says she
    left; when the node is back, it must not say so a second time."""
    a, b = await Node(redis_server.url).start(), await Node(redis_server.url).start()
    try:
        await a.presence.track("lobby", "ann", "c1")
        await a.presence.stop(forget=False)  # a's heartbeats stop getting through
        await until(lambda: ("leave", "ann") in b.announced())
        change = a.presence._change

        async def cut_off(*args: Any, **kwargs: Any) -> Any:
            raise RedisConnectionError("a is cut off")

        a.presence._change = cut_off  # type: ignore[method-assign]
        assert await a.presence.untrack("lobby", "ann") is False  # could not tell Redis
        a.presence._change = change  # type: ignore[method-assign]
        await a.presence.start()  # back: a resyncs
        await b.presence.track("lobby", "bob", "c2")  # a later entry on the stream
        await until(lambda: ("join", "bob") in b.announced())
        assert b.announced().count(("leave", "ann")) == 1, b.announced()
        assert await b.presence.roster("lobby") == ["bob"]
    finally:
        await a.stop()
        await b.stop()
