"""The grader refuses day25.realtime / day25.serve in a graded module, and the bundled bus
in exercise 1 (its own emitter is what it grades): that exercise scores 0 with a sentence
saying why, and the student's other exercises are unaffected."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from day25.course.catalogue import CatalogueError, load_catalogue

COURSE = Path(__file__).resolve().parents[2]


def test_an_off_limits_import_costs_that_exercise_only(tmp_path: Path) -> None:
    student = tmp_path / "class" / "ann"
    student.mkdir(parents=True)
    for module in ("priority_ordering.py", "once_semantics.py", "chat_broadcasting.py",
                   "notification_queueing.py"):
        shutil.copy(COURSE / "solutions" / module, student / module)
    queue = student / "notification_queueing.py"
    queue.write_text(queue.read_text().replace(  # imported where it is used, not at the top
        "    store = Store(",
        "    from day25.realtime import SQLiteStore  # noqa\n    store = Store(", 1))
    chat = student / "chat_broadcasting.py"
    chat.write_text(chat.read_text().replace(
        "import day25\n", "import day25\nfrom day25.serve import run_command  # noqa\n", 1))
    emitter = student / "priority_ordering.py"  # wrapped around the bus: 21 of 25, once
    emitter.write_text("from day25 import EventBus, EventPriority\n\n\n"
                       "class PriorityEmitter(EventBus):\n"
                       "    def on(self, event, handler, priority=EventPriority.MEDIUM):\n"
                       "        return super().on(event, handler, priority)\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "grade", str(student),
                           "--out", str(out), "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=600, cwd=COURSE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with (out / "gradebook.csv").open() as f:
        [row] = list(csv.DictReader(f))
    assert float(row["once_semantics"]) == 25
    assert float(row["priority_ordering"]) == 0
    assert float(row["chat_broadcasting"]) == 0 and float(row["notification_queueing"]) == 0
    feedback = (out / "ann" / "feedback.md").read_text()
    assert "day25.serve is off limits in this exercise" in feedback
    assert "day25.realtime is off limits in this exercise" in feedback
    assert feedback.count("day25.bus is off limits in this exercise") == 1, feedback


@pytest.mark.parametrize("given", ['"day25.bus"', '["os"]', "[1]"])
def test_a_catalogue_off_limits_that_is_not_day25_modules_is_refused(
        tmp_path: Path, given: str) -> None:
    text = (COURSE / "exercises" / "catalogue.toml").read_text(encoding="utf-8")
    start = text.index("off_limits = [")
    end = text.index("]", start) + 1
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "catalogue.toml").write_text(
        text[:start] + f"off_limits = {given}" + text[end:], encoding="utf-8")
    with pytest.raises(CatalogueError, match="'off_limits' must be a list of day25 module names"):
        load_catalogue(tmp_path)
    assert load_catalogue(COURSE).get("priority_ordering").off_limits[0] == "day25.bus"
