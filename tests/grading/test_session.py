"""The warm session server: sessions are forks, survive their starter thread, and a cut-off
session keeps the exercises it had finished; the server forks from one thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from day25.course.catalogue import Exercise
from day25.course.grading.verdict import Settings, run_suites

PASS = "def test_a():\n    pass\n"
HANG = "import time\ndef test_a():\n    time.sleep(120)\n"


def _course(tmp_path: Path, suites: dict[str, str]) -> Settings:
    root = tmp_path / "course"
    (root / "tests" / "hidden").mkdir(parents=True)
    (root / "tests" / "conftest.py").write_text(
        'pytest_plugins = ["day25.course.harness.pytest_plugin"]\n')
    for name, body in suites.items():
        (root / "tests" / "hidden" / f"test_{name}.py").write_text(body)
    (root / "sub").mkdir()
    return Settings(root, exercise_timeout=60, test_timeout=60)


def _ex(name: str) -> Exercise:
    return Exercise(name, name.title(), f"{name}.py", 25,
                    hidden_tests=f"tests/hidden/test_{name}.py")


def test_the_warm_servers_fork_from_one_thread() -> None:
    """A fork copies only the thread that forks: a lock another thread held stays held
    in the child (Python 3.12+ warns on every such fork). nexios started a log thread
    at import, in the session server and in every zygote forked from it."""
    script = ("import os, sys\n"
              "from day25.course.grading import session_server\n"
              "session_server.preload()\n"
              "assert 'nexios' in sys.modules and 'uvicorn' in sys.modules\n"
              "print(len(os.listdir('/proc/self/task')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"], done.stdout + done.stderr


def test_the_server_outlives_the_thread_that_started_it(tmp_path: Path) -> None:
    settings = _course(tmp_path, {"one": PASS})
    scores: list[float] = []

    def grade() -> None:
        scores.extend(r.points for r in run_suites([_ex("one")], tmp_path / "course" / "sub",
                                                    settings))

    for _ in range(2):  # each from a thread that ends before the next one starts
        worker = threading.Thread(target=grade)
        worker.start()
        worker.join()
    assert scores == [25.0, 25.0]


def test_a_cut_off_session_keeps_the_exercises_it_finished(tmp_path: Path) -> None:
    settings = _course(tmp_path, {"done": PASS, "hangs": HANG})
    done, hangs = run_suites([_ex("done"), _ex("hangs")], tmp_path / "course" / "sub", settings,
                             timeout=8)
    assert done.points == 25 and done.notes == []
    assert hangs.points == 0 and "did not finish within 8 s" in hangs.notes[0]


def test_an_exercise_over_its_budget_fails_its_remaining_tests(tmp_path: Path) -> None:
    """The test running when the budget runs out is cut there, not at its own timeout:
    else it would take that time from the next exercise, here all of it."""
    slow = ("import time\ndef test_a():\n    time.sleep(1)\ndef test_b():\n    time.sleep(120)\n"
            "def test_c():\n    pass\n")
    settings = _course(tmp_path, {"slow": slow, "next": PASS})
    settings = Settings(settings.course_root, exercise_timeout=2.5, test_timeout=60)
    slow_result, next_result = run_suites([_ex("slow"), _ex("next")],
                                          tmp_path / "course" / "sub", settings, timeout=30)
    assert [t.passed for t in slow_result.tests] == [True, False, False], slow_result.notes
    assert slow_result.tests[1].message.startswith(
        "Cut off: the tests of slow used up their 2.5 s while this one ran")
    assert ("Not run: the tests of slow used up their 2.5 s before reaching this one"
            in slow_result.tests[2].message)
    assert next_result.points == 25, "the next exercise still gets its whole budget"


def test_a_test_past_its_timeout_says_so_in_plain_words(tmp_path: Path) -> None:
    """Not pytest-timeout's "Timeout (>2.0s) from pytest-timeout"; and for `day25 check`
    (stop at the first hang) the exercise's other tests are not run, each waiting as long."""
    hangs = HANG + "def test_b():\n    pass\n"
    settings = _course(tmp_path, {"hangs": hangs})
    for stop in (False, True):
        settings = Settings(settings.course_root, exercise_timeout=60, test_timeout=2,
                            stop_at_first_hang=stop)
        [result] = run_suites([_ex("hangs")], tmp_path / "course" / "sub", settings, timeout=30)
        first, second = result.tests
        assert first.message == ("This test did not finish within its 2 s: an endless loop, a "
                                 "listener that never returns, or an emit that waits on itself?")
        assert second.passed is not stop, second.message
        if stop:
            assert second.message.startswith("Not run: a check of hangs hung: fix it first")


def test_no_cut_where_a_timeout_would_end_the_whole_session(tmp_path: Path) -> None:
    """Where pytest-timeout has no signal to fail one test (Windows: its thread method ends
    the process), a test is not cut at the budget: that would end the session, and every
    exercise in it, for a test that finishes within its own timeout."""
    slow = "import time\ndef test_a():\n    time.sleep(3)\ndef test_b():\n    pass\n"
    root = _course(tmp_path, {"slow": slow}).course_root
    verdict = tmp_path / "verdict.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/hidden/test_slow.py", "-q", "-p",
         "no:cacheprovider", "-p", "pytest_timeout", "--timeout", "60",
         "--timeout-method", "thread", "--exercise-budget", "1.5", "--verdict-json",
         str(verdict), "--submission", str(root / "sub")],
        cwd=root, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})  # as the grader runs it
    assert verdict.exists(), done.stdout + done.stderr  # the session lived to write it
    rows = {row["name"]: row for row in json.loads(verdict.read_text())}
    assert rows["test_a"]["outcome"] == "passed", rows
    assert "used up their 1.5 s before reaching this one" in rows["test_b"]["message"], rows
