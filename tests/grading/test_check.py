"""``day25 check`` and ``day25 hint``: the ladder walk, one item, hints only on request."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from rich.console import Console
from tests.checking import COURSE, ENV, block, check, run_day25, workspace

from day25.course.catalogue import load_catalogue


def test_stub_fails_without_a_hint_and_with_the_warning(tmp_path: Path) -> None:
    mine = workspace(tmp_path)
    first = check("priority_ordering", "--path", mine)
    assert first.returncode == 1, first.stdout
    assert "FAIL" in first.stdout and "hidden tests also run" in first.stdout
    assert "0/1 exercises pass" in first.stdout
    assert "hint 1/" not in first.stdout, "a check never shows a hint by itself"
    assert "day25 hint priority_ordering" in first.stdout, "it says how to ask for one"
    assert not (mine / ".day25-hints.json").exists(), "checking reveals nothing"


def test_check_shows_a_message_as_the_feedback_does_its_middle_left_out() -> None:
    """``day25 check`` and ``feedback.md`` show the same lines of a long message: its start
    and its end (the exception line), the middle counted, never silently cut."""
    from day25.course.grading.feedback import write_student
    from day25.course.grading.results import ExerciseResult, StudentResult, TestResult
    from day25.course.student.check import _show_project

    frames = [f'  File "x.py", line {i}, in f{i}\n    f{i + 1}()' for i in range(60)]
    message = "\n".join(["create_app() raised.", "Traceback (most recent call last):", *frames,
                         "ValueError: could not convert string to float: 'oops'"])
    result = ExerciseResult("x", "Exercise X", 25.0, [TestResult("test_t", "x", 0, 1, False,
                                                                  message)])
    console = Console(record=True, width=200, file=io.StringIO())
    _show_project(console, result)
    shown = block(console.export_text(), "test_t")
    assert shown[0] == "create_app() raised." and "lines not shown" in " ".join(shown)
    assert shown[-1] == "ValueError: could not convert string to float: 'oops'"
    with tempfile.TemporaryDirectory() as out:
        md = (write_student(StudentResult("amy", "h", [result]), Path(out), "s")
              / "feedback.md").read_text()
    feedback = md.split("- FAIL test_t (0/1)\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.strip() for line in feedback] == shown


@pytest.mark.parametrize("exercise", ["chat_broadcasting", "notification_queueing"])
def test_an_app_stub_is_not_done_yet_as_the_steps_say(tmp_path: Path, exercise: str) -> None:
    """The audit: the app stubs printed the grader's traceback (inside/apps.py, the copy's
    temporary path) for every test, where the steps and exercise 1 name the stub's line."""
    proc = check(exercise, "--path", workspace(tmp_path))
    said = " ".join(proc.stdout.split())  # the console wraps long lines
    sentence = (f"Not done yet: create_app in your {exercise}.py still raises "
                f"NotImplementedError (at {exercise}.py line ")
    assert proc.returncode == 1 and sentence in said, proc.stdout
    assert ", in create_app: raise NotImplementedError(" in said
    for internal in ("Traceback", "apps.py", "day25-verdict-", "/code/", "could not start"):
        assert internal not in proc.stdout, proc.stdout


def test_an_endless_loop_at_import_is_named_once_and_stops_the_checks(tmp_path: Path) -> None:
    """The audit: ``while True: pass`` at the top of the module ran 16 checks of 10 s each
    (2 min 45 s), each blaming "a listener that never returns". The import is named, once,
    and after the first hang the other checks are not run, which the output says."""
    import time

    mine = workspace(tmp_path, "solutions")
    with (mine / "priority_ordering.py").open("a") as module:
        module.write("\nwhile True:\n    pass\n")
    started = time.monotonic()
    proc = check("priority_ordering", "--path", mine)
    assert time.monotonic() - started < 60, proc.stdout
    said = " ".join(proc.stdout.split())
    assert said.count("its top level did not finish within 10 s: an endless loop at import") == 1
    assert proc.stdout.count("FAIL") == 1 and "a listener that never returns" not in said
    # where it hung, as a traceback would say it: the loop's line and its code
    loop = (mine / "priority_ordering.py").read_text().splitlines().index("while True:") + 1
    assert re.search(rf"priority_ordering\.py, line ({loop}|{loop + 1}): its top level did not "
                     r"finish within 10 s: an endless loop at import \(outside any function\)\? "
                     r"(while True:|pass) ", said), said
    not_run = re.search(r"(\d+) more checks not run: a check hung: fix it first, then run "
                        r"again\.", said)
    assert not_run and int(not_run[1]) >= 10, said  # the public suite has 16


