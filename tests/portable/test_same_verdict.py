"""The same code gets the same verdict on every runner, test by test.

``same_verdict.py`` grades the solutions, the stubs and one mutant of each
exercise with the hidden suites: the sandboxed runner, the portable one on
Linux, and the portable one on simulated macOS and Windows. (Run it by hand
without ``--mutants`` for every mutant; the report quotes that table.)
"""

from __future__ import annotations

import json

import pytest

from .conftest import run, simulated_env


@pytest.mark.timeout(1800)
def test_solutions_stubs_and_mutants_get_the_same_verdict() -> None:
    proc = run(["tests/portable/same_verdict.py", "--mutants", "1", "--json"],
               simulated_env(None), timeout=1700)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = {(row["submission"], row["exercise"]): row for row in report["rows"]}
    assert report["same"] and len(rows) == 12
    verdicts = [value for row in report["rows"] for key, value in row.items()
                if key.startswith(("sandboxed", "portable"))]
    assert len(verdicts) == 48
    full = rows["solution", "priority_ordering"]["portable (Windows, simulated)"]
    passed, _, rest = full.partition("/")
    assert rest == f"{passed} (25 pts)", full  # every hidden test of priority_ordering passes
    assert rows["stub", "notification_queueing"]["portable (macOS, simulated)"].startswith("0/")
    mutants = [row for key, row in rows.items() if key[0].startswith("mutant")]
    assert len(mutants) == 4
    assert all("(25 pts)" not in row["sandboxed (Linux)"] for row in mutants)  # each loses
