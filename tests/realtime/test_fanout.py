"""Rooms fan-out: serialise once, send at once, slow members wait in their own outbox."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from day25.realtime import SLOW_CONSUMER_CLOSE, Delivery, Rooms, SlowConsumer
from day25.realtime import rooms as rooms_module

MESSAGE = {"type": "message", "text": "héllo", "seq": 1}


def wire(message: Any) -> str:
    """What a Nexios WebSocket's send_json puts on the wire for ``message``."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


class TextConn:
    """Like a Nexios WebSocket: send_text and close. ``block()`` makes sends wait."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.got: list[str] = []
        self.gate: asyncio.Event | None = None
        self.closed: tuple[int, str] | None = None

    def block(self) -> asyncio.Event:
        self.gate = asyncio.Event()
        return self.gate

    async def send_json(self, data: Any) -> None:
        raise AssertionError("a connection with send_text must get the serialised text")

    async def send_text(self, text: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.got.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    def __repr__(self) -> str:
        return f"TextConn({self.name})"


def room_of(rooms: Rooms[TextConn], *names: str) -> list[TextConn]:
    conns = [TextConn(n) for n in names]
    for conn in conns:
        rooms.join("r", conn)
    return conns


def run_without_suspending(coro: Any) -> Any:
    """Drive ``coro`` one step; it must finish without ever waiting on the loop."""
    with pytest.raises(StopIteration) as done:
        coro.send(None)
    return done.value.value


async def test_when_sockets_take_the_bytes_a_broadcast_never_waits() -> None:
    rooms: Rooms[TextConn] = Rooms()
    conns = room_of(rooms, "a", "b", "c")
    delivery = run_without_suspending(rooms.deliver("r", MESSAGE))
    assert delivery == Delivery(3, ())
    assert [c.got for c in conns] == [[wire(MESSAGE)]] * 3
    assert all(rooms.queued(c) == 0 for c in conns)


async def test_the_message_is_serialised_once_per_broadcast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Any] = []
    real_dumps = json.dumps

    def counting_dumps(obj: Any, **kwargs: Any) -> str:
        calls.append(obj)
        return real_dumps(obj, **kwargs)

    monkeypatch.setattr(rooms_module.json, "dumps", counting_dumps)
    rooms: Rooms[TextConn] = Rooms()
    conns = room_of(rooms, *(f"m{i}" for i in range(50)))
    assert await rooms.broadcast("r", MESSAGE) == 50
    assert calls == [MESSAGE]
    assert all(c.got == [wire(MESSAGE)] for c in conns)


async def test_a_blocked_member_waits_in_its_outbox_and_the_others_do_not() -> None:
    rooms: Rooms[TextConn] = Rooms()
    fast, slow, last = room_of(rooms, "fast", "slow", "last")
    gate = slow.block()
    messages = [{"seq": i} for i in range(5)]
    for message in messages:
        assert run_without_suspending(rooms.deliver("r", message)) == Delivery(3, ())
    assert fast.got == last.got == [wire(m) for m in messages]  # all of them, at once
    assert slow.got == [] and rooms.queued(slow) == 4  # one send in flight, four in line
    gate.set()
    await asyncio.wait_for(rooms.flush(), 5)
    assert slow.got == [wire(m) for m in messages]  # all, in broadcast order
    assert rooms.queued(slow) == 0 and rooms.members("r") == [fast, slow, last]
    await rooms.broadcast("r", {"seq": 5})  # back on the direct path
    assert slow.got[-1] == wire({"seq": 5})


async def test_a_full_outbox_drops_the_member_and_closes_it_with_a_clear_code() -> None:
    dropped: list[tuple[str, TextConn, BaseException]] = []
    rooms: Rooms[TextConn] = Rooms(
        outbox_size=3, on_drop=lambda room, conn, err: dropped.append((room, conn, err))
    )
    fast, slow = room_of(rooms, "fast", "slow")
    slow.block()
    results = [await rooms.deliver("r", {"seq": i}) for i in range(5)]
    assert [r.sent for r in results] == [2, 2, 2, 2, 1]  # in flight, 3 in line, overflow
    assert [c for c, _ in results[4].dropped] == [slow]
    assert isinstance(results[4].dropped[0][1], SlowConsumer)
    assert [(room, conn) for room, conn, _ in dropped] == [("r", slow)]
    assert rooms.members("r") == [fast] and len(fast.got) == 5
    for _ in range(10):
        await asyncio.sleep(0)
    assert slow.closed == (SLOW_CONSUMER_CLOSE, "slow consumer")
    assert SLOW_CONSUMER_CLOSE == 4408


async def test_a_send_blocked_longer_than_the_timeout_is_a_slow_consumer() -> None:
    dropped: list[BaseException] = []
    rooms: Rooms[TextConn] = Rooms(
        send_timeout=0.05, on_drop=lambda room, conn, err: dropped.append(err)
    )
    fast, stuck = room_of(rooms, "fast", "stuck")
    stuck.block()  # never released
    assert await rooms.broadcast("r", MESSAGE) == 2
    await asyncio.wait_for(rooms.flush(), 5)
    for _ in range(10):
        await asyncio.sleep(0)
    assert len(dropped) == 1 and isinstance(dropped[0], SlowConsumer)
    assert stuck.closed == (SLOW_CONSUMER_CLOSE, "slow consumer")
    assert rooms.members("r") == [fast] and stuck.got == []


async def test_leaving_keeps_what_was_already_queued_and_one_outbox_spans_rooms() -> None:
    rooms: Rooms[TextConn] = Rooms()
    conn = TextConn("two-rooms")
    rooms.join("a", conn)
    rooms.join("b", conn)
    gate = conn.block()
    await rooms.broadcast("a", "a1")
    await rooms.broadcast("b", "b1")
    await rooms.broadcast("a", "a2")
    rooms.leave("a", conn)
    rooms.leave("b", conn)
    assert rooms.rooms() == []
    gate.set()
    await asyncio.wait_for(rooms.flush(), 5)
    assert conn.got == [wire("a1"), wire("b1"), wire("a2")]  # one connection, one order
    assert rooms.queued(conn) == 0
