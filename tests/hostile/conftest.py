"""The hostile batch: the whole class of ``classroom.py`` graded once, shared by the tests here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .classroom import Listener, Places, build, grade_class


@pytest.fixture(scope="session")
def batch() -> Iterator[dict[str, Any]]:
    """``day25 grade --jobs 2`` on the class; the run's output, rows and places."""
    places = Places()
    listener = Listener()
    try:
        places.plant()
        build(places, listener.port)
        proc, rows = grade_class(places.klass, places.out, "--exercise-timeout", "30",
                                 "--submission-timeout", "60", "--test-timeout", "15", jobs=2)
        listener.close()
        yield {"proc": proc, "out": places.out, "rows": rows, "received": listener.received,
               "port": listener.port, "places": places}
    finally:
        listener.close()
        places.remove()

