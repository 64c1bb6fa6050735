"""How the grader reads a verdict: missing, garbled, inconsistent or cut-off runs score 0."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from day25.course.catalogue import Exercise
from day25.course.grading.feedback import results_json
from day25.course.grading.results import ExerciseResult, StudentResult, TestResult
from day25.course.grading.verdict import Settings, apportion, run_suite
from day25.course.protocol import IMPORT_FAILED

EX = Exercise("toy", "Toy", "toy.py", 25, hidden_tests="tests/hidden/test_toy.py")


def _course(tmp_path: Path, suite: str, conftest: str = "") -> Settings:
    root = tmp_path / "course"
    (root / "tests" / "hidden").mkdir(parents=True)
    (root / "tests" / "conftest.py").write_text(
        'pytest_plugins = ["day25.course.harness.pytest_plugin"]\n' + conftest)
    (root / "tests" / "hidden" / "test_toy.py").write_text("import pytest\n" + suite)
    (root / "sub").mkdir()
    return Settings(root, exercise_timeout=60, test_timeout=30)


def _run(settings: Settings, timeout: float | None = None) -> tuple[float, list[str], int]:
    result = run_suite(EX, settings.course_root / "sub", settings, timeout=timeout)
    return result.points, result.notes, len(result.tests)


def test_weights_are_scaled_to_the_catalogue_points(tmp_path: Path) -> None:
    settings = _course(tmp_path, "@pytest.mark.points(3)\ndef test_a():\n    pass\n"
                                 "@pytest.mark.points(1)\ndef test_b():\n    assert 1 == 2\n")
    points, notes, count = _run(settings)
    assert (points, notes, count) == (18.75, [], 2)


@pytest.mark.parametrize(("weights", "shares"), [
    ([1] * 30, {0.83: 20, 0.84: 10}),       # 25 / 30 = 0.833...: 2,500 cents, not 2,490
    ([1, 2] * 10, {0.83: 10, 1.67: 10}),
    ([3, 1], {18.75: 1, 6.25: 1}),
    ([1, 1, 1], {8.34: 1, 8.33: 2}),
])
def test_points_are_shared_out_in_cents_that_add_up_to_the_exercise(
        weights: list[int], shares: dict[float, int]) -> None:
    got = apportion(25, [float(w) for w in weights])
    assert sum(round(share * 100) for share in got) == 2500
    assert {share: got.count(share) for share in set(got)} == shares
    assert got == apportion(25, [float(w) for w in weights])  # the same every time


@pytest.mark.parametrize("tests", [8, 11, 12, 13, 19])
def test_an_exercise_passed_in_full_is_worth_its_points_exactly(tests: int) -> None:
    """results.json said 24.999999999999996 of 25: eleven shares of 2.27 and 2.28 summed
    as floats. Every test passed is the exercise's points, and the total adds up."""
    shares = apportion(25, [1.0] * tests)
    done = ExerciseResult("x", "X", 25.0, [TestResult(f"t{i}", "x", share, share, True)
                                           for i, share in enumerate(shares)])
    assert done.points == 25.0
    assert StudentResult("s", "h", [done, replace(done, exercise="y")]).total == 50.0
    assert results_json(StudentResult("s", "h", [done]), "")["extra_data"]["exercises"][
        "x"]["points"] == 25.0


def test_no_weight_shares_out_nothing() -> None:
    assert apportion(25, [0.0, 0.0]) == [0.0, 0.0] and apportion(25, []) == []


def test_run_that_dies_before_writing_results_scores_zero(tmp_path: Path) -> None:
    settings = _course(tmp_path, "import os\ndef test_a():\n    os._exit(0)\n")
    points, notes, _ = _run(settings)
    assert points == 0 and "ended before writing any result" in notes[0]


def test_forged_rows_for_another_exercise_are_rejected(tmp_path: Path) -> None:
    forge = ("import json\ndef pytest_sessionfinish(session):\n"
             "    path = session.config.getoption('--verdict-json')\n"
             "    json.dump([{'exercise': 'other', 'points': 25, 'max_points': 25,"
             " 'outcome': 'passed'}], open(path, 'w'))\n"
             "pytest_sessionfinish.trylast = True\n")
    settings = _course(tmp_path, "def test_a():\n    assert False\n", conftest=forge)
    points, notes, _ = _run(settings)
    assert points == 0 and notes


def test_results_that_contradict_the_exit_code_score_zero(tmp_path: Path) -> None:
    lie = ("import json, pytest\n@pytest.hookimpl(trylast=True)\n"
           "def pytest_sessionfinish(session):\n"
           "    path = session.config.getoption('--verdict-json')\n"
           "    json.dump([{'exercise': 'toy', 'name': 'test_a', 'points': 1, 'max_points': 1,"
           " 'outcome': 'passed'}], open(path, 'w'))\n")
    settings = _course(tmp_path, "def test_a():\n    assert False\n", conftest=lie)
    points, notes, _ = _run(settings)
    assert points == 0 and "ended abnormally" in notes[0]


def test_a_long_message_keeps_its_end_in_the_result(tmp_path: Path) -> None:
    """What went wrong comes last: a message longer than the result keeps loses its middle."""
    settings = _course(tmp_path, "def test_a():\n    pytest.fail('what ran\\n' + 'x' * 9000 + "
                                 "'\\nValueError: the end', pytrace=False)\n")
    message = run_suite(EX, settings.course_root / "sub", settings).tests[0].message
    assert message.startswith("Failed: what ran") and message.endswith("ValueError: the end")
    assert "characters not shown" in message and len(message) < 4100


