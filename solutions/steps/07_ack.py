"""Step 7 (ack): acknowledging removes only the user's own notifications, and says how many.

One idea, on the way to Exercise 4 (notification_queueing). Write ``ack``;
check with ``day25 check ack``.
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


def ack(db: sqlite3.Connection, user: str, ids: list[str]) -> int:
    """Delete ``user``'s notifications whose id is in ``ids``, committed.

    Return how many distinct ids among ``ids`` were ``user``'s. Unknown ids and
    another user's ids count 0 and change nothing; an id given twice counts once.
    """
    with db:
        # the user in the WHERE clause: an id alone could be anybody's
        cur = db.executemany("DELETE FROM notifications WHERE user = ? AND id = ?",
                             [(user, i) for i in set(ids)])
    return cur.rowcount
