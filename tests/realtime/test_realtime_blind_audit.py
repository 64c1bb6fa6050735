"""Rules of the realtime library that no test stated, found by the blind audit of 2026-12-06.

The audit wrote one-mistake variants of the library from its docs alone and ran the
suites against each; these are the rules whose variants went unnoticed. Each test
quotes the sentence of the docs or docstring it checks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from day25.realtime import (
    Joining,
    MemoryStore,
    NotificationStore,
    PresenceTracker,
    Rooms,
    SlowConsumer,
    SQLiteStore,
)
from day25.realtime.rooms import frame_text


class Conn:
    """A connection with send_json; ``fail`` makes every send raise, ``delay`` makes
    every send wait that long first."""

    def __init__(self, name: str, *, fail: bool = False, delay: float = 0.0) -> None:
        self.name = name
        self.fail = fail
        self.delay = delay
        self.got: list[Any] = []
        self.closed: tuple[int, str] | None = None

    async def send_json(self, data: Any) -> None:
        if self.fail:
            raise ConnectionResetError("gone")
        if self.delay:
            await asyncio.sleep(self.delay)
        self.got.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    def __repr__(self) -> str:
        return f"Conn({self.name})"


class TextConn(Conn):
    """Like a Nexios WebSocket: sent the serialised text, which must be valid UTF-8."""

    async def send_text(self, text: str) -> None:
        text.encode()  # what the socket does with it: a lone surrogate raises here
        self.got.append(text)


# -- stores: what pending() shows is what purge() keeps ---------------------------
@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotificationStore]:
    made: NotificationStore = (
        MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "n.db")
    )
    yield made
    made.close()


def test_at_its_expiry_instant_a_notification_is_expired_for_pending_and_purge(
    store: NotificationStore,
) -> None:
    """stores.py: ``purge``: "Delete every notification with ``expires_at <= now``";
    ``pending``: "Unexpired notifications of ``user`` in seq order." At the exact
    instant ``now == expires_at`` both must agree: what ``pending(now)`` shows is what
    ``purge(now)`` keeps.

    Found by the blind audit of 2026-12-06 (``pending`` kept it, ``purge`` deleted it)."""
    store.append("ann", "n1", {"text": "a"}, created_at=0.0, expires_at=10.0)
    store.append("ann", "n2", {"text": "b"}, created_at=0.0, expires_at=20.0)
    shown = [n.id for n in store.pending("ann", 10.0)]
    store.purge(10.0)
    kept = [n.id for n in store.pending("ann", 0.0)]
    assert shown == kept == ["n2"]


# -- rooms: on_drop for every room ------------------------------------------------
async def test_a_dropped_member_is_reported_for_every_room_it_was_in() -> None:
    """rooms.py, Rooms: "``on_drop(room, conn, error)`` (sync or async) is called for
    every member dropped from a room, so the caller can run its leave logic (presence,
    a "leave" message) in one place."

    Found by the blind audit of 2026-12-06: a member of two rooms was reported for one."""
    reported: list[tuple[str, Conn]] = []
    rooms: Rooms[Conn] = Rooms(on_drop=lambda room, conn, error: reported.append((room, conn)))
    dead = Conn("dead", fail=True)
    for room in ("a", "b", "c"):
        rooms.join(room, dead)
    await rooms.broadcast("b", {"text": "hi"})
    assert sorted(reported) == [("a", dead), ("b", dead), ("c", dead)]
    assert rooms.rooms() == []


async def test_the_send_timeout_is_for_one_send_not_for_the_whole_outbox() -> None:
    """rooms.py, Rooms: "``send_timeout``: how long one send may stay blocked before the
    member counts as slow"; ``_write``: "every send has a timeout".

    Eight sends of 0.2 s each (1.6 s in all) with ``send_timeout=1.0``: no one send is
    slow, so the member is not dropped. Found by the blind audit of 2026-12-06: the
    timeout covered the blocked send and the whole outbox after it."""
    dropped: list[tuple[str, BaseException]] = []
    rooms: Rooms[Conn] = Rooms(
        send_timeout=1.0, on_drop=lambda room, conn, error: dropped.append((room, error))
    )
    member = Conn("steady", delay=0.2)
    rooms.join("r", member)
    for i in range(8):
        await rooms.broadcast("r", {"seq": i})
    await rooms.flush()
    assert dropped == []
    assert member.closed is None
    assert rooms.members("r") == [member]
    assert member.got == [{"seq": i} for i in range(8)]


# -- joining ------------------------------------------------------------------------
async def test_an_event_that_arrives_while_finish_sends_is_sent_too() -> None:
    """joining.py: ":meth:`Joining.finish` sends what was kept (optionally filtered, e.g.
    by ``seq``), and joins the connection to the :class:`~day25.realtime.Rooms` in the
    same step as it finds nothing more kept, so nothing falls between the two."

    Found by the blind audit of 2026-12-06: ``finish`` sent a snapshot of what was
    kept, and an event broadcast while it was sending was lost."""
    rooms: Rooms[Conn] = Rooms()
    joining: Joining[Conn] = Joining(rooms)
    old, new = Conn("old"), Conn("new")
    rooms.join("r", old)
    joining.start("r", new)
    await joining.broadcast("r", {"seq": 1})
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)
        if message == {"seq": 1}:  # an event arrives while the backlog is being sent
            await joining.broadcast("r", {"seq": 2})

    await joining.finish("r", new, send)
    await joining.broadcast("r", {"seq": 3})
    assert sent + new.got == [{"seq": 1}, {"seq": 2}, {"seq": 3}]
    assert old.got == [{"seq": 1}, {"seq": 2}, {"seq": 3}]


async def test_exactly_limit_kept_events_are_sent_one_more_raises() -> None:
    """joining.py, Joining: "``limit``: how many events may be kept for one joining
    connection; one more and :meth:`finish` raises
    :class:`~day25.realtime.SlowConsumer`."

    Found by the blind audit of 2026-12-06: ``limit`` events already raised."""
    rooms: Rooms[Conn] = Rooms()
    joining: Joining[Conn] = Joining(rooms, limit=3)
    ok, late = Conn("ok"), Conn("late")
    joining.start("r", ok)
    for i in range(3):
        await joining.broadcast("r", {"seq": i})
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await joining.finish("r", ok, send)
    assert sent == [{"seq": i} for i in range(3)]
    assert rooms.members("r") == [ok]

    joining.start("r", late)
    for i in range(4):
        await joining.broadcast("r", {"seq": i})
    with pytest.raises(SlowConsumer):
        await joining.finish("r", late, send)


async def test_a_finish_that_fails_forgets_the_connection() -> None:
    """joining.py, ``finish``: "On any error ``conn`` is forgotten, not joined."

    A failing send and an overflow (found by the blind audit of 2026-12-06: the
    connection stayed among the joining ones, kept every later event)."""
    rooms: Rooms[Conn] = Rooms()
    joining: Joining[Conn] = Joining(rooms, limit=2)
    broken, slow = Conn("broken"), Conn("slow")

    async def failing_send(message: Any) -> None:
        raise ConnectionResetError("gone")

    async def send(message: Any) -> None:
        pass

    joining.start("r", broken)
    await joining.broadcast("r", {"seq": 1})
    with pytest.raises(ConnectionResetError):
        await joining.finish("r", broken, failing_send)
    assert joining.waiting("r") == 0
    assert rooms.members("r") == []

    joining.start("r", slow)
    for i in range(3):
        await joining.broadcast("r", {"seq": i})
    with pytest.raises(SlowConsumer):
        await joining.finish("r", slow, send)
    assert joining.waiting("r") == 0
    assert rooms.members("r") == []


# -- presence ---------------------------------------------------------------------
def test_the_roster_is_sorted_whatever_the_join_order() -> None:
    """presence.py, ``roster``: "The users present in ``room``, sorted, each once."

    Found by the blind audit of 2026-12-06: the roster came in join order."""
    presence: PresenceTracker[str] = PresenceTracker()
    for user, conn in [("zoe", "z1"), ("ann", "a1"), ("mia", "m1"), ("ann", "a2")]:
        presence.track("r", user, conn)
    assert presence.roster("r") == ["ann", "mia", "zoe"]


# -- frame_text -------------------------------------------------------------------
async def test_a_lone_surrogate_is_escaped_so_the_frame_can_be_sent() -> None:
    """rooms.py, ``frame_text``: "``message`` as one JSON text frame: UTF-8 as is, but a
    lone surrogate (a JSON string may hold ``"\\ud800"``; no UTF-8 can) written back as
    its escape, or the send of the frame fails for every member."

    Found by the blind audit of 2026-12-06: the surrogate was left in the text."""
    message = {"text": "h\u00e9 \ud800"}
    text = frame_text(message)
    text.encode()  # valid UTF-8
    assert json.loads(text) == message
    assert frame_text({"text": "h\u00e9"}) == '{"text":"h\u00e9"}'  # UTF-8 as is

    rooms: Rooms[TextConn] = Rooms()
    conns = [TextConn("a"), TextConn("b")]
    for conn in conns:
        rooms.join("r", conn)
    delivery = await rooms.deliver("r", message)
    assert delivery.dropped == ()
    assert [[json.loads(t) for t in c.got] for c in conns] == [[message], [message]]