def test_solution_passes_but_is_not_called_full_marks(tmp_path: Path) -> None:
    mine = workspace(tmp_path, "solutions")
    proc = check("priority_ordering", "--path", mine)
    assert proc.returncode == 0, proc.stdout
    assert "PASS" in proc.stdout and "FAIL" not in proc.stdout
    assert "1/1 exercises pass their public checks" in proc.stdout
    assert "does not guarantee full points" in proc.stdout


def test_unknown_exercise_is_a_clear_error(tmp_path: Path) -> None:
    proc = check("no_such_exercise", "--path", COURSE / "exercises")
    assert proc.returncode == 2 and "unknown exercise" in proc.stdout


def test_the_walk_stops_at_the_first_unfinished_step(tmp_path: Path) -> None:
    mine = workspace(tmp_path)
    steps = load_catalogue(COURSE).steps
    for step in steps[:2]:  # the student did the first two steps
        shutil.copy(COURSE / "solutions" / step.module, mine / step.module)
    proc = check("--path", mine)
    assert proc.returncode == 1, proc.stdout
    out = proc.stdout
    assert f"done  step 1/{len(steps)}  {steps[0].id}" in out
    assert f"done  step 2/{len(steps)}  {steps[1].id}" in out
    assert f"todo  step 3/{len(steps)}  {steps[2].id}  <- you are here" in out
    assert f"....  step 4/{len(steps)}  {steps[3].id}" in out, "later items are not run"
    assert out.count("<- you are here") == 1 and "todo  step 4/" not in out, "it stops there"
    assert "Exercise 4: notification_queueing" in out
    assert "it must still run once; ran for [1, 2]" in out, "the step's failing message"
    assert f"2/{len(steps) + 4}" in out, "progress over steps and projects"
    assert f"day25 hint {steps[2].id}" in out and "hint 1/" not in out


def test_the_walk_goes_on_to_the_projects(tmp_path: Path) -> None:
    mine = workspace(tmp_path)
    for step in load_catalogue(COURSE).steps:
        shutil.copy(COURSE / "solutions" / step.module, mine / step.module)
    proc = check("--path", mine)
    assert proc.returncode == 1, proc.stdout
    assert "todo  Exercise 1: priority_ordering  <- you are here" in proc.stdout
    assert "FAIL test_higher_priority_runs_first" in proc.stdout
    assert "hidden tests also run" in proc.stdout


def test_one_step_by_id(tmp_path: Path) -> None:
    mine = workspace(tmp_path)
    proc = check("cap", "--path", mine)
    assert proc.returncode == 1 and "still raises NotImplementedError" in proc.stdout
    shutil.copy(COURSE / "solutions" / "steps" / "09_cap.py", mine / "steps")
    proc = check("cap", "--path", mine)
    assert proc.returncode == 0 and "PASS exercises/steps/09_cap.py" in proc.stdout


