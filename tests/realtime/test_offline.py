"""OfflineQueue over both stores: order, ids, ack, TTL, cap, restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from day25.realtime import MemoryStore, NotificationStore, OfflineQueue, SQLiteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


StoreFactory = Callable[[Path], NotificationStore]
STORES: list[StoreFactory] = [lambda d: MemoryStore(), lambda d: SQLiteStore(d / "q.sqlite3")]


@pytest.fixture(params=STORES, ids=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], NotificationStore]:
    factory: StoreFactory = request.param
    return lambda: factory(tmp_path)


def test_push_assigns_increasing_seq_and_unique_ids(
    make_store: Callable[[], NotificationStore],
) -> None:
    q = OfflineQueue(make_store())
    notes = [q.push("ada", {"title": f"t{i}"}) for i in range(5)]
    other = q.push("bob", {"title": "b"})
    assert [n.seq for n in notes] == [1, 2, 3, 4, 5]
    assert other.seq == 1
    ids = [n.id for n in [*notes, other]]
    assert len(set(ids)) == 6 and all(len(i) == 32 for i in ids)
    assert [n.payload["title"] for n in q.pending("ada")] == [f"t{i}" for i in range(5)]
    assert notes[0].to_dict()["title"] == "t0" and notes[0].to_dict()["seq"] == 1


def test_ack_removes_for_good_and_seq_never_reused(
    make_store: Callable[[], NotificationStore],
) -> None:
    q = OfflineQueue(make_store())
    a, b, c = (q.push("ada", {"n": i}) for i in range(3))
    assert q.ack("ada", [a.id, c.id, "nope"]) == 2
    assert [n.id for n in q.pending("ada")] == [b.id]
    assert q.ack("bob", [b.id]) == 0  # someone else's id does nothing
    assert q.ack("ada", [b.id]) == 1
    assert q.pending("ada") == []
    assert q.push("ada", {"n": 3}).seq == 4


def test_ttl_hides_then_purges(make_store: Callable[[], NotificationStore]) -> None:
    clock = Clock()
    q = OfflineQueue(make_store(), ttl_seconds=10, clock=clock)
    old = q.push("ada", {"n": 0})
    clock.now += 6
    new = q.push("ada", {"n": 1})
    assert old.expires_at == old.created_at + 10
    clock.now += 5  # old is 11s old, new 5s
    assert [n.id for n in q.pending("ada")] == [new.id]
    assert q.purge_expired() == 1
    clock.now += 100
    assert q.pending("ada") == [] and q.purge_expired() == 1


def test_an_expired_id_acks_nothing_even_before_it_is_purged(
    make_store: Callable[[], NotificationStore],
) -> None:
    """Exercise 4's rule, which the demo follows: an id that expired counts 0 in the ack's
    count, purged or not (an outside test of `day25 serve --ttl` counted 1)."""
    clock = Clock()
    q = OfflineQueue(make_store(), ttl_seconds=10, clock=clock)
    old = q.push("ada", {"n": 0})
    clock.now += 6
    new = q.push("ada", {"n": 1})
    clock.now += 5  # old has expired; nothing purged it yet
    assert q.ack("ada", [old.id, new.id]) == 1
    assert q.pending("ada") == []


def test_cap_drops_the_oldest(make_store: Callable[[], NotificationStore]) -> None:
    q = OfflineQueue(make_store(), max_per_user=3)
    for i in range(3):
        q.push("ada", {"n": i})
    pushed = q.push_report("ada", {"n": 3})
    assert [n.payload["n"] for n in pushed.dropped] == [0]
    q.push("ada", {"n": 4})
    assert [(n.seq, n.payload["n"]) for n in q.pending("ada")] == [(3, 2), (4, 3), (5, 4)]


def test_expired_ones_do_not_count_against_the_cap(
    make_store: Callable[[], NotificationStore],
) -> None:
    clock = Clock()
    q = OfflineQueue(make_store(), ttl_seconds=1, max_per_user=2, clock=clock)
    q.push("ada", {"n": 0})
    clock.now += 2
    q.push("ada", {"n": 1})
    dropped = q.push_report("ada", {"n": 2}).dropped
    assert dropped == ()
    assert [n.payload["n"] for n in q.pending("ada")] == [1, 2]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        OfflineQueue(MemoryStore(), ttl_seconds=0)
    with pytest.raises(ValueError, match="max_per_user"):
        OfflineQueue(MemoryStore(), max_per_user=0)


def test_sqlite_restart_keeps_unacked_and_continues_seq(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    q = OfflineQueue(SQLiteStore(path))
    a = q.push("ada", {"title": "a", "nested": {"x": [1, 2]}})
    b = q.push("ada", {"title": "b"})
    q.ack("ada", [a.id])
    q.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    q2 = OfflineQueue(SQLiteStore(path))
    assert q2.pending("ada") == [b]
    assert q2.push("ada", {"title": "c"}).seq == 3
    q2.ack("ada", [n.id for n in q2.pending("ada")])
    q2.close()
    q3 = OfflineQueue(SQLiteStore(path))
    assert q3.pending("ada") == []
    assert q3.push("ada", {"title": "d"}).seq == 4  # seq survives even an empty queue
    q3.close()


def test_memory_store_forgets_on_restart() -> None:
    q = OfflineQueue(MemoryStore())
    q.push("ada", {"t": 1})
    assert OfflineQueue(MemoryStore()).pending("ada") == []
