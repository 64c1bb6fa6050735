"""Where an :class:`~day25.realtime.offline.OfflineQueue` keeps its notifications.

Why two stores: :class:`SQLiteStore` is the durable default (a restart loses
nothing that was not acknowledged, and sequence numbers continue), and
:class:`MemoryStore` is for tests and demos where losing everything on restart
is acceptable. Both implement :class:`NotificationStore`, so the queue's rules
(TTL, cap, ordering) live in one place and are identical for both.

Sequence numbers come from a per-user counter that is never reset, not from
``max(seq)`` of the stored rows: acknowledging (deleting) every row must not let
the next notification reuse a number a client has already seen.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["MemoryStore", "Notification", "NotificationStore", "SQLiteStore"]


@dataclass(frozen=True)
class Notification:
    """One queued notification. ``payload`` is the caller's JSON object."""

    id: str
    seq: int
    user: str
    payload: dict[str, Any]
    created_at: float
    expires_at: float

    def to_dict(self) -> dict[str, Any]:
        """The payload's fields plus ``id``, ``seq``, ``user`` and the times."""
        return {
            **self.payload,
            "id": self.id,
            "seq": self.seq,
            "user": self.user,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


class NotificationStore(Protocol):
    """The operations the queue needs; each is atomic."""

    def append(
        self, user: str, id: str, payload: dict[str, Any], created_at: float, expires_at: float
    ) -> Notification:
        """Store a notification with the user's next sequence number."""
        ...

    def pending(self, user: str, now: float) -> list[Notification]:
        """Unexpired notifications of ``user`` in seq order."""
        ...

    def ack(self, user: str, ids: list[str]) -> int:
        """Delete the given notifications of ``user``; return how many existed."""
        ...

    def trim(self, user: str, keep: int) -> list[Notification]:
        """Delete all but the ``keep`` newest of ``user``; return the deleted."""
        ...

    def purge(self, now: float) -> int:
        """Delete every notification with ``expires_at <= now``; return the count."""
        ...

    def close(self) -> None: ...


@dataclass
class MemoryStore:
    """Notifications in a dict. Loses everything on restart: tests and demos only."""

    _rows: dict[str, list[Notification]] = field(default_factory=dict)
    _seqs: dict[str, int] = field(default_factory=dict)

    def append(
        self, user: str, id: str, payload: dict[str, Any], created_at: float, expires_at: float
    ) -> Notification:
        seq = self._seqs.get(user, 0) + 1
        self._seqs[user] = seq
        note = Notification(id, seq, user, dict(payload), created_at, expires_at)
        self._rows.setdefault(user, []).append(note)
        return note

    def pending(self, user: str, now: float) -> list[Notification]:
        return [n for n in self._rows.get(user, ()) if n.expires_at > now]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = set(ids)
        rows = self._rows.get(user, [])
        kept = [n for n in rows if n.id not in wanted]
        self._rows[user] = kept
        return len(rows) - len(kept)

    def trim(self, user: str, keep: int) -> list[Notification]:
        rows = self._rows.get(user, [])
        cut = max(0, len(rows) - keep)
        self._rows[user] = rows[cut:]
        return rows[:cut]

    def purge(self, now: float) -> int:
        removed = 0
        for user, rows in self._rows.items():
            kept = [n for n in rows if n.expires_at > now]
            removed += len(rows) - len(kept)
            self._rows[user] = kept
        return removed

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (user, seq)
);
CREATE INDEX IF NOT EXISTS notifications_expiry ON notifications (expires_at);
CREATE TABLE IF NOT EXISTS sequences (user TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
"""


class SQLiteStore:
    """Notifications in an SQLite file (WAL): the durable default.

    One connection, shared by the threads that call it under a lock: the
    event-loop thread of a server, or a notebook's thread that made the store
    before starting a :class:`~day25.realtime.server.BackgroundServer`. Each call
    is one short transaction, so it is safe to call from async code without an
    executor. ``synchronous=NORMAL`` in WAL mode survives a crash or kill of the
    process (what a restart is); only a power loss may lose the last commits.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def append(
        self, user: str, id: str, payload: dict[str, Any], created_at: float, expires_at: float
    ) -> Notification:
        text = json.dumps(payload, ensure_ascii=False)
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO sequences (user, last_seq) VALUES (?, 1) "
                "ON CONFLICT(user) DO UPDATE SET last_seq = last_seq + 1",
                (user,),
            )
            (seq,) = self._db.execute(
                "SELECT last_seq FROM sequences WHERE user = ?", (user,)
            ).fetchone()
            self._db.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?)",
                (user, seq, id, text, created_at, expires_at),
            )
        return Notification(id, int(seq), user, json.loads(text), created_at, expires_at)

    def pending(self, user: str, now: float) -> list[Notification]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, seq, user, payload, created_at, expires_at FROM notifications "
                "WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [_row(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        if not ids:
            return 0
        with self._lock, self._transaction():
            cur = self._db.executemany(
                "DELETE FROM notifications WHERE user = ? AND id = ?", [(user, i) for i in ids]
            )
            return max(cur.rowcount, 0)

    def trim(self, user: str, keep: int) -> list[Notification]:
        with self._lock, self._transaction():
            rows = self._db.execute(
                "SELECT id, seq, user, payload, created_at, expires_at FROM notifications "
                "WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?",
                (user, max(keep, 0)),
            ).fetchall()
            if rows:
                self._db.executemany(
                    "DELETE FROM notifications WHERE user = ? AND seq = ?",
                    [(user, r[1]) for r in rows],
                )
        return sorted((_row(r) for r in rows), key=lambda n: n.seq)

    def purge(self, now: float) -> int:
        with self._lock, self._transaction():
            cur = self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            return max(cur.rowcount, 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on an exception)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _row(r: tuple[Any, ...]) -> Notification:
    return Notification(str(r[0]), int(r[1]), str(r[2]), json.loads(r[3]), float(r[4]), float(r[5]))
