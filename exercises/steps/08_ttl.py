"""Step 8 (ttl): a notification past its expiry is never delivered.

One idea, on the way to Exercise 4 (notification_queueing). Write ``pending``;
check with ``day25 check ttl``.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


def open_db(path: str = ":memory:") -> sqlite3.Connection:
    """The queue's database (given: the tables are not this step's idea)."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def pending(db: sqlite3.Connection, user: str, now: float) -> list[str]:
    """The titles of ``user``'s unexpired notifications at time ``now``, in seq order.

    A notification is expired when ``expires_at <= now`` (at its expiry time,
    it is already gone).
    """
    raise NotImplementedError("pending")