def test_hints_come_one_at_a_time_on_request_and_are_remembered(tmp_path: Path) -> None:
    mine = workspace(tmp_path)
    item = load_catalogue(COURSE).item("chat_broadcasting")
    first = run_day25("hint", "chat_broadcasting", "--path", mine)
    assert first.returncode == 0, first.stdout
    assert f"hint 1/{len(item.hints)} for chat_broadcasting" in first.stdout
    assert "hint 2/" not in first.stdout
    second = run_day25("hint", "chat_broadcasting", "--path", mine)
    assert f"hint 2/{len(item.hints)}" in second.stdout and "hint 1/" in second.stdout
    assert json.loads((mine / ".day25-hints.json").read_text()) == {"chat_broadcasting": 2}
    for _ in range(len(item.hints)):
        last = run_day25("hint", "chat_broadcasting", "--path", mine)
    assert "That was the last hint" in last.stdout
    assert run_day25("hint", "chat_broadcasting", "--path", mine, "--reset").returncode == 0
    again = run_day25("hint", "chat_broadcasting", "--path", mine)
    assert f"hint 1/{len(item.hints)}" in again.stdout and "hint 2/" not in again.stdout
    unknown = run_day25("hint", "nope", "--path", mine)
    assert unknown.returncode == 2 and "no exercise or step 'nope'" in unknown.stdout


def test_importing_the_realtime_helpers_is_refused_with_a_sentence(tmp_path: Path) -> None:
    mine = workspace(tmp_path, "solutions")
    module = mine / "chat_broadcasting.py"
    module.write_text(module.read_text().replace(
        "import day25\n", "import day25\nfrom day25 import Rooms\n", 1))
    proc = check("chat_broadcasting", "--path", mine)
    assert proc.returncode == 1, proc.stdout
    assert "day25.realtime is off limits in this exercise" in proc.stdout
    assert "Traceback" not in proc.stdout


def test_exercise_1_refuses_the_bundled_bus_once_with_a_sentence(tmp_path: Path) -> None:
    mine = workspace(tmp_path, "solutions")
    (mine / "priority_ordering.py").write_text(
        "from day25 import EventBus\n\n\nclass PriorityEmitter(EventBus):\n    pass\n")
    proc = check("priority_ordering", "--path", mine)
    assert proc.returncode == 1, proc.stdout
    said = " ".join(proc.stdout.split())  # the console wraps long lines
    assert said.count("day25.bus is off limits in this exercise") == 1, proc.stdout
    assert "such as EventBus" in said and "`from day25 import EventPriority` is fine" in said
    assert "not run: priority_ordering.py could not be imported" in said
    assert "Traceback" not in proc.stdout
    # a student's test: the review's note on the same line ("That costs no point; if you
    # need it, say why") contradicted the refusal, which costs every point
    assert "instructor will be asked to read" not in said and "costs no point" not in said


def test_code_the_review_would_list_gets_a_note_before_it_is_submitted(tmp_path: Path) -> None:
    """The same rules as the grader's review.csv, told to the student first, once; the
    checks still run and pass, and code that needs nothing extra gets no such note."""
    mine = workspace(tmp_path, "solutions")
    solution = (mine / "once_semantics.py").read_text(encoding="utf-8")
    (mine / "once_semantics.py").write_text(solution + "\nimport sys\nMODULES = sys.modules\n",
                                            encoding="utf-8")
    proc = check("once_semantics", "--path", mine)
    said = " ".join(proc.stdout.split())  # the console wraps long lines
    assert proc.returncode == 0, proc.stdout
    assert said.count("Your instructor will be asked to read this file") == 1, proc.stdout
    assert "imports sys" in said and "That costs no point" in said
    (mine / "once_semantics.py").write_text(solution, encoding="utf-8")
    assert "asked to read" not in check("once_semantics", "--path", mine).stdout


