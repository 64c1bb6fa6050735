"""The hidden suites grade solutions they were not written for, as they should.

``tests/mutants/<exercise>/bug_*.py`` are whole solutions with one realistic bug
each, and ``tests/alternatives/<exercise>/ok_*.py`` correct ones in other styles,
all written from the exercise's text alone by someone who had not read the
hidden suite (each file's docstring names its bug, or its style, and the
sentence of the text it follows or breaks). They were measured against the
suites before any test was written for them; docs/benchmarks.md keeps that
"before" count. Unlike ``tests/mutants/<exercise>.toml`` (edits of the reference
solution), they are kept whole: they are other people's programs.

Every bug_ must lose points on its exercise; every ok_ must get them all. They
are graded in one ``day25 grade`` batch, as an instructor would grade a class
(``python benchmarks/blind_batch.py`` grades the same files, or a new batch before
any test is written for it, and prints the counts).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from day25.course.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
FULL = 25.0

pytestmark = [pytest.mark.xdist_group("blind_variants"), pytest.mark.timeout(1200)]


@dataclass(frozen=True)
class Variant:
    exercise: str
    module: str
    path: Path

    @property
    def buggy(self) -> bool:
        return self.path.name.startswith("bug_")

    @property
    def student(self) -> str:
        return f"{self.exercise}__{self.path.stem}"


def _variants() -> list[Variant]:
    found = []
    for ex in load_catalogue(ROOT).exercises:
        for folder, prefix in (("mutants", "bug_"), ("alternatives", "ok_")):
            for path in sorted((ROOT / "tests" / folder / ex.id).glob(f"{prefix}*.py")):
                found.append(Variant(ex.id, ex.module, path))
    return found


VARIANTS = _variants()


@dataclass(frozen=True)
class Batch:
    gradebook: dict[str, dict[str, str]]
    reviewed: list[dict[str, str]]  # review.csv's rows
    stdout: str


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    work = tmp_path_factory.mktemp("blind")
    batch = work / "batch"
    for v in VARIANTS:
        (batch / v.student).mkdir(parents=True)
        shutil.copy(v.path, batch / v.student / v.module)
    day25 = Path(sys.executable).with_name("day25")
    proc = subprocess.run([str(day25), "grade", str(batch), "--out", str(work / "out"),
                           "--jobs", "2", "--course", str(ROOT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1100,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(work / "out" / "gradebook.csv", newline="", encoding="utf-8") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    with open(work / "out" / "review.csv", newline="", encoding="utf-8") as f:
        yield Batch(book, list(csv.DictReader(f)), proc.stdout)


@pytest.fixture(scope="module")
def gradebook(batch: Batch) -> dict[str, dict[str, str]]:
    return batch.gradebook


def test_the_review_flags_none_of_them(batch: Batch) -> None:
    """Other people's honest programs, right or wrong: the same batch's review.csv
    names none (each flag would be a student an instructor reads for nothing)."""
    assert batch.reviewed == []
    assert "review: no submission reaches beyond what the exercises need" in batch.stdout


def test_there_are_at_least_ten_blind_bugs_per_exercise() -> None:
    for ex in load_catalogue(ROOT).exercises:
        bugs = [v for v in VARIANTS if v.exercise == ex.id and v.buggy]
        assert len(bugs) >= 10, f"{ex.id}: only {len(bugs)} blind bug variants"


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.student for v in VARIANTS])
def test_a_blind_variant_gets_the_grade_its_text_says(
    variant: Variant, gradebook: dict[str, dict[str, str]]
) -> None:
    points = float(gradebook[variant.student][variant.exercise])
    first_line = variant.path.read_text(encoding="utf-8").split('"""')[1].strip().splitlines()[0]
    if variant.buggy:
        assert points < FULL, f"{variant.path.name} ({first_line}) gets {points}/25: no test " \
                              "catches its bug"
    else:
        assert points == FULL, f"{variant.path.name} ({first_line}) is correct but gets " \
                               f"{points}/25"
