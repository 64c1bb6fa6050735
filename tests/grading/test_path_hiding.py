"""What a student's feedback says about paths: their own file by its name, the grader's
files and the hidden suite never by theirs, on Linux and on an instructor's Windows."""

from __future__ import annotations

from pathlib import Path

import pytest

import day25
from day25.course.grading.feedback import clean_message, hide_grader_paths

COURSE = Path(__file__).resolve().parents[2]


def test_clean_message_quotes_the_students_own_text_that_looks_like_a_path() -> None:
    """The audit: a RuntimeError("probe.py: ...\ntests/hidden ...") out of once() and a
    payload "leak.py: tests/hidden/x" each lost their whole line, the latter the "should
    have been called as ... but were called as ..." sentence, leaving steps with no reason."""
    said = ("Failed: Scenario:\n  1. {\"op\":\"once\",\"event\":\"e\"}\n"
            "At step 2 your code raised RuntimeError: probe.py: a line with a colon after .py\n"
            "tests/hidden mention line (at once_semantics.py line 28, in once: raise X)\n"
            "At step 3 the listeners should have been called as [['a', 1]] ([listener, "
            "payload], in order), but were called as [['a', 'leak.py: tests/hidden/x']]\n"
            "See docs/exercises/once_semantics.md and the exercise's hints.")
    assert clean_message(said) == said


def test_clean_message_hides_the_graders_paths_inside_a_line_and_its_location_lines() -> None:
    """What the filter protects: where the hidden suite and the grader's files are. Only
    those parts go; a line that says something keeps it, the path replaced."""
    package = Path(day25.__file__).parent
    message = ("expected 3, got 4\n"
               "tests/hidden/test_once_semantics.py:12: in test_x\n"
               f"{COURSE}/tests/hidden/toy/model.py:40: AssertionError\n"
               "src/day25/course/harness/scenarios.py:80: in run\n"
               f"{package}/course/inside/listeners.py:88: RuntimeWarning: coroutine 'a' was "
               "never awaited\n"
               "the model (tests/hidden/toy/model.py) disagrees")
    assert clean_message(message) == (
        "expected 3, got 4\n"
        "<grader file>:88: RuntimeWarning: coroutine 'a' was never awaited\n"
        "the model (<hidden test>) disagrees")


def test_a_library_file_is_named_as_one_not_as_the_graders() -> None:
    """A student's test: a RecursionError in json.loads showed its stdlib frames as
    `File "<grader file>", line 346, in loads`, as if the grader had crashed. The grader's
    own files stay hidden; Python's and the installed packages' are named by their path in
    the library (json/decoder.py, nexios/...), which is no secret and says where it was."""
    import json as json_module
    import sysconfig

    import nexios

    package = Path(day25.__file__).parent
    stdlib = Path(json_module.__file__).parent / "decoder.py"
    nexios_file = Path(nexios.__file__).parent / "websockets" / "base.py"
    message = (f'File "{stdlib}", line 346, in loads\n'
               f'File "{nexios_file}", line 9, in send_text\n'
               f'File "{package}/course/inside/apps.py", line 5, in serve\n'
               f'File "{sysconfig.get_paths()["scripts"]}/uvicorn_helper.py", line 1, in x')
    assert hide_grader_paths(message) == (
        'File "<library file json/decoder.py>", line 346, in loads\n'
        'File "<library file nexios/websockets/base.py>", line 9, in send_text\n'
        'File "<grader file>", line 5, in serve\n'
        'File "<grader file>", line 1, in x')


def test_the_graders_copy_is_named_as_the_student_knows_it() -> None:
    """Their module by its name, a file of their app's folder by its own, whatever random
    folders the run made (with the zygote and without); a path of their own stays."""
    message = ("Traceback (most recent call last):\n"
               '  File "/tmp/day25-verdict-3oanwmya/tmp/d25z-jwmlquwy/czvsghrtq/code/'
               'once_semantics.py", line 3, in <module>\n'
               "FileNotFoundError: '/tmp/d25-gjzs7s7j/apps/3/rooms.json'\n"
               "hypothesis wrote /tmp/day25-verdict-3oanwmya/hyp, not /home/amy/probe.py")
    assert clean_message(message) == (
        'Traceback (most recent call last):\n  File "once_semantics.py", line 3, in <module>\n'
        "FileNotFoundError: 'rooms.json'\n"
        "hypothesis wrote <temporary folder>/hyp, not /home/amy/probe.py")


def test_an_instructor_on_windows_gets_the_same_hiding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop 62 left this open: only ``/`` paths without spaces were recognised, so a grade
    run on Windows showed the grader's files (``C:\\Program Files (x86)\\...``) and the
    random folders of the student's copy. Here the grader's roots are an instructor's
    Windows ones, with spaces, as a traceback quotes them."""
    from day25.course.grading import feedback

    course = "C:\\Users\\Ann Lee\\day25\\src\\"
    python = "C:\\Program Files (x86)\\Python311\\"
    monkeypatch.setattr(feedback, "_grader_roots", lambda: (course.replace("\\", "/"),
                                                           python.replace("\\", "/")))
    monkeypatch.setattr(feedback, "_standard_library_roots",
                        lambda: ((python + "Lib\\").replace("\\", "/"),))
    temp = "C:\\Users\\Ann Lee\\AppData\\Local\\Temp"
    message = (f'File "{temp}\\day25-verdict-3oan\\tmp\\d25z-gjzs\\cq\\code\\chat.py", line 3\n'
               f"FileNotFoundError: '{temp}\\d25-gjzs\\apps\\3\\rooms.json'\n"
               f'  File "{course}day25\\course\\harness\\scenarios.py", line 80, in run\n'
               "C:\\ci\\src\\day25\\course\\inside\\apps.py:5: in serve\n"
               f'  File "{python}Lib\\json\\decoder.py", line 346, in loads\n'
               f'  File "{python}Lib\\site-packages\\nexios\\http\\request.py", line 9\n'
               "hypothesis wrote C:\\Temp\\day25-verdict-3oan\\hyp\n"
               "C:\\Users\\Ann\\day25\\tests\\hidden\\test_chat.py:12: in test_x\n"
               "the model (C:\\Users\\Ann\\day25\\tests\\hidden\\toy\\model.py) disagrees\n"
               "their own C:\\Users\\amy\\probe.py stays")
    assert clean_message(message) == (
        'File "chat.py", line 3\n'
        "FileNotFoundError: 'rooms.json'\n"
        '  File "<grader file>", line 80, in run\n'
        '  File "<library file json/decoder.py>", line 346, in loads\n'
        '  File "<library file nexios/http/request.py>", line 9\n'
        "hypothesis wrote <temporary folder>\\hyp\n"
        "the model (<hidden test>) disagrees\n"
        "their own C:\\Users\\amy\\probe.py stays")
