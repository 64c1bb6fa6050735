"""A submission's own memory holds no session request: not its own, not a classmate's.

Every sandboxed process is forked, through its zygote, from warm grading
processes, and carries their memory. Found by a red team: the session server had
read every student's session request (their paths, the grader's environment and
log paths) before it forked the zygotes, and a submission found them by reading
its own heap. Zygotes now come from a process forked before any request was read.
Here a submission scans every writable mapping of its own process for the marks
of a session request (``"env": {`` and ``"log": "``, which only that message has)
and says how many it found, graded after a classmate in one real batch.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .classroom import COURSE, grade_class, write_class

MODULE = "priority_ordering.py"
SOLUTION = (COURSE / "solutions" / MODULE).read_text(encoding="utf-8")

pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("hostile_memory")]

SCAN = '''

def _scan_own_memory():
    import ctypes, re
    marks = re.compile(rb'"en[v]": [{]"|"lo[g]": "')  # a pattern that does not match itself
    found = 0
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        name = fields[5] if len(fields) > 5 else ""
        if not fields[1].startswith("rw") or name.startswith("[v"):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if end - start > 1 << 29:
            continue
        data = ctypes.string_at(start, end - start)
        found += len(marks.findall(data))
    raise AssertionError(f"MEMORY SCAN: {found} session request marks")


_scan_own_memory()
'''


@pytest.fixture(scope="module")
def graded() -> Iterator[dict[str, Any]]:
    root = Path(f"/var/tmp/day25-memory-{uuid.uuid4().hex[:8]}")
    write_class(root / "class", {"a_classmate": {MODULE: SOLUTION},
                                 "b_scanner": {MODULE: SOLUTION + SCAN}})
    try:
        proc, rows = grade_class(root / "class", root / "out")
        feedback = (root / "out" / "b_scanner" / "feedback.md").read_text(encoding="utf-8")
        yield {"proc": proc, "rows": rows, "feedback": feedback}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_no_session_request_is_in_a_submissions_memory(graded: dict[str, Any]) -> None:
    assert graded["proc"].returncode == 0, graded["proc"].stderr[-3000:]
    counts = re.findall(r"MEMORY SCAN: (\d+) session request marks", graded["feedback"])
    assert counts, graded["feedback"][:2000]  # the scan ran, inside, and said what it found
    assert set(counts) == {"0"}, counts


def test_the_classmate_is_graded_as_usual(graded: dict[str, Any]) -> None:
    assert float(graded["rows"]["a_classmate"]["priority_ordering"]) == 25
