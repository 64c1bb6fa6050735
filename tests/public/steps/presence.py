"""Check of step presence: join on 0 -> 1 connections, leave on 1 -> 0, idempotent."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from day25.course.inside.submission import where_in  # the steps runner's own "(at ...)"


class Calls:
    """Calls one Presence, remembering them: a call that raises is named, with the calls
    before it, so that the student can replay it."""

    def __init__(self, step: ModuleType) -> None:
        self.room, self.path, self.done = step.Presence(), step.__file__, list[str]()

    def __call__(self, name: str, *args: object) -> Any:
        call = f"{name}({', '.join(map(repr, args))})"
        try:
            got = getattr(self.room, name)(*args)
        except (NotImplementedError, AssertionError):
            raise
        except Exception as exc:
            before = f", after {', '.join(self.done)}" if self.done else " on a new Presence()"
            again = " (the same call a second time)" if call in self.done else ""
            raise AssertionError(
                f"{call}{again} raised {type(exc).__name__}: {exc}{where_in(exc, self.path)}"
                f"{before}."
            ) from None
        self.done.append(call)
        return got


def _is(got: object, want: bool, rule: str) -> None:
    assert got is want, f"{rule}: {want} expected, got {got!r}."


def check(step: ModuleType) -> None:
    room = Calls(step)
    _is(room("join", "ann", "tab1"), True, "ann's first tab: join returns True (0 -> 1)")
    _is(room("join", "ann", "tab2"), False, "ann's second tab is not a second user")
    _is(room("join", "bob", "phone"), True, "bob's first connection")
    roster = room("roster")
    assert roster == ["ann", "bob"], (
        f"Each user once, sorted: ['ann', 'bob'] expected, got {roster!r}.")
    _is(room("leave", "ann", "tab1"), False, "ann still has tab2 open: not a leave")
    roster = room("roster")
    assert roster == ["ann", "bob"], f"ann is still here: ['ann', 'bob'] expected, got {roster!r}."
    _is(room("leave", "ann", "tab1"), False,
        "Leaving twice with the same connection (a clean close after a failed send) changes "
        "nothing")
    _is(room("leave", "ann", "tab2"), True, "ann's last tab closed: that is her leave")
    roster = room("roster")
    assert roster == ["bob"], f"Only bob is left: ['bob'] expected, got {roster!r}."
    _is(room("leave", "nobody", "x"), False, "An unknown user: no error, and not a leave")
    _is(room("join", "ann", "tab3"), True, "ann comes back: a new join")
