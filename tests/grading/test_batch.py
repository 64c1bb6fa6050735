"""``day25 grade`` end to end: a class folder, a zip, the files written, resume by content hash."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.terminal import sigint_as_in_a_terminal

COURSE = Path(__file__).resolve().parents[2]
MODULE = "priority_ordering.py"


def _grade(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", "grade", *map(str, args),
                           "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=600, cwd=COURSE)


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open() as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def test_grade_class_then_resume_only_what_changed(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "alice").mkdir(parents=True)
    (klass / "alice" / MODULE).write_text((COURSE / "solutions" / MODULE).read_text())
    (klass / "alice" / "conftest.py").write_text("raise SystemExit('never imported')\n")
    with zipfile.ZipFile(klass / "bob.zip", "w") as zf:
        zf.writestr(f"bob/{MODULE}", (COURSE / "exercises" / MODULE).read_text())
    out = tmp_path / "out"

    first = _grade(klass, "--out", out, "--jobs", "2")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    header = (out / "gradebook.csv").read_text().splitlines()[0]
    assert header == ("student,priority_ordering,once_semantics,chat_broadcasting,"
                      "notification_queueing,total")
    rows = _rows(out)
    assert rows["alice"]["priority_ordering"] == "25" and rows["alice"]["total"] == "25"
    assert rows["bob"]["priority_ordering"] == "0" and rows["bob"]["once_semantics"] == "0"
    assert (out / "grades.png").read_bytes()[:4] == b"\x89PNG"
    for student in ("alice", "bob"):
        for name in ("results.json", "feedback.md", "feedback.html"):
            assert (out / student / name).is_file()
    bob = json.loads((out / "bob" / "results.json").read_text())
    assert "max_score" not in bob and bob["score"] == 0
    assert all(t["status"] == "failed" for t in bob["tests"])
    assert "once_semantics.py was not found" in (out / "bob" / "feedback.md").read_text()
    assert "hidden" in (out / "alice" / "feedback.md").read_text()
    assert "Grades" in first.stdout and "sandbox" in first.stdout
    # not a terminal (a log, CI): a line per student as each lands, before the table
    landed = [line for line in first.stdout.splitlines() if line.startswith("graded ")]
    assert sorted(landed) == ["graded 1/2: alice: 25", "graded 2/2: bob: 0"] or sorted(
        landed) == ["graded 1/2: bob: 0", "graded 2/2: alice: 25"], first.stdout
    assert first.stdout.index(landed[-1]) < first.stdout.index("Grades")

    alice_mtime = (out / "alice" / "results.json").stat().st_mtime_ns
    bob_mtime = (out / "bob" / "results.json").stat().st_mtime_ns
    (klass / "alice" / "notes.txt").write_text("not a module: changes nothing")
    with zipfile.ZipFile(klass / "bob.zip", "w") as zf:  # bob now submits the solution
        zf.writestr(MODULE, (COURSE / "solutions" / MODULE).read_text())
    second = _grade(klass, "--out", out, "--jobs", "2")
    assert second.returncode == 0, second.stdout[-2000:]
    assert (out / "alice" / "results.json").stat().st_mtime_ns == alice_mtime  # resumed
    assert (out / "bob" / "results.json").stat().st_mtime_ns != bob_mtime  # re-graded
    assert "resumed" in second.stdout
    assert "reused (unchanged) " in second.stdout and ": alice: 25" in second.stdout
    rows = _rows(out)
    assert rows["alice"]["total"] == "25" and rows["bob"]["total"] == "25"

    # a part of the class into the same --out: its gradebook is that part's, and it says so
    third = _grade(klass / "alice", "--out", out)
    assert third.returncode == 0, third.stdout[-2000:]
    assert set(_rows(out)) == {"alice"}
    said = " ".join(third.stdout.split())
    assert f"{out} also holds the feedback of 1 student(s) this run did not grade (bob)" \
        in said, said[-2000:]


def test_grader_problems_exit_nonzero_with_a_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _grade(empty, "--out", tmp_path / "out")
    assert proc.returncode == 2 and "no submissions found" in proc.stdout
    proc = _grade(tmp_path / "nowhere", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "no such submission" in proc.stdout


@pytest.mark.parametrize("runner", ["sandboxed", "portable"])
def test_an_interrupted_run_says_how_to_resume_and_writes_no_gradebook(
    tmp_path: Path, runner: str,
) -> None:
    """Ctrl-C left feedback folders and no gradebook.csv, with nothing said, and waited for
    every running session: the fork server's and the portable runner's sessions alike."""
    klass = tmp_path / "class"
    for student in ("ann", "ben"):
        (klass / student).mkdir(parents=True)
        (klass / student / MODULE).write_text((COURSE / "solutions" / MODULE).read_text())
    (klass / "zoe").mkdir()  # still importing when Ctrl-C comes
    (klass / "zoe" / MODULE).write_text("import time\ntime.sleep(60)\n")
    out = tmp_path / "out"
    # the portable runner has no namespaces: a class needs the instructor's say-so
    unsafe = ["--unsafe-shared-filesystem"] if runner == "portable" else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "day25.cli", "grade", str(klass), "--out", str(out),
         "--jobs", "1", *unsafe, "--course", str(COURSE)],
        env={**os.environ, "DAY25_RUNNER": runner},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=COURSE,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches
        preexec_fn=sigint_as_in_a_terminal)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("graded "):
            break
    os.killpg(proc.pid, signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    said = " ".join("".join([*seen, rest]).split())
    assert proc.returncode != 0, said[-2000:]
    assert "interrupted: " in said and "Run the same command again to resume" in said, \
        said[-2000:]
    assert not (out / "gradebook.csv").exists()


def test_the_console_names_the_students_who_handed_in_late(tmp_path: Path) -> None:
    """The instructor's test: Canvas's ``_late_`` reached the feedback only, so whoever
    applies a late policy read every feedback file to find them. The console names them
    (on a resumed run too); the grade and the gradebook's columns stay as they are."""
    export = tmp_path / "submissions"
    export.mkdir()
    solution = (COURSE / "solutions" / MODULE).read_text()
    (export / f"roeann_late_77_88_{MODULE}").write_text(solution)
    (export / f"smithbob_340934_208490284_{MODULE}").write_text(solution)
    out = tmp_path / "out"
    for run in ("graded", "resumed"):
        proc = _grade(export, "--out", out, "--jobs", "2")
        assert proc.returncode == 0, proc.stdout[-2000:]
        said = " ".join(proc.stdout.split())
        assert ("late: 1 student(s) handed in a file the LMS marked late (roeann_77); their "
                "grades are not changed, and their feedback names the file.") in said, (
            run, said[-2000:])
        assert _rows(out)["roeann_77"]["priority_ordering"] == "25"
        assert "Handed in late" in (out / "roeann_77" / "feedback.md").read_text()


