"""The reviewed lists of equivalent mutants stay true to the solutions they describe.

``benchmarks/mutation.py`` leaves the mutants listed in
``tests/mutants/equivalent/<exercise>.toml`` out of each suite's score. An entry
whose line no longer exists in the solution would silently excuse nothing, and
one without a reason would excuse anything: both fail here, in every run, while
the mutation run itself stays a benchmark.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from day25.course.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "mutants" / "equivalent"
EXERCISES = {ex.id: ex for ex in load_catalogue(ROOT).exercises}


def test_every_list_names_an_exercise() -> None:
    lists = sorted(p.stem for p in FOLDER.glob("*.toml"))
    assert lists, "no reviewed list of equivalent mutants"
    assert set(lists) <= set(EXERCISES), lists


@pytest.mark.parametrize("path", sorted(FOLDER.glob("*.toml")), ids=lambda p: p.stem)
def test_each_equivalent_names_a_line_of_the_solution_and_says_why(path: Path) -> None:
    solution = (ROOT / "solutions" / EXERCISES[path.stem].module).read_text(encoding="utf-8")
    lines = {line.strip() for line in solution.splitlines()}
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["equivalent"]
    keys = [(e["where"], e["old"], e["new"]) for e in entries]
    assert len(set(keys)) == len(keys), f"{path.name}: an equivalent is listed twice"
    for entry in entries:
        said = f"{path.name}: {entry['old']!r} -> {entry['new']!r}"
        assert entry["old"] in lines, f"{said}: the solution has no such line any more"
        assert entry["old"] != entry["new"], f"{said}: changes nothing"
        assert len(entry["why"].split()) >= 5, f"{said}: say why no program can tell"
