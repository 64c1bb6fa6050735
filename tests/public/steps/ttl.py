"""Check of step ttl: expired at ``expires_at <= now``, seq order, this user only."""

from __future__ import annotations

from types import ModuleType


def check(step: ModuleType) -> None:
    db = step.open_db()
    # inserted out of seq order, with ids whose text order is neither seq order nor its
    # reverse: only ORDER BY seq gives first, second, third
    rows = [("n100", "ann", 3, "third", 100.0), ("n10", "ann", 1, "first", 50.0),
            ("n9", "ann", 2, "second", 200.0), ("b1", "bob", 1, "bob's", 500.0)]
    db.executemany("INSERT INTO notifications VALUES (?, ?, ?, ?, ?)", rows)
    db.commit()
    got = step.pending(db, "ann", 10.0)
    assert isinstance(got, list) and all(isinstance(title, str) for title in got), (
        f"pending returns a list of titles (strings), not rows: got {got!r}.")
    assert got == ["first", "second", "third"], (
        f"Nothing has expired at now=10: ann's three, in seq order; got {got}."
        + (" They came in another order: by seq (1, 2, 3), not by id ('n10', 'n100', 'n9') "
           "nor as they were stored." if sorted(got) == sorted(["first", "second", "third"])
           else "")
    )
    got = step.pending(db, "ann", 100.0)
    assert got == ["second"], (
        "At now=100, 'first' (expires_at 50) and 'third' (expires_at 100: expired at exactly "
        f"its expiry) are gone: expected ['second'], got {got}."
    )
    assert step.pending(db, "ann", 1000.0) == [], "At now=1000 everything of ann's expired."
