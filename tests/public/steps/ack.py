"""Check of step ack: only the user's own ids, each once, and the count."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType


def check(step: ModuleType) -> None:
    db = step.open_db()
    rows = [("a1", "ann", 1), ("a2", "ann", 2), ("a3", "ann", 3), ("b1", "bob", 1)]
    db.executemany("INSERT INTO notifications VALUES (?, ?, ?, 't', 1e12)", rows)
    db.commit()
    assert step.ack(db, "ann", []) == 0, "Acknowledging nothing counts 0."
    got = step.ack(db, "ann", ["a1", "a1", "b1", "nope"])
    assert got == 1, (
        "ack(db, 'ann', ['a1', 'a1', 'b1', 'nope']): a1 is ann's (counted once, though given "
        f"twice), b1 is bob's and nope is unknown (both 0). Expected 1, got {got}."
    )
    left = db.execute("SELECT id FROM notifications ORDER BY id").fetchall()
    assert left == [("a2",), ("a3",), ("b1",)], (
        f"Only ann's a1 is gone; bob's b1 must stay. Left: {[i for (i,) in left]}."
    )
    assert step.ack(db, "ann", ["a1"]) == 0, "An id acknowledged before counts 0."
    assert step.ack(db, "ann", ["a2", "a3"]) == 2
    # "committed": after a restart the acknowledged ones are still gone
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "queue.sqlite3")
        db = step.open_db(path)
        db.executemany("INSERT INTO notifications VALUES (?, ?, ?, 't', 1e12)", rows)
        db.commit()
        step.ack(db, "ann", ["a1"])  # nothing of the check's commits after it
        db.close()
        db = step.open_db(path)  # a restart: what ack did not commit is undone
        left = [i for (i,) in db.execute("SELECT id FROM notifications ORDER BY id")]
        db.close()
        assert "a1" not in left, (
            "ann acknowledged a1, and after a restart a1 is back: ack must commit its delete "
            "(db.commit(), or `with db:`), or a restart delivers it again.")