def test_the_console_names_the_students_in_whose_submission_no_module_was_found(
        tmp_path: Path) -> None:
    """An instructor's test: a student whose files were out of reach scored 0 with no word
    on the console ("graded 6/13: lena: 0"), beside students who simply did badly."""
    klass = tmp_path / "class"
    (klass / "ann").mkdir(parents=True)
    (klass / "ann" / MODULE).write_text((COURSE / "solutions" / MODULE).read_text())
    (klass / "lena" / "Downloads" / "old").mkdir(parents=True)
    (klass / "lena" / "Downloads" / "new").mkdir()
    (klass / "lena" / "Downloads" / "new" / MODULE).write_text("")
    proc = _grade(klass, "--out", tmp_path / "out", "--jobs", "2")
    assert proc.returncode == 0, proc.stdout[-2000:]
    said = " ".join(proc.stdout.split())
    assert ("warning: no exercise module was found in the submission of 1 student(s) (lena): "
            "each scores 0, and their feedback says what the submission holds.") in said, \
        said[-2000:]


def test_an_untouched_starter_file_is_said_to_be_one(tmp_path: Path) -> None:
    """An instructor's test: bob handed in the four stubs and got 45 KB of feedback, each
    failure a NotImplementedError, and no sentence saying he had changed nothing."""
    klass = tmp_path / "class"
    (klass / "bob").mkdir(parents=True)
    (klass / "bob" / MODULE).write_text((COURSE / "exercises" / MODULE).read_text())
    (klass / "ann").mkdir()
    (klass / "ann" / MODULE).write_text((COURSE / "solutions" / MODULE).read_text())
    out = tmp_path / "out"
    proc = _grade(klass, "--out", out, "--jobs", "2")
    assert proc.returncode == 0, proc.stdout[-2000:]
    said = (out / "bob" / "feedback.md").read_text()
    assert (f"{MODULE} is the starter file as it was handed out, unchanged: none of its "
            "functions is written yet, so every test below fails.") in said, said[:2000]
    assert "starter file" not in (out / "ann" / "feedback.md").read_text()


def test_outputs_that_cannot_be_written_are_a_sentence_and_cost_no_student(
        tmp_path: Path) -> None:
    """From an audit of the instructor's tools on Windows: a gradebook.csv held open by a
    spreadsheet (Windows locks it), or a student's folder that cannot be made (``aux`` is a
    device name there), ended a whole batch in a traceback after every student was
    graded, and the students after it got no feedback. A name Windows keeps for a device
    gets a ``_``; a folder that still cannot be made costs only its student's feedback
    file; a class output that cannot be written is one sentence that says what to do."""
    klass = tmp_path / "class"
    solution = (COURSE / "solutions" / MODULE).read_text()
    for student in ("aux", "bea", "cid"):
        (klass / student).mkdir(parents=True)
        (klass / student / MODULE).write_text(solution)
    out = tmp_path / "out"
    (out / "bea").mkdir(parents=True)
    (out / "bea" / "feedback.md").mkdir()  # bea's feedback cannot be written
    (out / "gradebook.csv").mkdir()  # as if a spreadsheet held it
    proc = subprocess.run(  # wide: the message's path stays on one line
        [sys.executable, "-m", "day25.cli", "grade", str(klass), "--out", str(out), "--course",
         str(COURSE)], capture_output=True, text=True, timeout=600, cwd=COURSE,
        env={**os.environ, "COLUMNS": "400"})
    said = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr, said[-3000:]
    assert "day25: could not write" in said and "gradebook.csv: Is a directory" in said
    assert "run the same command again" in said
    assert "bea: could not write the feedback in" in said
    assert (out / "aux_" / "feedback.md").is_file() and (out / "cid" / "feedback.md").is_file()
    (out / "gradebook.csv").rmdir()
    proc = _grade(klass, "--out", out)  # closed: the same command, the graded reused
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert {s: r["total"] for s, r in _rows(out).items()} == {
        "aux_": "25", "bea": "25", "cid": "25"}
