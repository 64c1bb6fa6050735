"""Check of step presence: join on 0 -> 1 connections, leave on 1 -> 0, idempotent."""

from __future__ import annotations

from types import ModuleType


def check(step: ModuleType) -> None:
    room = step.Presence()
    assert room.join("ann", "tab1") is True, "ann's first tab: join returns True (0 -> 1)."
    assert room.join("ann", "tab2") is False, "ann's second tab is not a second user: False."
    assert room.join("bob", "phone") is True, "bob's first connection: True."
    assert room.roster() == ["ann", "bob"], f"Each user once, sorted; got {room.roster()}."
    assert room.leave("ann", "tab1") is False, "ann still has tab2 open: not a leave (False)."
    assert room.roster() == ["ann", "bob"], f"ann is still here; got {room.roster()}."
    assert room.leave("ann", "tab1") is False, (
        "Leaving twice with the same connection (a clean close after a failed send) changes "
        "nothing and returns False."
    )
    assert room.leave("ann", "tab2") is True, "ann's last tab closed: that is her leave (True)."
    assert room.roster() == ["bob"], f"Only bob is left; got {room.roster()}."
    assert room.leave("nobody", "x") is False, "An unknown user: False, no error."
    assert room.join("ann", "tab3") is True, "ann comes back: a new join (True)."
