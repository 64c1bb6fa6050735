"""The exercise catalogue: ``exercises/catalogue.toml`` as typed, checked data.

Why one file: the grader, the student check, the notebooks and the docs all
need the same ids, titles, points and hints; reading them from one place keeps
them from drifting apart.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Catalogue", "CatalogueError", "Exercise", "find_course_root", "load_catalogue"]

CATALOGUE = Path("exercises") / "catalogue.toml"


class CatalogueError(ValueError):
    """The catalogue is missing or malformed; the message names the entry and field."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    order: int
    points: int
    module: str  # file name inside a submission, e.g. "priority_ordering.py"
    notebook: str  # path relative to the course root
    hints: tuple[str, ...]

    def hint(self, n: int) -> str:
        """Hint ``n`` (1-based); hints are revealed one at a time."""
        if not 1 <= n <= len(self.hints):
            raise IndexError(f"{self.id} has hints 1..{len(self.hints)}, not {n}")
        return self.hints[n - 1]


@dataclass(frozen=True)
class Catalogue:
    root: Path
    exercises: tuple[Exercise, ...]

    @property
    def total_points(self) -> int:
        return sum(e.points for e in self.exercises)

    def get(self, exercise_id: str) -> Exercise:
        for e in self.exercises:
            if e.id == exercise_id:
                return e
        known = ", ".join(e.id for e in self.exercises)
        raise KeyError(f"no exercise {exercise_id!r}; the catalogue has {known}")

    def ids(self) -> list[str]:
        return [e.id for e in self.exercises]


def find_course_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding the catalogue."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOGUE).is_file():
            return folder
    raise CatalogueError(f"no {CATALOGUE} in {here} or any folder above it")


def _field(entry: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = entry.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CatalogueError(f"{where}: field {name!r} must be {kind.__name__}, got {value!r}")
    return value


def _exercise(entry: Any, where: str) -> Exercise:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a table, got {entry!r}")
    hints = entry.get("hints")
    if not isinstance(hints, list) or not hints or not all(isinstance(h, str) for h in hints):
        raise CatalogueError(f"{where}: 'hints' must be a non-empty list of strings")
    ex_id = _field(entry, "id", str, where)
    return Exercise(
        id=ex_id,
        title=_field(entry, "title", str, where),
        order=_field(entry, "order", int, where),
        points=_field(entry, "points", int, where),
        module=entry.get("module", f"{ex_id}.py"),
        notebook=entry.get("notebook", f"exercises/{ex_id}.ipynb"),
        hints=tuple(hints),
    )


def load_catalogue(root: str | os.PathLike[str] | None = None) -> Catalogue:
    """Read and check the catalogue of the course at (or above) ``root``."""
    course = find_course_root(root)
    path = course / CATALOGUE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc
    entries = data.get("exercise")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{path}: expected [[exercise]] tables")
    exercises = [_exercise(e, f"{path} exercise #{i + 1}") for i, e in enumerate(entries)]
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{path}: duplicate exercise ids in {ids}")
    return Catalogue(course, tuple(sorted(exercises, key=lambda e: e.order)))
