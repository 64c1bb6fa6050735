"""The hostile batch: the whole class of ``classroom.py`` graded once, shared by the tests here."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from day25.course.sandbox import namespaces

from .classroom import COURSE, Listener, Places, build


@pytest.fixture(scope="session")
def batch() -> Iterator[dict[str, Any]]:
    """``day25 grade --jobs 2`` on the class; the run's output, rows and places."""
    places = Places()
    listener = Listener()
    try:
        places.plant()
        build(places, listener.port)
        # without namespaces the grader refuses a class unless told (test_allow_list checks)
        unsafe = [] if namespaces.hardened() else ["--unsafe-shared-filesystem"]
        proc = subprocess.run(
            [sys.executable, "-m", "day25.cli", "grade", str(places.klass), "--out",
             str(places.out), "--jobs", "2", "--exercise-timeout", "30", "--submission-timeout",
             "60", "--test-timeout", "15", "--course", str(COURSE), *unsafe],
            capture_output=True, text=True, timeout=900, cwd=COURSE,
            env={**os.environ, "COLUMNS": "200"},
        )
        listener.close()
        with (places.out / "gradebook.csv").open() as fh:
            rows = {row["student"]: row for row in csv.DictReader(fh)}
        yield {"proc": proc, "out": places.out, "rows": rows, "received": listener.received,
               "port": listener.port, "places": places}
    finally:
        listener.close()
        places.remove()

