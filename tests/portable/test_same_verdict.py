"""The same code gets the same verdict on every runner, test by test.

``same_verdict.py`` grades the solutions, the stubs and one mutant of each
exercise with the hidden suites: the sandboxed runner, the portable one on
Linux, and the portable one on simulated macOS and Windows. (Run it by hand
without ``--mutants`` for every mutant; the report quotes that table.) One test
per exercise, so that the four comparisons run side by side on the workers.
"""

from __future__ import annotations

import json

import pytest

from day25.course.catalogue import load_catalogue

from .conftest import COURSE, run, simulated_env

EXERCISES = [ex.id for ex in load_catalogue(COURSE).exercises]
RUNNERS = ["sandboxed (Linux)", "portable (Linux)", "portable (macOS, simulated)",
           "portable (Windows, simulated)"]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("exercise", EXERCISES)
def test_solution_stub_and_a_mutant_get_the_same_verdict(exercise: str) -> None:
    proc = run(["tests/portable/same_verdict.py", "--mutants", "1", "--exercise", exercise,
                "--json"], simulated_env(None), timeout=800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["same"], report
    rows = {row["submission"].split()[0]: row for row in report["rows"]}
    assert sorted(rows) == ["mutant", "solution", "stub"], rows  # one row each, this exercise
    assert all(row["exercise"] == exercise and list(row)[2:] == RUNNERS
               for row in report["rows"])
    for runner in RUNNERS:  # the same verdict, and the one each deserves
        passed, _, rest = rows["solution"][runner].partition("/")
        assert rest == f"{passed} (25 pts)", rows["solution"]  # every hidden test passes
        assert rows["stub"][runner].startswith("0/"), rows["stub"]
        assert "(25 pts)" not in rows["mutant"][runner], rows["mutant"]  # it loses points
