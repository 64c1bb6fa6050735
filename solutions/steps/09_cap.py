"""Step 9 (cap): over the cap, the oldest notifications are dropped.

One idea, on the way to Exercise 4 (notification_queueing). Write ``trim``;
check with ``day25 check cap``.
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


def trim(db: sqlite3.Connection, user: str, keep: int) -> int:
    """Delete all but ``user``'s ``keep`` newest notifications (highest seq), committed.

    Return how many were deleted. Other users' notifications are not touched.
    Seq numbers may have gaps (acknowledged ones are deleted).
    """
    with db:
        # by rank, not by "seq <= newest - keep": seqs have gaps once some were acknowledged
        cur = db.execute("DELETE FROM notifications WHERE user = ? AND seq NOT IN "
                         "(SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC "
                         "LIMIT ?)", (user, user, keep))
    return cur.rowcount
