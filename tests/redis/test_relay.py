"""EventRelay on a real redis-server: every node's bus gets every event, in one order,
with one seq per key; a reader that loses Redis goes on where it stopped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from day25 import EventBus
from day25.realtime import Broker, BrokerUnavailable, EventRelay

from .relay_node import Node, until
from .servers import RedisServer


async def test_every_node_gets_every_event_in_one_order_with_one_seq_per_key(
    redis_server: RedisServer,
) -> None:
    async with Node(redis_server.url) as a, Node(redis_server.url) as b:

        async def send(node: Node, who: str) -> None:
            for i in range(50):
                room = "r1" if i % 2 else "r2"
                await node.relay.publish("room.message", room, {"room": room, "who": who, "i": i},
                                         seq=True)

        await asyncio.gather(send(a, "a"), send(b, "b"))  # two nodes publish at once
        await until(lambda: len(a.got) == 100 and len(b.got) == 100)
        assert a.got == b.got, "both nodes must see the same order"
        for room in ("r1", "r2"):
            seqs = [m["seq"] for m in a.got if m["room"] == room]
            assert seqs == list(range(1, 51)), f"{room}: seq must be 1..50 in order: {seqs}"
        mine = [m["i"] for m in a.got if m["who"] == "a"]
        assert mine == list(range(50)), "one publisher's events keep their order"


async def test_only_named_events_are_relayed(redis_server: RedisServer) -> None:
    async with Node(redis_server.url) as a:
        with pytest.raises(ValueError, match="not one of the relayed events"):
            await a.relay.publish("other.event", "k", {})
        published = await a.relay.publish("room.message", "k", {"n": 1})
        assert published.seq is None and "-" in published.id
        await until(lambda: len(a.got) == 1)
        assert a.got == [{"n": 1}], "no seq unless asked"


async def test_a_reader_that_loses_redis_goes_on_where_it_stopped(tmp_path: Any) -> None:
    server = RedisServer(tmp_path / "r", aof=True).start()
    try:
        async with Node(server.url) as a:
            for i in range(3):
                await a.relay.publish("room.message", "r", {"i": i}, seq=True)
            await until(lambda: len(a.got) == 3)
            server.kill()
            with pytest.raises(BrokerUnavailable, match="unreachable"):
                await a.relay.publish("room.message", "r", {"i": 99}, seq=True)
            await until(lambda: not a.relay.healthy)
            server.start()  # same port, same AOF: the stream and the counters are back
            other = Broker(server.url, prefix="t")
            relay = EventRelay(other, EventBus(), events={"room.message"})
            for i in range(3, 6):  # published by another node while a reconnects
                await relay.publish("room.message", "r", {"i": i}, seq=True)
            await other.aclose()
            await until(lambda: len(a.got) == 6)
            assert [m["seq"] for m in a.got] == [1, 2, 3, 4, 5, 6]
            assert a.relay.healthy
    finally:
        server.kill()


async def test_a_relay_started_before_redis_reads_once_it_answers(tmp_path: Any) -> None:
    from .servers import free_port

    port = free_port()
    async with Node(f"redis://127.0.0.1:{port}/0") as a:  # nothing listens there yet
        assert not a.relay.healthy
        with pytest.raises(BrokerUnavailable, match=r"unreachable .*start redis-server"):
            await a.relay.publish("room.message", "r", {"i": 0})
        server = RedisServer(tmp_path / "r", port=port).start()
        try:
            await until(lambda: a.relay.healthy)
            await a.relay.publish("room.message", "r", {"i": 1}, seq=True)
            await until(lambda: len(a.got) == 1)
            assert a.got == [{"i": 1, "seq": 1}]
        finally:
            server.kill()
