"""Hints on request: the next one each time a student asks, remembered per workspace.

Why remembered: hints go from a nudge to the concept to the shape of the code,
and a student who asked twice should not have to ask twice again after a
restart. Why only on request: a hint shown by a failing check gives the answer
away before the student had a chance to think (``day25 check`` never calls
this). The state is a small JSON file, ``.day25-hints.json``, in the
student's exercises folder: ``{item id: hints revealed}``; ``day25 release``
leaves it out.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from day25.course.catalogue import Exercise

__all__ = ["STATE_FILE", "Revealed", "next_hint", "reset_hints", "revealed"]

STATE_FILE = ".day25-hints.json"


@dataclass(frozen=True)
class Revealed:
    """The hints of one item shown so far (the newest last), out of ``total``."""

    item: Exercise
    hints: tuple[str, ...]
    total: int

    @property
    def all_shown(self) -> bool:
        return len(self.hints) >= self.total


def _load(folder: Path) -> dict[str, int]:
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, int)}


def _save(folder: Path, state: dict[str, int]) -> None:
    with contextlib.suppress(OSError):  # a read-only folder still gets the hint, unremembered
        (folder / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")


def revealed(folder: Path, item: Exercise) -> Revealed:
    """The hints of ``item`` shown so far in this workspace."""
    shown = min(max(_load(folder).get(item.id, 0), 0), len(item.hints))
    return Revealed(item, item.hints[:shown], len(item.hints))


def next_hint(folder: Path, item: Exercise) -> Revealed:
    """Reveal one more hint of ``item`` (all of them stay revealed once shown)."""
    state = _load(folder)
    state[item.id] = min(max(state.get(item.id, 0), 0) + 1, len(item.hints))
    _save(folder, state)
    return revealed(folder, item)


def reset_hints(folder: Path, item: Exercise | None = None) -> None:
    """Forget the revealed hints of ``item`` (of every item without one)."""
    state = _load(folder)
    for key in [item.id] if item is not None else list(state):
        state.pop(key, None)
    _save(folder, state)
