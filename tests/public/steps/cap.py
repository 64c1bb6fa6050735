"""Check of step cap: keep the newest, drop the oldest, with gaps in seq, this user only."""

from __future__ import annotations

from types import ModuleType


def check(step: ModuleType) -> None:
    db = step.open_db()
    seqs = [1, 2, 4, 7, 8]  # 3, 5 and 6 were acknowledged (deleted)
    # stored out of seq order, ids in yet another order: "newest" is the highest seq, not the
    # row stored last nor the greatest id
    ids = {7: "a", 1: "k", 8: "m", 2: "c", 4: "x"}
    db.executemany("INSERT INTO notifications VALUES (?, 'ann', ?, ?, 1e12)",
                   [(ids[s], s, f"t{s}") for s in (7, 1, 8, 2, 4)])
    db.executemany("INSERT INTO notifications VALUES (?, 'bob', ?, 't', 1e12)",
                   [(f"b{s}", s) for s in range(1, 6)])
    db.commit()
    got = step.trim(db, "ann", 3)
    left = [s for (s,) in db.execute(
        "SELECT seq FROM notifications WHERE user = 'ann' ORDER BY seq").fetchall()]
    assert left == [4, 7, 8], (
        f"ann has seq {seqs} (with gaps); keeping the 3 newest (highest seq, whatever order "
        f"they were stored in) leaves [4, 7, 8], got {left}."
    )
    # another user's rows first: a DELETE that forgets `user = ?` also deletes more rows,
    # and a student told only about the count would fix the count and keep the data loss
    bobs = db.execute("SELECT COUNT(*) FROM notifications WHERE user = 'bob'").fetchone()[0]
    assert bobs == 5, (
        f"trimming ann's notifications deleted bob's: he had 5, {bobs} are left. Every "
        "statement of trim touches this user's rows only (WHERE user = ?).")
    assert got == 2, f"trim returns how many it deleted: 2, got {got}."
    assert step.trim(db, "ann", 3) == 0, "Already within the cap: nothing deleted, 0."
