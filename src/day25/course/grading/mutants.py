"""Mutants: the reference solutions with one realistic bug each, kept as data.

Why data and not copies: a mutant is "the solution, except this". Written as
``old -> new`` edits in ``tests/mutants/<exercise>.toml``, each bug is visible at
a glance, the solutions can evolve without 30 stale copies, and an edit whose
``old`` text no longer occurs exactly once is an error (the mutant would
otherwise silently stop being a mutant). ``tests/test_suite_validity.py`` checks
that every mutant loses points; ``benchmarks/grade.py`` grades them too.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Mutant", "MutantError", "load_mutants"]


class MutantError(ValueError):
    """A mutant that cannot be applied to its solution, said plainly."""


@dataclass(frozen=True)
class Mutant:
    exercise: str
    name: str
    bug: str
    edits: tuple[tuple[str, str], ...]

    def apply(self, solution: str) -> str:
        """The solution's source with this mutant's edits made, in order."""
        text = solution
        for n, (old, new) in enumerate(self.edits, start=1):
            found = text.count(old)
            if found != 1:
                raise MutantError(
                    f"mutant {self.exercise}/{self.name}, edit {n}: its `old` text occurs "
                    f"{found} times in the solution (must be exactly once):\n{old}"
                )
            text = text.replace(old, new)
        if text == solution:
            raise MutantError(f"mutant {self.exercise}/{self.name} changes nothing")
        return f"# MUTANT {self.name}: {self.bug}\n{text}"

    def write(self, solution: Path, into: Path) -> Path:
        """Write the mutated solution as ``into/<solution's file name>``."""
        into.mkdir(parents=True, exist_ok=True)
        target = into / solution.name
        target.write_text(self.apply(solution.read_text(encoding="utf-8")), encoding="utf-8")
        return target


def load_mutants(course_root: Path, exercise: str) -> list[Mutant]:
    """The mutants of one exercise, from ``tests/mutants/<exercise>.toml`` (none if absent)."""
    path = course_root / "tests" / "mutants" / f"{exercise}.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MutantError(f"{path}: {exc}") from exc
    mutants = []
    for entry in data.get("mutant", []):
        try:
            edits = tuple((e["old"], e["new"]) for e in entry["edit"])
            mutants.append(Mutant(exercise, entry["name"], entry["bug"], edits))
        except (KeyError, TypeError) as exc:
            raise MutantError(f"{path}: a [[mutant]] needs name, bug and edits ({exc})") from exc
    names = [m.name for m in mutants]
    if len(set(names)) != len(names):
        raise MutantError(f"{path}: mutant names repeat: {names}")
    return mutants
