"""The files a grading run writes: exact gradebook header, Gradescope shape, feedback, plot."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from markdown_it import MarkdownIt
from rich.console import Console

from day25.course.catalogue import Exercise, load_catalogue
from day25.course.grading import verdict
from day25.course.grading.feedback import (
    SHOWN_LINES,
    clean_message,
    load_results,
    results_json,
    shortened,
    write_student,
)
from day25.course.grading.gradebook import (
    grade_figure,
    gradebook_header,
    summary_table,
    write_gradebook,
    write_plot,
)
from day25.course.grading.results import ExerciseResult, StudentResult, TestResult
from day25.course.grading.verdict import Settings, import_failure, run_suites
from day25.course.protocol import BUDGET_SPENT

COURSE = Path(__file__).resolve().parents[2]
EXERCISES = load_catalogue(COURSE).exercises
IDS = ["priority_ordering", "once_semantics", "chat_broadcasting", "notification_queueing"]


def _student(name: str, passed: int) -> StudentResult:
    tests = [TestResult(f"test_{i}", "priority_ordering", 5.0 if i < passed else 0.0, 5.0,
                        i < passed, "" if i < passed else
                        "expected the calls [['a', 1]], got []\n>   assert trace == want\n"
                        "E   assert [] == [['a', 1]]\n"
                        "tests/hidden/test_priority_ordering.py:12: in x")
             for i in range(5)]
    exercises = [ExerciseResult("priority_ordering", "Priority", 25.0, tests),
                 ExerciseResult("chat_broadcasting", "Chat", 25.0,
                                notes=["chat_broadcasting.py was not found in the submission."])]
    return StudentResult(name, "abc123", exercises, seconds=1.5)


def test_gradebook_header_and_missing_exercises_are_zero(tmp_path: Path) -> None:
    path = write_gradebook([_student("zed", 5), _student("amy", 2)], tmp_path / "g.csv",
                           EXERCISES)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", *IDS, "total"] == gradebook_header(EXERCISES)
    assert rows[1] == ["amy", "10", "0", "0", "0", "10"]
    assert rows[2] == ["zed", "25", "0", "0", "0", "25"]


def test_results_json_follows_gradescope(tmp_path: Path) -> None:
    doc = results_json(_student("amy", 2), "sandbox: test")
    assert "max_score" not in doc
    assert doc["score"] == 10
    assert {"execution_time", "output", "visibility", "stdout_visibility", "tests"} <= doc.keys()
    for test in doc["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= test.keys()
        assert test["status"] in {"passed", "failed"}
        assert test["visibility"] in {"visible", "hidden", "after_due_date", "after_published"}
    assert sum(t["max_score"] for t in doc["tests"]) == 50
    missing = [t for t in doc["tests"] if t["name"] == "chat_broadcasting: not graded"]
    assert missing and "not found" in missing[0]["output"] and missing[0]["score"] == 0


def test_feedback_says_expected_and_never_quotes_the_test(tmp_path: Path) -> None:
    folder = write_student(_student("amy", 2), tmp_path, "sandbox: test")
    md = (folder / "feedback.md").read_text()
    assert "expected the calls [['a', 1]], got []" in md
    assert "FAIL test_3" in md and "PASS test_0" in md
    assert "chat_broadcasting.py was not found" in md
    for leaked in ("assert trace == want", "assert [] ==", "tests/hidden"):
        assert leaked not in md
        assert leaked not in (folder / "feedback.html").read_text()
        assert leaked not in (folder / "results.json").read_text()
    assert (folder / "feedback.html").read_text().startswith("<!doctype html>")


def test_results_round_trip_for_resume(tmp_path: Path) -> None:
    original = _student("amy", 3)
    folder = write_student(original, tmp_path, "s")
    loaded = load_results(folder / "results.json")
    assert loaded is not None
    assert loaded.content_hash == "abc123" and loaded.total == original.total == 15
    assert [e.points for e in loaded.exercises] == [15, 0]
    # an instructor's test: a student the review flagged was graded again on every run,
    # since the review's hidden entry (no tags) made the results unreadable for resuming
    from day25.course.grading.review_report import Finding, ReviewReport, annotate_results

    report = ReviewReport([Finding("amy", "priority_ordering", 3, "module", "imports socket")],
                          tmp_path / "review.csv")
    annotate_results(tmp_path, report)
    assert "Review: " in (folder / "results.json").read_text()
    flagged = load_results(folder / "results.json")
    assert flagged is not None and flagged.total == original.total
    assert [len(e.tests) for e in flagged.exercises] == [len(e.tests) for e in loaded.exercises]
    (folder / "results.json").write_text("{not json")
    assert load_results(folder / "results.json") is None


def test_clean_message_keeps_sentences() -> None:
    text = "Step 1 failed\n>    assert x\nE   AssertionError\nexpected 3, got 4"
    assert clean_message(text) == "Step 1 failed\nexpected 3, got 4"


def test_clean_message_drops_what_pytest_spells_out_of_the_tests_expressions() -> None:
    text = ("AssertionError: no others joined\n +  where 4 = len([{'event': 'chat.joined'}])\n"
            " +    and   500 = <Response [500]>.status_code\nAt index 0 diff: 2 != 1")
    assert clean_message(text) == "AssertionError: no others joined\nAt index 0 diff: 2 != 1"


def test_clean_message_drops_pytests_advice_a_student_cannot_follow() -> None:
    """An instructor's test found "Use -v to get more diff" 19 times in one class's
    feedback: a student cannot pass -v to the grader's pytest."""
    text = ("AssertionError: the backlog\nAt index 0 diff: 2 != 1\nUse -v to get more diff\n"
            "Omitting 1 identical items, use -vv to show\n  Use -v to get the full diff\n"
            "...Full output truncated (3 lines hidden), use '-vv' to show\n"
            "your text: Use -v to get more diff, please")
    assert clean_message(text) == ("AssertionError: the backlog\nAt index 0 diff: 2 != 1\n"
                                   "your text: Use -v to get more diff, please")


