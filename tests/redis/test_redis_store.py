"""RedisStore keeps the offline queue's rules: the same suite as SQLite and memory
(``tests/realtime/test_offline.py``, run here over Redis), plus durability across a
crash of Redis with AOF, and the atomic announcement for live push."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from day25.realtime import Broker, BrokerUnavailable, NotificationStore, OfflineQueue, RedisStore
from day25.realtime.relay import Announcement

from ..realtime import test_offline as rules
from .servers import RedisServer, free_port


@pytest.fixture
def make_store(redis_server: RedisServer) -> Iterator[Callable[[], NotificationStore]]:
    brokers: list[Broker] = []

    def make() -> NotificationStore:
        brokers.append(Broker(redis_server.url, prefix=f"q{len(brokers)}"))
        return RedisStore(brokers[-1])

    yield make
    for b in brokers:
        b.sync().close()


# The queue's rules, exactly as the other stores are held to them (collected here, with
# the make_store fixture above: over Redis).
test_push_assigns_increasing_seq_and_unique_ids = rules.test_push_assigns_increasing_seq_and_unique_ids  # noqa: E501
test_ack_removes_for_good_and_seq_never_reused = rules.test_ack_removes_for_good_and_seq_never_reused  # noqa: E501
test_ttl_hides_then_purges = rules.test_ttl_hides_then_purges
test_cap_drops_the_oldest = rules.test_cap_drops_the_oldest
test_expired_ones_do_not_count_against_the_cap = rules.test_expired_ones_do_not_count_against_the_cap  # noqa: E501


def test_two_nodes_share_one_queue(redis_server: RedisServer) -> None:
    a = OfflineQueue(RedisStore(Broker(redis_server.url)), max_per_user=3)
    b = OfflineQueue(RedisStore(Broker(redis_server.url)), max_per_user=3)
    notes = [(a if i % 2 else b).push("ada", {"n": i}) for i in range(4)]
    assert [n.seq for n in notes] == [1, 2, 3, 4]
    assert [n.payload["n"] for n in b.pending("ada")] == [1, 2, 3], "one cap across nodes"
    assert a.ack("ada", [notes[2].id]) == 1
    assert [n.seq for n in b.pending("ada")] == [2, 4]


def test_a_crash_of_redis_with_aof_loses_nothing_it_acknowledged(aof_server: RedisServer) -> None:
    q = OfflineQueue(RedisStore(Broker(aof_server.url)))
    kept = [q.push("ada", {"title": f"t{i}", "nested": {"x": [i]}}) for i in range(5)]
    assert q.ack("ada", [kept[0].id, kept[3].id]) == 2
    aof_server.kill()  # SIGKILL: only what is on disk survives
    with pytest.raises(BrokerUnavailable, match="unreachable"):
        q.pending("ada")
    aof_server.start()
    q2 = OfflineQueue(RedisStore(Broker(aof_server.url)))
    assert q2.pending("ada") == [kept[1], kept[2], kept[4]], "unacked ones survive, acked stay gone"
    assert q2.push("ada", {"title": "next"}).seq == 6, "seq goes on after the crash"


def test_append_announces_in_the_same_step(redis_server: RedisServer) -> None:
    broker = Broker(redis_server.url, prefix="t")
    store = RedisStore(broker, announce=Announcement("t:events", 100, "notification.stored"))
    note = OfflineQueue(store).push("ada", {"title": "hi"})
    [(_, fields)] = redis_server.client().xrange("t:events")
    assert fields["e"] == "notification.stored" and fields["k"] == "ada"
    assert int(fields["s"]) == note.seq == 1
    shown = json.loads(fields["d"])
    assert shown["id"] == note.id and shown["title"] == "hi"
    assert shown["expires_at"] == note.expires_at, "times go through exactly"


def test_snapshot_reads_the_backlog_and_the_last_seq_together(redis_server: RedisServer) -> None:
    store = RedisStore(Broker(redis_server.url))
    q = OfflineQueue(store)
    a, b = q.push("ada", {"n": 1}), q.push("ada", {"n": 2})
    q.ack("ada", [a.id, b.id])
    assert store.snapshot("ada", q.clock())[:2] == ([], 2), "an empty backlog still knows the seq"
    assert store.snapshot("bob", q.clock())[:2] == ([], 0)


def test_unreachable_redis_is_one_clear_error() -> None:
    store = RedisStore(Broker(f"redis://127.0.0.1:{free_port()}/0"))
    with pytest.raises(BrokerUnavailable, match=r"unreachable .*start redis-server"):
        OfflineQueue(store).push("ada", {"title": "x"})


def test_expired_entries_go_from_the_index_too(redis_server: RedisServer, tmp_path: Path) -> None:
    clock = rules.Clock()
    q = OfflineQueue(RedisStore(Broker(redis_server.url, prefix="t")), ttl_seconds=5, clock=clock)
    for i in range(3):
        q.push(f"u{i}", {"n": i})
    clock.now += 10
    assert q.purge_expired() == 3
    client = redis_server.client()
    assert client.zcard("t:inbox:notes-expiry") == 0
    assert client.keys("t:inbox:notes:*") == [], "empty streams are deleted"
    assert sorted(client.keys("t:inbox:notes-seq:*")) == [f"t:inbox:notes-seq:u{i}" for i in
                                                           range(3)], "counters stay"
