"""The instructor's working folder is not on the grader's import path.

Found by a red team: ``day25 grade . --single`` run from inside a student's folder
started the session server (root, outside the sandbox) with ``python -m``, which puts
the working folder first on ``sys.path``; the student's ``json.py`` there ran in the
server and in every pytest session forked from it, where it could read the hidden
tests and rewrite any grade. The grader's own processes start with ``-P``, like the
sandboxed ones: a file beside the student's modules is never imported by the grader.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from day25.course.sandbox import namespaces

from .classroom import COURSE, SOLUTION

pytestmark = [pytest.mark.timeout(600)]

#: a student's extra file named like a module the grader imports after it starts: it
#: leaves a mark, then hands over the real module so that grading goes on unaware
SHADOW = '''
import os, sys
with open({mark!r}, "a") as out:
    out.write(f"pid={{os.getpid()}} uid={{os.getuid()}} argv={{sys.argv!r}}\\n")
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
del sys.modules["json"]
import importlib
real = importlib.import_module("json")
sys.modules["json"] = real
globals().update({{k: v for k, v in vars(real).items() if k != "__file__"}})
'''


def test_a_students_json_py_in_the_working_folder_never_runs_in_the_grader(
        tmp_path: Path) -> None:
    student = tmp_path / "ann"
    student.mkdir()
    (student / "priority_ordering.py").write_text(SOLUTION, encoding="utf-8")
    mark = tmp_path / "SHADOW_RAN"
    (student / "json.py").write_text(SHADOW.format(mark=str(mark)), encoding="utf-8")
    out = tmp_path / "out"
    unsafe = [] if namespaces.hardened() else ["--unsafe-shared-filesystem"]
    proc = subprocess.run(
        # -P: as the `day25` command starts, without the working folder on the path
        [sys.executable, "-P", "-m", "day25.cli", "grade", ".", "--single", "--out", str(out),
         "--course", str(COURSE), *unsafe],
        capture_output=True, text=True, timeout=600, cwd=student,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not mark.exists(), f"the student's json.py ran in the grader:\n{mark.read_text()}"
    rows = (out / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1].split(",")[:2] == ["student", "25"], rows  # --single: one "student"
