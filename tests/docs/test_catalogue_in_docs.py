"""What the pages say about the exercises is what ``exercises/catalogue.toml`` says.

The catalogue is the one list of exercises; the code reads it, but a few pages name the
exercises, count them or give their points in words, for a reader who has not opened
it. A contributor who adds an exercise (docs/dev/adding-an-exercise.md) learns here
which sentences to change. The audit that asked for this added a fifth exercise: every
command picked it up, while the exercises' index page and the student guide still
listed four, "25 points each".
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from day25.course.catalogue import Catalogue, load_catalogue

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
           "ten", "eleven", "twelve"]
#: the pages a student or a newcomer reads first, and the README a release ships
PAGES = ["README.md", "docs/index.md", "docs/exercises/index.md", "docs/guides/student.md",
         "src/day25/course/grading/bundle_readme.md"]
#: sentences that count the graded exercises, and the ladder's steps
EXERCISE_COUNT = re.compile(
    r"\b(\w+) (?:graded (?:exercises|projects)|exercise modules)\b|\bthe (\w+) projects\b"
    r"|\bthose (\w+) files\b", re.IGNORECASE)
STEP_COUNT = re.compile(r"\b(\w+) small steps\b", re.IGNORECASE)
POINTS_EACH = re.compile(r"\b(\d+) points each\b")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT)


def _counted(pattern: re.Pattern[str], text: str, wanted: str) -> list[str]:
    """Each line where ``pattern`` finds a number word ("four"; not "your" in "your exercise
    modules") other than ``wanted``, as ``line N: ...`` for the contributor to change."""
    wrong = []
    for found in pattern.finditer(text):
        word = next(group for group in found.groups() if group).lower()
        if word in NUMBERS and word != wanted:
            number = text.count("\n", 0, found.start()) + 1
            wrong.append(f"line {number}: {text.splitlines()[number - 1].strip()}")
    return wrong


@pytest.mark.parametrize("page", PAGES)
def test_a_page_counts_the_exercises_and_their_points_as_the_catalogue_does(
    page: str, catalogue: Catalogue
) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    exercises, steps = NUMBERS[len(catalogue.exercises)], NUMBERS[len(catalogue.steps)]
    wrong = _counted(EXERCISE_COUNT, text, exercises)
    assert not wrong, f"{page}: the catalogue has {exercises} exercises, not as here: {wrong}"
    wrong = _counted(STEP_COUNT, text, steps)
    assert not wrong, f"{page}: the catalogue has {steps} steps, not as here: {wrong}"
    points = {exercise.points for exercise in catalogue.exercises}
    for said in POINTS_EACH.finditer(text):
        line = text.count("\n", 0, said.start()) + 1
        assert points == {int(said[1])}, (
            f"{page}, line {line}, says {said[0]}; the catalogue gives {sorted(points)}: "
            "'N points each' holds only while every exercise has N")


def test_the_exercises_index_lists_the_steps_and_exercises_in_order(catalogue: Catalogue) -> None:
    text = (ROOT / "docs/exercises/index.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| \[(Exercise \d+: \w+)\]\((\w+)\.md\) \|", text, re.MULTILINE)
    assert listed == [(e.title, e.id) for e in catalogue.exercises]
    steps = re.findall(r"^\| `(\w+)` \| .* \| (Exercise \d+) \|$", text, re.MULTILINE)
    titles = {e.id: e.title.split(":")[0] for e in catalogue.exercises}
    assert steps == [(s.id, titles[s.leads_to]) for s in catalogue.steps]


def test_the_student_guide_lists_each_exercise_with_its_module_and_steps(
    catalogue: Catalogue,
) -> None:
    text = (ROOT / "docs/guides/student.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (Exercise \d+: \w+) \| `(\S+)` \| (.*) \|$", text, re.MULTILINE)
    expected = [(e.title, e.module,
                 ", ".join(f"`{s.id}`" for s in catalogue.steps if s.leads_to == e.id))
                for e in catalogue.exercises]
    assert rows == expected


def test_each_exercise_is_titled_with_its_points_on_its_page_and_in_its_notebook(
    catalogue: Catalogue,
) -> None:
    for exercise in catalogue.exercises:
        title = f"# {exercise.title} ({exercise.points} points)"
        page = (ROOT / "docs/exercises" / f"{exercise.id}.md").read_text(encoding="utf-8")
        assert page.splitlines()[0] == title, exercise.id
        notebook = nbformat.read(ROOT / exercise.notebook, as_version=4)
        assert notebook.cells[0].source.splitlines()[0] == title, exercise.notebook