def test_watch_reruns_on_save(tmp_path: Path) -> None:
    import time

    mine = workspace(tmp_path)
    log = tmp_path / "watch.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "day25.cli", "check", "priority_ordering", "--path", str(mine),
             "--watch", "--course", str(COURSE)], stdout=out, stderr=subprocess.STDOUT, cwd=COURSE,
            env=ENV)
    try:
        def wait_for(count: int) -> None:
            deadline = time.monotonic() + 120
            while log.read_text().count("watching for changes") < count:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)

        wait_for(1)
        assert "FAIL" in log.read_text()
        shutil.copy(COURSE / "solutions" / "priority_ordering.py", mine)  # the student saves
        wait_for(2)
        assert "1/1 exercises pass their public checks" in log.read_text()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_watch_sees_a_save_made_while_the_first_check_runs(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """The student saves while the first check still runs: that save gets a re-check
    (the watcher used to start only after the first check)."""
    import threading
    import time

    from day25.course.grading.verdict import Settings
    from day25.course.student import check as checking

    folder = tmp_path / "exercises"
    folder.mkdir()
    module = folder / "once_semantics.py"
    module.write_text("# the stub\n")
    calls: list[str | None] = []

    class Stop(Exception):
        pass

    def check(*args: object, only: str | None = None, **kwargs: object) -> None:
        calls.append(only)
        if len(calls) > 1:
            raise Stop  # the re-check came: enough
        module.write_text("# saved while the first check runs\n")
        time.sleep(0.5)  # the check goes on after the save

    monkeypatch.setattr(checking, "check", check)
    rechecked = threading.Event()

    def run() -> None:
        with contextlib.suppress(Stop):
            checking.watch(load_catalogue(COURSE), Settings(course_root=COURSE), folder,
                           console=Console(file=io.StringIO()))
            return
        rechecked.set()

    threading.Thread(target=run, daemon=True).start()  # stays blocked if the save is lost
    assert rechecked.wait(30), f"no re-check of a save made during the first check: {calls}"
    assert calls == [None, "once_semantics"]


def test_watch_rechecks_only_what_was_saved(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    """A save re-checks the step or project whose file it was (the ladder walk for any other
    file, which every item may import); with an id, only that id, and only for its file."""
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.verdict import Settings
    from day25.course.student import check as checking

    catalogue = load_catalogue(COURSE)
    calls: list[str | None] = []
    monkeypatch.setattr(checking, "check", lambda *a, only=None, **k: calls.append(only))
    folder = tmp_path / "exercises"
    step = catalogue.steps[0]

    def saved(*modules: str) -> set[tuple[int, str]]:
        return {(2, str(folder / module)) for module in modules}

    saves = [saved("once_semantics.py"), saved(step.module, "chat_broadcasting.py"),
             saved("helpers.py")]
    console = Console(file=io.StringIO())
    checking.watch(catalogue, Settings(course_root=COURSE), folder, console=console,
                   changes=saves)
    assert calls == [None, "once_semantics", step.id, "chat_broadcasting", None]
    calls.clear()
    checking.watch(catalogue, Settings(course_root=COURSE), folder, only="once_semantics",
                   console=console, changes=saves)
    assert calls == ["once_semantics", "once_semantics", "once_semantics"]


def test_watch_goes_on_to_the_first_item_not_done_when_a_save_makes_one_pass(
        tmp_path: Path) -> None:
    """A student's audit: with --watch, a step that now passed said "done / PASS" and no
    more; the walk would have gone on. Then a second one: it named the item right after as
    "Next", though that one was done already. Now it goes on as the walk does: the items
    done in a line each, then the first not done, in full."""
    from day25.course.grading.verdict import Settings
    from day25.course.student import check as checking

    catalogue = load_catalogue(COURSE)
    ladder = catalogue.ladder()
    folder = workspace(tmp_path)
    for item in ladder[:2]:
        shutil.copy(COURSE / "solutions" / item.module, folder / item.module)

    def watched(*saved: int) -> str:
        console = Console(file=io.StringIO(), width=200)
        checking.watch(catalogue, Settings(course_root=COURSE), folder, console=console,
                       changes=[{(2, str(folder / ladder[i].module))} for i in saved])
        return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]

    said = watched(0)
    assert f"Next: {ladder[2].id}" in said and f"Next: {ladder[1].id}" not in said, said
    assert re.search(rf"done +step 2/\d+ +{ladder[1].id}", said), said
    assert f"Stuck? `day25 hint {ladder[2].id}`" in said
    shutil.copy(COURSE / "solutions" / ladder[2].module, folder / ladder[2].module)
    said = watched(2)
    assert f"Next: {ladder[3].id}" in said, said
    said = watched(3)  # still failing: nothing more
    assert not re.search(r"^Next: [a-z_]+$", said, re.MULTILINE), said
