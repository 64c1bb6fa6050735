"""Check of step next_seq: per user, never reused after deletes or a reopen."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType


def check(step: ModuleType) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "queue.sqlite3")
        db = step.open_db(path)

        def add(user: str) -> int:
            seq: int = step.next_seq(db, user)
            db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?)",
                       (f"{user}-{seq}", user, seq, "t", 1e12))
            db.commit()
            return seq

        got = [add("ann"), add("ann"), add("bob"), add("ann")]
        assert all(type(seq) is int for seq in got), (
            f"next_seq returns an int, got {got!r}: a value read from SQLite keeps the type it "
            "was stored with, so store and return numbers.")
        assert got == [1, 2, 1, 3], (
            f"seq counts 1, 2, 3, ... per user: expected [1, 2, 1, 3], got {got}.")
        db.execute("DELETE FROM notifications WHERE user = 'ann'")  # ann acknowledged them all
        db.commit()
        got = [add("ann")]
        assert got == [4], (
            "Every notification of ann was acknowledged (deleted), and her next seq must still "
            f"be 4, not a number she has already seen: got {got[0]}. MAX(seq) of the rows left "
            "is not enough: keep a counter."
        )
        db.close()
        db = step.open_db(path)  # a restart
        got = [add("ann"), add("bob")]
        assert got == [5, 2], f"After a restart seq continues: expected [5, 2], got {got}."
        # another run of the app (another process) gave dan 41: the counter is last_seq's
        db.execute("INSERT INTO last_seq (user, seq) VALUES ('dan', 41)")
        db.commit()
        got = [add("dan")]
        assert got == [42], (
            f"last_seq already holds 41 for dan (another run of the app on this database gave "
            f"them out), and next_seq gave {got[0]}, not 42: keep the counter in last_seq, "
            "read and written there, not in Python (a second process would not see it).")
        given = step.next_seq(db, "cid")  # nothing of the check's commits after it
        db.close()
        db = step.open_db(path)  # a restart: what next_seq did not commit is gone
        again = step.next_seq(db, "cid")
        assert again == given + 1, (
            f"cid was given {given}, and after a restart {again} again: next_seq must commit "
            "its counter (db.commit(), or `with db:`), or a restart hands out a number twice."
        )
        db.close()
