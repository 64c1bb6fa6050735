"""EventRelay and RedisStore held to sentences of their docs that no test checked: the
blind audit of 2026-12-06 (one-mistake variants written from the docs alone) broke
each of them and the suite still passed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from day25.realtime import Broker, OfflineQueue, RedisStore
from day25.realtime.relay import Announcement

from .relay_node import WITHIN, Node, until
from .servers import RedisServer


def entry(n: int) -> dict[str, str]:
    """A stream entry of the shape the relay appends (see ``ANNOUNCE_LUA``)."""
    return {"e": "room.message", "k": "r", "s": "", "d": json.dumps({"n": n})}


async def test_a_relay_started_late_delivers_only_what_is_published_after_it(
    redis_server: RedisServer,
) -> None:
    """relay.py, ``EventRelay.start``: "Start reading after the stream's current last
    entry (what is published from now on)." Found by the blind audit of 2026-12-06
    (a relay that read the stream from its beginning passed every test)."""
    async with Node(redis_server.url) as early:
        for i in range(3):
            await early.relay.publish("room.message", "r", {"i": i}, seq=True)
        async with Node(redis_server.url) as late:
            after = await early.relay.publish("room.message", "r", {"i": 3}, seq=True)
            await asyncio.wait_for(late.relay.caught_up(after.id), WITHIN)
            assert late.heard == [("room.message", {"i": 3, "seq": 4})], (
                "what was published before start is not delivered")


async def test_the_stream_keeps_about_the_last_maxlen_entries(redis_server: RedisServer) -> None:
    """relay.py: "a stream keeps the last ``maxlen`` entries"; scaling.md: "A stream
    keeps the last 10,000 entries" (table: "stream (about 10,000 entries)"). Found by
    the blind audit of 2026-12-06 (an unbounded stream passed every test)."""
    async with Node(redis_server.url, maxlen=50) as a:
        published = [(await a.relay.publish("room.message", "r", {"i": i})).id
                     for i in range(600)]
        kept = [entry_id for entry_id, _ in redis_server.client().xrange(a.relay.stream)]
    # MAXLEN ~ trims whole nodes of the stream (100 entries each by default): about 50
    assert 50 <= len(kept) <= 150, f"{len(kept)} entries kept of 600, maxlen 50"
    assert kept == published[-len(kept):], "the newest ones are kept"


def test_the_inbox_stream_is_capped_too(redis_server: RedisServer) -> None:
    """scaling.md table: "``day25:chat``, ``day25:inbox`` | stream (about 10,000
    entries)": the announcements ``RedisStore.append`` makes keep the relay's cap.
    Found by the blind audit of 2026-12-06 (an unbounded stream passed every test)."""
    broker = Broker(redis_server.url, prefix="t")
    store = RedisStore(broker, announce=Announcement("t:inbox", 50, "notification.stored"))
    queue = OfflineQueue(store)
    for i in range(600):
        queue.push(f"u{i % 7}", {"i": i})
    length = redis_server.client().xlen("t:inbox")
    broker.sync().close()
    assert 50 <= length <= 150, f"{length} entries kept of 600, maxlen 50"


async def test_caught_up_compares_entry_ids_as_numbers(redis_server: RedisServer) -> None:
    """relay.py, ``EventRelay.caught_up``: "Wait until this node has delivered every
    entry up to ``position``". Entry ids are ``ms-n`` with numbers: ``1-10`` comes
    after ``1-9`` (ten entries in one millisecond), though not as text. Found by the
    blind audit of 2026-12-06 (comparing ids as strings passed every test)."""
    async with Node(redis_server.url) as a:
        client = redis_server.client()
        for n in range(1, 10):
            client.xadd(a.relay.stream, entry(n), id=f"1-{n}")
        await until(lambda: len(a.heard) == 9)
        assert a.relay.position == "1-9"

        waiting = asyncio.ensure_future(a.relay.caught_up("1-10"))
        done, _ = await asyncio.wait({waiting}, timeout=0.2)
        assert not done, "1-10 is not delivered yet (nothing in the stream has that id)"

        client.xadd(a.relay.stream, entry(10), id="1-10")
        await asyncio.wait_for(waiting, WITHIN)
        assert a.heard[-1] == ("room.message", {"n": 10}), "returns once 1-10 is delivered"
        assert a.relay.position == "1-10"
        # delivered already: returns at once (a string comparison would wait forever)
        await asyncio.wait_for(a.relay.caught_up("1-9"), WITHIN)
        await asyncio.wait_for(a.relay.caught_up("0-99"), WITHIN)


async def test_entries_of_events_not_named_are_skipped(redis_server: RedisServer) -> None:
    """relay.py, ``EventRelay``: "Only the ``events`` named are relayed; entries of
    other events are skipped." Found by the blind audit of 2026-12-06 (a reader that
    emitted every entry of the stream passed every test)."""
    async with (
        Node(redis_server.url, events={"room.message"}) as only,
        Node(redis_server.url, events={"room.message", "room.join"}) as both,
    ):
        await both.relay.publish("room.join", "r", {"user": "ada"})
        last = await both.relay.publish("room.message", "r", {"text": "hi"})
        await asyncio.wait_for(only.relay.caught_up(last.id), WITHIN)
        await asyncio.wait_for(both.relay.caught_up(last.id), WITHIN)
        assert both.heard == [("room.join", {"user": "ada"}), ("room.message", {"text": "hi"})]
        assert only.heard == [("room.message", {"text": "hi"})], "room.join is not relayed here"


async def test_two_chats_on_one_redis_do_not_hear_each_other(redis_server: RedisServer) -> None:
    """broker.py: "One chat is one prefix on one Redis database: every key starts with
    it, so two chats may share a Redis server." Found by the blind audit of 2026-12-06
    (a relay whose stream key lacked the prefix passed every test)."""
    async with (
        Node(redis_server.url, prefix="chat1") as one,
        Node(redis_server.url, prefix="chat2") as two,
    ):
        first = await one.relay.publish("room.message", "r", {"chat": 1}, seq=True)
        second = await two.relay.publish("room.message", "r", {"chat": 2}, seq=True)
        await asyncio.wait_for(one.relay.caught_up(first.id), WITHIN)
        await asyncio.wait_for(two.relay.caught_up(second.id), WITHIN)
        assert one.heard == [("room.message", {"chat": 1, "seq": 1})]
        assert two.heard == [("room.message", {"chat": 2, "seq": 1})]
    keys = redis_server.client().keys("*")
    assert keys and all(k.startswith(("chat1:", "chat2:")) for k in keys), keys


def test_append_stores_and_announces_in_one_script(redis_server: RedisServer) -> None:
    """scaling.md: live notifications are "announced on a stream (``day25:inbox``) in
    the same Lua script that stores them"; redis_store.py: ":meth:`append` also appends
    the stored notification to the relay's stream *in the same script*". Redis' MONITOR
    says which commands a script ran (``[0 lua]``): the announcing XADD must be one of
    them, not a second command of the client. Found by the blind audit of 2026-12-06
    (an append that announced with a separate XADD passed every test)."""
    broker = Broker(redis_server.url, prefix="t")
    store = RedisStore(broker, announce=Announcement("t:events", 100, "notification.stored"))
    queue = OfflineQueue(store)
    marker = "blind-audit-end-of-append"
    seen: list[dict[str, Any]] = []
    with redis_server.client().monitor() as monitor:
        queue.push("ada", {"title": "hi"})
        redis_server.client().echo(marker)
        while True:
            command = monitor.next_command()
            if marker in command["command"]:
                break
            seen.append(command)
    broker.sync().close()
    announcing = [c for c in seen
                  if c["command"].lower().startswith(("xadd t:events ", 'xadd "t:events" '))]
    assert announcing, f"no XADD to t:events among {[c['command'][:40] for c in seen]}"
    assert all(c["client_type"] == "lua" for c in announcing), (
        "the announcement is appended by the script that stores the notification")
    stores = [c for c in seen if c["command"].lower().startswith("xadd t:inbox:notes:ada ")]
    assert stores and all(c["client_type"] == "lua" for c in stores)
