"""The blind variants, and the command that holds the hidden suites to them.

``tests/mutants/<exercise>/bug_*.py`` are whole solutions with one realistic bug
each, and ``tests/alternatives/<exercise>/ok_*.py`` correct ones in other styles,
all written from the exercise's text alone by someone who had not read the
hidden suite (each file's docstring names its bug, or its style, and the
sentence of the text it follows or breaks). They were measured against the
suites before any test was written for them; docs/benchmarks.md keeps that
"before" count. Unlike ``tests/mutants/<exercise>.toml`` (edits of the reference
solution), they are kept whole: they are other people's programs.

Every bug_ must lose points on its exercise, every ok_ must get them all, and the
review must name none of them. Grading all of them is a mutation run (a hidden suite
per file, hundreds of files), so it is a command, ``python benchmarks/blind_batch.py
--check``, which CI runs on every commit after the test line (``.ci/run``). These
tests keep the set well formed and prove the command's gate can fail: on small
batches with a missed bug, a short correct one or a flagged one, it names each and
exits 1 (a short one with the FAIL lines of its feedback); on an honest batch it
exits 0.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from day25.course.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ROOT / "benchmarks" / "blind_batch.py"
KEPT = {"bug_": ROOT / "tests" / "mutants", "ok_": ROOT / "tests" / "alternatives"}

pytestmark = pytest.mark.timeout(300)


def kept(exercise: str, prefix: str) -> list[Path]:
    return sorted((KEPT[prefix] / exercise).glob(f"{prefix}*.py"))


def blind_batch(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(COMMAND), str(folder), "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=280)


def _command() -> Any:
    """``benchmarks/blind_batch.py`` as a module."""
    spec = importlib.util.spec_from_file_location("blind_batch", COMMAND)
    assert spec and spec.loader
    command = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(command)
    return command


def test_there_are_at_least_ten_blind_bugs_per_exercise() -> None:
    for ex in load_catalogue(ROOT).exercises:
        assert len(kept(ex.id, "bug_")) >= 10, f"{ex.id}: too few blind bug variants"
        assert kept(ex.id, "ok_"), f"{ex.id}: no blind correct variant"


def test_each_variant_says_what_it_is_in_its_first_docstring_line() -> None:
    """The gate's messages quote it, and a reader of tests/ learns the bug from it."""
    for ex in load_catalogue(ROOT).exercises:
        for path in kept(ex.id, "bug_") + kept(ex.id, "ok_"):
            text = path.read_text(encoding="utf-8")
            assert text.startswith('"""') and text.split('"""')[1].strip(), path