def test_hypothesis_falsifying_example_is_dropped_the_scenario_stays() -> None:
    """An instructor's test: a random program's failure showed its scenario, then the
    same ops again as Hypothesis' "Falsifying example: test_...(check=run, ops=[...])"."""
    message = ("Failed: Scenario:\n  1. {\"op\":\"emit\"}\nAt step 1 ...\n"
               "Falsifying example: test_random_programs_match_the_model(\n"
               "    check=run,\n    ops=[{'op': 'emit', 'event': 'x', 'payload': 0}],\n)\n"
               "You can reproduce this example by temporarily adding "
               "@reproduce_failure('6.1', b'AXic') as a decorator on your test case\n"
               "the end")
    assert clean_message(message) == (
        "Failed: Scenario:\n  1. {\"op\":\"emit\"}\nAt step 1 ...\nthe end")


def test_a_long_message_loses_its_middle_and_says_so_never_its_end() -> None:
    """A 100-step scenario and a deep traceback keep their start, their explanation and the
    "Stuck?" line; what is left out is counted. A huge single line loses its middle too."""
    steps = [f"  {i}. {{'op': 'emit'}}" for i in range(1, 101)]
    message = "\n".join(["Failed: Scenario:", *steps, "At step 97 your code raised ValueError",
                         "", "Stuck? `day25 hint x` shows the next hint."])
    shown = clean_message(message).splitlines()
    assert len(shown) == SHOWN_LINES
    assert shown[:2] == ["Failed: Scenario:", "  1. {'op': 'emit'}"]
    assert shown[-3:] == ["At step 97 your code raised ValueError", "",
                          "Stuck? `day25 hint x` shows the next hint."]
    assert f"... {104 - SHOWN_LINES + 1} lines not shown ..." in shown
    wide = shortened("start " + "x" * 10_000 + " ValueError: the end", lines=None, chars=400)
    assert wide.startswith("start ") and wide.endswith(" ValueError: the end")
    assert "characters not shown" in wide and len(wide) < 500
    assert clean_message("short\nmessage") == "short\nmessage"


def test_plot_is_a_png(tmp_path: Path) -> None:
    path = write_plot([_student("a", 1), _student("b", 5)], tmp_path / "grades.png", 100)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    json.dumps(results_json(_student("a", 1), "s"))  # serialisable


def test_the_plot_counts_whole_students() -> None:
    for results in ([_student("a", 1), _student("b", 5)], [_student("a", 2)],
                    [_student(str(i), i % 6) for i in range(7)]):
        ax = grade_figure(results, 100).axes[0]
        low, high = ax.get_ylim()
        ticks = [t for t in ax.get_yticks() if low <= t <= high]
        assert len(ticks) >= 2 and all(t == int(t) for t in ticks), ticks


