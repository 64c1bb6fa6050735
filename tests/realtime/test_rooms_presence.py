"""Rooms broadcast survives bad members; presence counts users, not tabs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from day25.realtime import PresenceTracker, Rooms, SlowConsumer


class Conn:
    """A fake connection: records what it got, or fails/hangs on demand."""

    def __init__(self, name: str, mode: str = "ok") -> None:
        self.name = name
        self.mode = mode
        self.got: list[Any] = []

    async def send_json(self, data: Any) -> None:
        if self.mode == "raise":
            raise ConnectionResetError(f"{self.name} is gone")
        if self.mode == "hang":
            await asyncio.sleep(3600)
        await asyncio.sleep(0)
        self.got.append(data)

    def __repr__(self) -> str:
        return f"Conn({self.name})"


async def test_broadcast_reaches_every_member_in_order() -> None:
    rooms: Rooms[Conn] = Rooms()
    a, b = Conn("a"), Conn("b")
    assert rooms.join("r", a) and rooms.join("r", b)
    assert not rooms.join("r", a)  # idempotent
    results = await asyncio.gather(*(rooms.broadcast("r", {"n": i}) for i in range(20)))
    assert results == [2] * 20
    await rooms.flush()
    assert a.got == b.got == [{"n": i} for i in range(20)]


async def test_a_failing_member_is_dropped_and_others_still_get_it() -> None:
    dropped: list[tuple[str, Conn, BaseException]] = []
    rooms: Rooms[Conn] = Rooms(
        send_timeout=0.2, on_drop=lambda room, conn, err: dropped.append((room, conn, err))
    )
    a, bad, c = Conn("a"), Conn("bad", "raise"), Conn("c")
    for conn in (a, bad, c):
        rooms.join("r", conn)
    delivery = await asyncio.wait_for(rooms.deliver("r", "hello"), 5)
    assert delivery.sent == 2
    assert [conn for conn, _ in delivery.dropped] == [bad]
    await rooms.flush()
    assert a.got == c.got == ["hello"]
    assert rooms.members("r") == [a, c]
    assert [(r, conn) for r, conn, _ in dropped] == [("r", bad)]
    assert isinstance(dropped[0][2], ConnectionResetError)


async def test_a_hanging_member_is_dropped_as_slow_and_holds_up_nobody() -> None:
    dropped: list[tuple[str, Conn, BaseException]] = []
    rooms: Rooms[Conn] = Rooms(
        send_timeout=0.2, on_drop=lambda room, conn, err: dropped.append((room, conn, err))
    )
    a, bad, c = Conn("a"), Conn("bad", "hang"), Conn("c")
    for conn in (a, bad, c):
        rooms.join("r", conn)
    delivery = await asyncio.wait_for(rooms.deliver("r", "hello"), 0.1)  # not held up
    assert delivery == (3, ())  # the hanging send has not failed yet: it is in flight
    await asyncio.wait_for(rooms.flush(), 5)
    assert a.got == c.got == ["hello"] and bad.got == []
    assert rooms.members("r") == [a, c]
    assert [(r, conn) for r, conn, _ in dropped] == [("r", bad)]
    assert isinstance(dropped[0][2], SlowConsumer) and isinstance(dropped[0][2], TimeoutError)


async def test_join_and_leave_during_a_broadcast_do_not_break_it() -> None:
    rooms: Rooms[Conn] = Rooms()

    class Leaver(Conn):
        async def send_json(self, data: Any) -> None:
            rooms.leave("r", self)
            rooms.join("r", Conn("late"))
            await super().send_json(data)

    a, leaver, c = Conn("a"), Leaver("leaver"), Conn("c")
    for conn in (a, leaver, c):
        rooms.join("r", conn)
    assert await rooms.broadcast("r", 1) == 3  # the snapshot still includes the leaver
    await rooms.flush()
    assert a.got == leaver.got == c.got == [1]
    assert [m.name for m in rooms.members("r")] == ["a", "c", "late"]


async def test_async_on_drop_and_empty_room() -> None:
    seen: list[str] = []

    async def on_drop(room: str, conn: Conn, err: BaseException) -> None:
        seen.append(conn.name)

    rooms: Rooms[Conn] = Rooms(on_drop=on_drop)
    assert await rooms.broadcast("nobody", "x") == 0
    rooms.join("r", Conn("x", "raise"))
    assert await rooms.broadcast("r", "x") == 0
    assert seen == ["x"]
    assert "r" not in rooms and rooms.rooms() == []
    assert not rooms.leave("r", Conn("x"))


def test_rooms_are_per_instance_and_validate_timeout() -> None:
    one: Rooms[Conn] = Rooms()
    two: Rooms[Conn] = Rooms()
    one.join("r", Conn("a"))
    assert two.members("r") == []
    with pytest.raises(ValueError, match="send_timeout"):
        Rooms(send_timeout=0)
    with pytest.raises(ValueError, match="outbox_size"):
        Rooms(outbox_size=0)


def test_presence_two_tabs_count_once() -> None:
    p: PresenceTracker[str] = PresenceTracker()
    assert p.track("lobby", "ada", "tab1") is True
    assert p.track("lobby", "ada", "tab2") is False
    assert p.track("lobby", "ada", "tab2") is False  # idempotent
    assert p.track("lobby", "bob", "tab3") is True
    assert p.roster("lobby") == ["ada", "bob"]
    assert (p.user_count("lobby"), p.connection_count("lobby")) == (2, 3)
    assert p.untrack("lobby", "ada", "tab1") is False  # one tab still open
    assert p.roster("lobby") == ["ada", "bob"]
    assert p.untrack("lobby", "ada", "tab2") is True
    assert p.untrack("lobby", "ada", "tab2") is False  # idempotent
    assert p.roster("lobby") == ["bob"]
    assert p.connections("lobby", "bob") == {"tab3"}
    assert p.untrack("lobby", "bob", "tab3") is True
    assert p.roster("lobby") == [] and p.rooms() == []
    assert p.untrack("nowhere", "x", "y") is False


def test_presence_rooms_are_separate() -> None:
    p: PresenceTracker[int] = PresenceTracker()
    assert p.track("a", "ada", 1) and p.track("b", "ada", 2)
    assert p.untrack("a", "ada", 1)
    assert p.is_present("b", "ada") and not p.is_present("a", "ada")
