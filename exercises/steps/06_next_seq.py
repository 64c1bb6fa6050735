"""Step 6 (next_seq): a user's sequence numbers are never reused.

One idea, on the way to Exercise 4 (notification_queueing). Acknowledged
notifications are deleted, so ``MAX(seq) + 1`` over the rows that are left
would hand out a number a client has already seen. Write ``next_seq``; check
with ``day25 check next_seq``.
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


def next_seq(db: sqlite3.Connection, user: str) -> int:
    """The next number of ``user``: 1, 2, 3, ... per user, committed.

    Never reused: not after the user's notifications were deleted, not after
    the database is opened again (a restart). Keep the counter in ``last_seq``.
    """
    raise NotImplementedError("next_seq")