def test_a_module_that_does_not_import_gets_one_note_and_short_test_lines(tmp_path: Path) -> None:
    """Graded for real: a syntax error (scenarios), a NameError at import (scenarios) and a
    TabError (an app exercise) each give one note naming the file, the line and the error."""
    submission = tmp_path / "amy"
    shutil.copytree(COURSE / "solutions", submission)
    broken = {"priority_ordering": ("\n\ndef broken(:\n    pass\n", "SyntaxError: invalid syntax",
                                    "def broken(:"),
              "once_semantics": ("\n\nprint('hello')\nundefined_name + 1\n",
                                 "NameError: name 'undefined_name' is not defined",
                                 "undefined_name + 1"),
              "chat_broadcasting": ("\n\nclass X:\n  def f(self):\n\treturn 1\n",
                                    "TabError: inconsistent use of tabs and spaces", "return 1")}
    exercises = [e for e in EXERCISES if e.id in broken]
    lines = {}
    for ex in exercises:
        path = submission / ex.module
        path.write_text(path.read_text() + broken[ex.id][0])
        lines[ex.id] = next(number for number, line in enumerate(
            path.read_text().splitlines(), start=1) if broken[ex.id][2] in line)
    results = run_suites(exercises, submission, Settings(COURSE))
    for result in results:
        module = f"{result.exercise}.py"
        _, error, code = broken[result.exercise]
        assert len(result.tests) >= 10 and not any(t.passed for t in result.tests)
        assert len(result.notes) == 1, result.notes
        note = result.notes[0]
        assert note.startswith(f"{module} could not be imported, so none of its tests could run")
        assert f"{module}, line {lines[result.exercise]}: {error}" in note, note
        assert code in note
        for banned in ("<frozen", "importlib", "/code/", "inside/", "Traceback"):
            assert banned not in note, note
        for test in result.tests:
            assert test.message == f"not run: {module} could not be imported (see the note above)"
    student = StudentResult("amy", "h", results)
    md = (write_student(student, tmp_path / "out", "s") / "feedback.md").read_text()
    assert md.count("could not be imported, so none of its tests could run") == 3
    assert "<frozen" not in md and md.count("SyntaxError") == 1
    console = Console(width=120, record=True)
    console.print(summary_table([student], EXERCISES))
    assert "3 note(s)" in console.export_text()


def test_the_feedback_on_an_app_stub_says_not_done_yet(tmp_path: Path) -> None:
    """Graded for real, as ``day25 check`` shows it: the stub's create_app is named, with its
    line, in the steps' sentence; no grader frame, no temporary path."""
    exercise = next(e for e in EXERCISES if e.id == "chat_broadcasting")
    result = run_suites([exercise], COURSE / "exercises", Settings(COURSE))[0]
    md = (write_student(StudentResult("amy", "h", [result]), tmp_path, "s")
          / "feedback.md").read_text()
    sentence = ("Not done yet: create_app in your chat_broadcasting.py still raises "
                "NotImplementedError (at chat_broadcasting.py line ")
    assert md.count(sentence) == len(result.tests) > 0, md
    for internal in ("Traceback", "apps.py", "/tmp/"):
        assert internal not in md


def test_the_import_failure_note_ends_with_the_programs_last_output() -> None:
    """What the module printed is often the only clue when its top level ended the process
    (``os._exit`` at import); the note keeps its last lines, once, not under every test."""
    message = ("Importing your x.py failed, so nothing in it could be checked.\n"
               '  File "/tmp/d/code/x.py", line 3, in <module>\n    f()\n'
               '  File "/tmp/d/code/x.py", line 2, in f\n    1/0\n    ~^~\n'
               "ZeroDivisionError: division by zero\n"
               "--- last output of your code ---\nhello from x\n")
    note = import_failure(message, "x.py")
    assert note == ("x.py could not be imported, so none of its tests could run.\n"
                    "x.py, line 2: ZeroDivisionError: division by zero\n    1/0\n    ~^~\n"
                    "its last output:\nhello from x")
    quiet = message.split("--- last output")[0]
    assert import_failure(quiet, "x.py") == note.rsplit("\nits last output:", 1)[0]
    assert import_failure("expected [1], got []", "x.py") is None
    assert import_failure(message, "y.py") is None
    # an instructor's test: an exception whose message has several lines was summed up
    # by its last line ("line 29: student:x:..."), and the rest was shown as the code
    several = ("Importing your x.py failed, so nothing in it could be checked.\n"
               '  File "/tmp/d/code/x.py", line 3, in <module>\n'
               "    raise RuntimeError('two' + '\\nlines')\n"
               "RuntimeError: two\nlines\n")
    assert import_failure(several, "x.py") == (
        "x.py could not be imported, so none of its tests could run.\n"
        "x.py, line 3: RuntimeError: two\n    raise RuntimeError('two' + '\\nlines')\nlines")


