"""Mutants are data: each applies cleanly to its solution, and a stale one is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from day25.course.catalogue import load_catalogue
from day25.course.grading.mutants import Mutant, MutantError, load_mutants

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = [exercise.id for exercise in load_catalogue(ROOT).exercises]
GUIDE = ROOT / "docs" / "dev" / "adding-an-exercise.md"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_has_five_mutants_that_apply_and_compile(exercise: str) -> None:
    mutants = load_mutants(ROOT, exercise)
    assert len(mutants) >= 5
    solution = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    for mutant in mutants:
        source = mutant.apply(solution)
        assert source != solution and source.startswith(f"# MUTANT {mutant.name}: ")
        compile(source, f"{exercise}/{mutant.name}", "exec")
        assert mutant.bug, f"{mutant.name} does not say what its bug is"


def test_an_edit_that_no_longer_matches_is_a_clear_error() -> None:
    stale = Mutant("x", "stale", "gone", (("not in the solution", "y"),))
    with pytest.raises(MutantError, match="occurs 0 times"):
        stale.apply("print('solution')\n")
    ambiguous = Mutant("x", "twice", "two", (("a", "b"),))
    with pytest.raises(MutantError, match="occurs 2 times"):
        ambiguous.apply("a = 1\na = 2\n")
    noop = Mutant("x", "noop", "nothing", (("a", "a"),))
    with pytest.raises(MutantError, match="changes nothing"):
        noop.apply("a = 1\n")


def test_a_malformed_catalogue_is_named(tmp_path: Path) -> None:
    (tmp_path / "tests" / "mutants").mkdir(parents=True)
    (tmp_path / "tests" / "mutants" / "x.toml").write_text('[[mutant]]\nname = "n"\n')
    with pytest.raises(MutantError, match="needs name, bug and edits"):
        load_mutants(tmp_path, "x")
    (tmp_path / "tests" / "mutants" / "x.toml").write_text("[[mutant]\n")
    with pytest.raises(MutantError, match=r"x\.toml"):
        load_mutants(tmp_path, "x")
    assert load_mutants(tmp_path, "absent") == []


def test_the_contributor_guides_example_loads_and_applies(tmp_path: Path) -> None:
    """docs/dev/adding-an-exercise.md shows the file's format: a contributor who first
    guessed it from a sentence got "a [[mutant]] needs name, bug and edits"."""
    example = GUIDE.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "tests" / "mutants").mkdir(parents=True)
    (tmp_path / "tests" / "mutants" / "x.toml").write_text(example, encoding="utf-8")
    (mutant,) = load_mutants(tmp_path, "x")
    solution = "    for handler in list(self._listeners.get(event, [])):\n        handler()\n"
    assert "for handler in self._listeners.get(event, []):" in mutant.apply(solution)