def test_a_request_the_app_never_answered_is_said_in_words(tmp_path: Path) -> None:
    """The student's test: a POST that hung read only ``httpx.ReadTimeout`` in the feedback."""
    settings = _course(tmp_path, "import httpx\ndef test_a():\n    raise httpx.ReadTimeout("
                                 "'', request=httpx.Request('POST', 'http://x/notifications'))\n")
    message = run_suite(EX, settings.course_root / "sub", settings).tests[0].message
    assert message.startswith("Your server did not answer POST /notifications in time "
                              "(ReadTimeout)"), message


def test_a_hung_run_is_cut_off(tmp_path: Path) -> None:
    settings = _course(tmp_path, "import time\ndef test_a():\n    time.sleep(60)\n")
    points, notes, _ = _run(settings, timeout=3)
    assert points == 0 and "did not finish within 3 s" in notes[0]


def test_a_cut_off_exercise_says_what_its_first_failing_test_said(tmp_path: Path) -> None:
    """The audit: ``time.sleep(600)`` at a module's top level was graded "did not finish
    within 180 s (an endless loop or a handler that never returns?)", while its first test
    had said that the import never finished. The note quotes the first test that did not
    pass; an import failure gets the note every other import failure gets."""
    hung_import = (IMPORT_FAILED.format(module="toy.py")
                   + "\nits top level did not finish within 10 s: an endless loop at import")
    settings = _course(tmp_path, "import time\n"
                                 "from day25.course.harness.errors import SubmissionTimeout\n"
                                 "def test_a():\n    pass\n"
                                 f"def test_b():\n    raise SubmissionTimeout({hung_import!r})\n"
                                 "def test_c():\n    time.sleep(60)\n")
    points, notes, _ = _run(settings, timeout=4)
    assert points == 0 and "did not finish within 4 s" in notes[0] and len(notes) == 2
    assert notes[1].startswith("toy.py could not be imported, so none of its tests could run.")
    assert "its top level did not finish within 10 s" in notes[1]

    settings = _course(tmp_path / "b", "import time\ndef test_a():\n    pytest.fail("
                                       "'the first clue', pytrace=False)\n"
                                       "def test_b():\n    time.sleep(60)\n")
    points, notes, _ = _run(settings, timeout=4)
    assert points == 0 and notes[1] == ("The first of its tests that did not pass, test_a, "
                                        "said: Failed: the first clue")


def test_a_cut_off_run_whose_tests_could_not_run_here_blames_the_machine(tmp_path: Path) -> None:
    """In this stop's chroot the sandbox's zygote could not start: its tests failed with
    "could not run the checks on this machine", the session then ran out of time, and the
    student read "did not finish within 60 s (an endless loop ...?)"."""
    settings = _course(tmp_path, "import time\n"
                                 "from day25.course.sandbox.runner import RunnerError\n"
                                 "def test_a():\n    raise RunnerError('the zygote did not "
                                 "answer')\n"
                                 "def test_b():\n    time.sleep(60)\n")
    result = run_suite(EX, settings.course_root / "sub", settings, timeout=4)
    assert result.points == 0 and result.runner_errors, result.notes
    assert not any("did not finish" in note for note in result.notes), result.notes
    assert "could not run on the grading machine (the zygote did not answer)" in result.notes[0]


def test_missing_suite_is_a_grader_error(tmp_path: Path) -> None:
    settings = _course(tmp_path, "def test_a():\n    pass\n")
    with pytest.raises(FileNotFoundError):
        run_suite(Exercise("nope", "N", "nope.py", 25, hidden_tests="tests/hidden/test_nope.py"),
                  tmp_path, settings)


def test_stop_at_first_failure_skips_the_rest_of_the_exercise_and_only_when_asked(
        tmp_path: Path) -> None:
    """``day25 grade --stop-at-first-failure`` (the blind-batch gate): once a test failed,
    the exercise's later tests do not run and score 0; the tests before it ran as usual."""
    settings = _course(tmp_path, "from pathlib import Path\n"
                                 "def test_a():\n    pass\n"
                                 "def test_b():\n    assert 1 == 2\n"
                                 f"def test_c():\n    Path({str(tmp_path / 'ran')!r}).touch()\n")
    graded = run_suite(EX, settings.course_root / "sub", settings)
    assert [t.passed for t in graded.tests] == [True, False, True] and (tmp_path / "ran").exists()
    (tmp_path / "ran").unlink()
    quick = run_suite(EX, settings.course_root / "sub",
                      Settings(settings.course_root, 60, test_timeout=30,
                               stop_at_first_failure=True))
    assert [(t.passed, t.score) for t in quick.tests] == [(True, 8.34), (False, 0), (False, 0)]
    assert "already failed" in quick.tests[2].message and not (tmp_path / "ran").exists()


def test_stop_at_first_hang_skips_the_rest_after_a_hang_only(tmp_path: Path) -> None:
    """``day25 check``'s: once a test hung, the exercise's later tests would hang too (one
    timeout each), so they are not run and say why; a plain failure stops nothing."""
    settings = _course(tmp_path, "from pathlib import Path\n"
                                 "from day25.course.harness import SubmissionTimeout\n"
                                 "def test_a():\n    assert 1 == 2\n"
                                 "def test_b():\n    raise SubmissionTimeout('did not finish')\n"
                                 f"def test_c():\n    Path({str(tmp_path / 'ran')!r}).touch()\n")
    graded = run_suite(EX, settings.course_root / "sub", settings)
    assert [t.passed for t in graded.tests] == [False, False, True] and (tmp_path / "ran").exists()
    (tmp_path / "ran").unlink()
    quick = run_suite(EX, settings.course_root / "sub", replace(settings, stop_at_first_hang=True))
    assert [t.message for t in quick.tests][1:] == [
        "did not finish", "Not run: a check of toy hung: fix it first, then run again."]
    assert not any(t.passed for t in quick.tests) and not (tmp_path / "ran").exists()
