"""Check of step ties: ``run_order`` sorts by priority, ties in registration order."""

from __future__ import annotations

from types import ModuleType


def check(step: ModuleType) -> None:
    got = step.run_order([("save", 2), ("audit", 1), ("validate", 3)])
    assert isinstance(got, list) and all(isinstance(name, str) for name in got), (
        f"run_order returns a list of the listeners' names (strings), got {got!r}.")
    assert got == ["validate", "save", "audit"], (
        f"A bigger priority runs earlier: expected ['validate', 'save', 'audit'], got {got}."
    )
    ties = [("zed", 2), ("bob", 3), ("amy", 2), ("cat", 3), ("dan", 2)]
    got = step.run_order(ties)
    assert got == ["bob", "cat", "zed", "amy", "dan"], (
        f"run_order({ties}): listeners of the same priority run in the order they were "
        f"registered, not by name: expected ['bob', 'cat', 'zed', 'amy', 'dan'], got {got}."
    )
    assert step.run_order([]) == [], "No listeners: run_order([]) is []."