def test_the_check_names_a_missed_bug_and_a_short_correct_one(tmp_path: Path) -> None:
    once, prio = tmp_path / "once_semantics", tmp_path / "priority_ordering"
    once.mkdir()
    prio.mkdir()
    shutil.copy(kept("priority_ordering", "bug_")[0], prio)  # caught
    shutil.copy(kept("priority_ordering", "ok_")[0], prio)  # full points
    solution = (ROOT / "solutions" / "once_semantics.py").read_text(encoding="utf-8")
    (once / "bug_98_no_bug_at_all.py").write_text(solution, encoding="utf-8")
    shutil.copy(ROOT / "exercises" / "once_semantics.py", once / "ok_97_the_stub.py")
    proc = blind_batch(tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "priority_ordering" in out and out.count("1 / 1") == 2, out  # 1 of 1 caught, at full
    assert "missed: once_semantics/bug_98_no_bug_at_all.py (25/25)" in out
    assert "short:  once_semantics/ok_97_the_stub.py (0/25)" in out
    said = out.split("short:  once_semantics/ok_97_the_stub.py (0/25)\n")[1].splitlines()[0]
    assert said.strip().startswith("- FAIL test_"), out  # and why, from its feedback
    assert "blind batch check failed: 2 grade(s) against the file's docstring, " \
           "0 review flag(s)" in out


def test_the_check_fails_on_a_review_flag_alone(tmp_path: Path) -> None:
    once = tmp_path / "once_semantics"
    once.mkdir()
    solution = (ROOT / "solutions" / "once_semantics.py").read_text(encoding="utf-8")
    (once / "ok_99_reaches_for_gc.py").write_text(solution + "\nimport gc\n", encoding="utf-8")
    shutil.copy(kept("once_semantics", "bug_")[0], once)
    proc = blind_batch(tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "every bug lost points and every correct one got them all" in out  # 25/25
    assert "review: once_semantics/ok_99_reaches_for_gc.py: line " in out, out
    assert "imports gc" in out
    assert "blind batch check failed: 0 grade(s) against the file's docstring, " \
           "1 review flag(s)" in out


def test_each_student_hands_in_one_file_of_each_exercise_bugs_with_bugs() -> None:
    """Four files per student, as a student hands in four modules; a correct student is
    a whole honest submission, never one beside a bug; ``--alone``: one file each."""
    command = _command()
    found = [("a", "a.py", Path("bug_1.py")), ("a", "a.py", Path("bug_2.py")),
             ("a", "a.py", Path("ok_1.py")), ("b", "b.py", Path("bug_7.py")),
             ("b", "b.py", Path("ok_3.py")), ("b", "b.py", Path("ok_4.py"))]
    assert command.students(found, alone=False) == {
        "bug_001": {"a": ("a.py", Path("bug_1.py")), "b": ("b.py", Path("bug_7.py"))},
        "bug_002": {"a": ("a.py", Path("bug_2.py"))},
        "ok_001": {"a": ("a.py", Path("ok_1.py")), "b": ("b.py", Path("ok_3.py"))},
        "ok_002": {"b": ("b.py", Path("ok_4.py"))},
    }
    alone = command.students(found, alone=True)
    assert len(alone) == len(found) and all(len(files) == 1 for files in alone.values())


def test_a_batch_of_one_file_is_graded_as_one_student(tmp_path: Path) -> None:
    """``day25 grade`` reads a folder holding one student folder as that student's folder;
    the command names each student, so a batch of one file is still graded."""
    once = tmp_path / "once_semantics"
    once.mkdir()
    shutil.copy(kept("once_semantics", "bug_")[0], once)
    proc = blind_batch(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every bug lost points and every correct one got them all" in proc.stdout


def test_the_check_passes_an_honest_batch(tmp_path: Path) -> None:
    prio = tmp_path / "priority_ordering"
    prio.mkdir()
    shutil.copy(kept("priority_ordering", "bug_")[0], prio)
    shutil.copy(kept("priority_ordering", "ok_")[-1], prio)
    proc = blind_batch(tmp_path)
    assert "1 / 1" in proc.stdout  # both graded as students of one class
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every bug lost points and every correct one got them all" in proc.stdout
    assert "review: none of them reaches beyond what the exercises need" in proc.stdout


def test_ci_runs_the_readmes_test_line_then_the_gate() -> None:
    """The gate is only worth something if CI runs it on every commit, after the tests."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    test_line = next(line for line in readme.splitlines()
                     if line.startswith("bash .ci/system-deps && "))
    steps = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith(("#", "set ", "cd ", "unset "))]
    assert steps == [test_line, "python benchmarks/blind_batch.py --check --bugs-share 3"]


def test_shares_of_the_bugs_cover_them_all_once_and_keep_every_correct_file() -> None:
    command = _command()
    found = command.variants(None)
    bugs = {p for _, _, p in found if p.name.startswith("bug_")}
    oks = {p for _, _, p in found if p.name.startswith("ok_")}
    shares = [command.share_of_bugs(found, 3, turn) for turn in range(3)]
    taken = [{p for _, _, p in share if p.name.startswith("bug_")} for share in shares]
    assert all({p for _, _, p in share} - bugs == oks for share in shares)
    assert set().union(*taken) == bugs and sum(map(len, taken)) == len(bugs)
    for exercise in dict.fromkeys(ex for ex, _, _ in found):  # each exercise split evenly
        counts = [sum(ex == exercise for ex, _, p in share if p.name.startswith("bug_"))
                  for share in shares]
        assert max(counts) - min(counts) <= 1, (exercise, counts)
    assert command.commit_turn(2)[0] in (0, 1)