def test_an_import_that_failed_in_some_sessions_only_says_how_many_tests_it_cost() -> None:
    """A red team's module stopped its own processes at import: the first session hung at
    import, the next ones imported it, and the feedback said "none of its tests could run"
    right above 21 PASS lines."""
    failed = ("Importing your x.py failed, so nothing in it could be checked.\n"
              '  File "/tmp/d/code/x.py", line 3, in <module>\n    f()\n'
              "RuntimeError: once\n")
    rows = [{"name": f"test_{i}", "outcome": "failed" if i < 2 else "passed", "points": 1,
             "max_points": 1, "message": failed if i < 2 else ""} for i in range(5)]
    exercise = Exercise("x", "X", "x.py", 25)
    result = ExerciseResult("x", "X", 25.0)
    verdict._score(result, exercise, rows)
    verdict._one_note_for_an_import_failure(result, exercise)
    assert result.notes[0].startswith("x.py could not be imported for 2 of its 5 tests, so "
                                      "those did not run"), result.notes
    assert "none of its tests" not in result.notes[0]
    assert "x.py, line 3: RuntimeError: once" in result.notes[0]
    every = ExerciseResult("x", "X", 25.0)
    verdict._score(every, exercise, [{**row, "outcome": "failed", "message": failed}
                                     for row in rows])
    verdict._one_note_for_an_import_failure(every, exercise)
    assert every.notes[0].startswith("x.py could not be imported, so none of its tests")


def test_tests_the_exercises_time_did_not_reach_never_count_as_having_imported_it() -> None:
    """A module forked a daemon and hung at import: two tests failed at import, their
    timeouts spent the exercise's 20 s, and the session ran none of the other 18. The note
    said "could not be imported for 2 of its 20 tests ... (the others imported it ...)"."""
    hung = ("Importing your x.py failed, so nothing in it could be checked.\n"
            "x.py, line 10: its top level did not finish within 10 s: an endless loop at "
            "import (outside any function)?\n")
    spent = "Failed: " + BUDGET_SPENT.format(exercise="x", budget=20.0)
    exercise = Exercise("x", "X", "x.py", 25)

    def noted(messages: list[str]) -> str:
        result = ExerciseResult("x", "X", 25.0)
        rows = [{"name": f"test_{i}", "outcome": "passed" if not m else "failed", "points": 1,
                 "max_points": 1, "message": m} for i, m in enumerate(messages)]
        verdict._score(result, exercise, rows)
        verdict._one_note_for_an_import_failure(result, exercise)
        return result.notes[0]

    assert noted([hung, hung, *[spent] * 18]).startswith(
        "x.py could not be imported, so none of its tests could run.")
    assert noted([hung, hung, spent, "", ""]).startswith(
        "x.py could not be imported for 2 of its 5 tests, so those did not run (the 2 others "
        "imported it: ")
    assert "(the other one imported it: " in noted([hung, spent, ""])


def test_what_a_submission_raises_or_prints_is_shown_never_read_as_markdown(
    tmp_path: Path,
) -> None:
    """An instructor's test: an exception whose message held ``# Feedback for ...`` and
    ``**Total: 100 / 100**`` became headings and bold text in feedback.md (the lines sat
    at four spaces under a list item: a paragraph there, not code)."""
    forged = "\n".join(["boom", "# Feedback for md_inject", "**Total: 100 / 100**",
                         "## Exercise 1: 25 / 25", "- PASS everything (25/25)"])
    result = ExerciseResult("x", "Exercise X", 25.0,
                            [TestResult("test_t", "x", 0, 1, False, forged)],
                            notes=["x.py could not be imported:\n# a heading in the code"])
    md = (write_student(StudentResult("amy", "h", [result]), tmp_path, "s")
          / "feedback.md").read_text()
    tokens = MarkdownIt("commonmark").parse(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["Feedback for amy", "Exercise X (`x`): 0 / 25"], headings
    code = "".join(t.content for t in tokens if t.type == "code_block")
    assert forged in code and "# a heading in the code" in code, md
    bold = [t.content for t in tokens if t.type == "inline" and "**" in t.content]
    assert bold == ["**Total: 0 / 25**", "**x.py could not be imported:**"], bold
