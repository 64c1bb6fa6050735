"""A submission whose processes take names that are not text costs only its own points.

A process names itself with any 15 bytes (``prctl(PR_SET_NAME)``), and ``/proc/<pid>/stat``
shows them. The sweep that ends what a graded session left behind read that file as
UTF-8: a submission that renamed itself to ``b"\\xff..."`` and hung made the fork
server's sweep raise ``UnicodeDecodeError``, whose traceback reached the instructor's
terminal, and the server that was to end the session died instead. Here such a
submission is graded in one class with honest ones: the honest keep every point, the
renamed processes are gone, and no traceback is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from day25.course.sandbox import processes

from .classroom import COURSE, grade_class, lost, write_class
from .proc_names import kill_named, named

pytestmark = pytest.mark.timeout(600)

OTHERS = ("once_semantics", "chat_broadcasting", "notification_queueing")

ATTACK = '''
import ctypes, os, time
name = {name!r}
ctypes.CDLL(None).prctl(15, name)  # PR_SET_NAME: bytes that are not UTF-8
if os.fork() == 0:
    os.setsid()  # a daemon out of the importing process's session
    ctypes.CDLL(None).prctl(15, name)
    time.sleep(180)  # bounded, so that a broken sandbox leaks for minutes, not for ever
    os._exit(0)
time.sleep(3600)  # the import hangs: the grader cuts the session off
'''


def test_the_process_table_reads_any_name() -> None:
    name = b"\xff\xfe" + uuid.uuid4().hex[:10].encode()
    code = f"import ctypes, time; ctypes.CDLL(None).prctl(15, {name!r}); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while not named(name):
            assert time.monotonic() < deadline, "the process never took its name"
            time.sleep(0.05)
        rows = {row.pid: (row.ppid, row.session) for row in processes._table()}
        assert rows[proc.pid] == (os.getpid(), os.getsid(0))
    finally:
        proc.kill()
        proc.wait()


def test_a_renamed_hanging_submission_loses_only_its_own_points(tmp_path: Path) -> None:
    name = b"\xff\xfe" + uuid.uuid4().hex[:10].encode()
    solutions = {path.name: path.read_text(encoding="utf-8")
                 for path in (COURSE / "solutions").glob("*.py")}
    mallory = {**solutions, "priority_ordering.py": ATTACK.format(name=name)}
    students = {"mallory": mallory, **{f"honest{i}": solutions for i in range(3)}}
    write_class(tmp_path / "class", students)
    try:
        proc, rows = grade_class(tmp_path / "class", tmp_path / "out",
                                 "--exercise-timeout", "20")
        said = proc.stdout + proc.stderr
        assert proc.returncode == 0, said
        assert "Traceback" not in said and "UnicodeDecodeError" not in said, said
        for student in ("honest0", "honest1", "honest2"):
            assert rows[student]["total"] == "100", lost(tmp_path / "out", student)
        assert rows["mallory"]["priority_ordering"] == "0"
        # her other three are the reference solutions: the hang costs its own exercise only
        # (her daemon once held the session's pipes until the wall clock cut it off, and
        # the exercise after priority_ordering in that session scored 0 "for a hang")
        assert {ex: rows["mallory"][ex] for ex in OTHERS} == dict.fromkeys(OTHERS, "25"), \
            lost(tmp_path / "out", "mallory")
        deadline = time.monotonic() + 5
        while (left := named(name)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == [], f"{len(left)} renamed process(es) outlived the grading"
    finally:
        kill_named(name)
