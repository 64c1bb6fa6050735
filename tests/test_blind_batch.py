"""The blind variants, and the command that holds the hidden suites to them.

``tests/mutants/<exercise>/bug_*.py`` are whole solutions with one realistic bug
each, and ``tests/alternatives/<exercise>/ok_*.py`` correct ones in other styles,
all written from the exercise's text alone by someone who had not read the
hidden suite (each file's docstring names its bug, or its style, and the
sentence of the text it follows or breaks). They were measured against the
suites before any test was written for them; docs/benchmarks/hidden-suites.md keeps that
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

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.commands import load_command

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
    command = load_command("blind_batch")
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
    assert steps == [test_line, "python benchmarks/blind_batch.py --check --bugs-share 3 "
                                "--correct-share 2 --within $((1080 - SECONDS))"]


@pytest.mark.parametrize(("prefix", "share"), [("bug_", 3), ("ok_", 2)])
def test_shares_cover_each_kind_once_and_keep_the_other_kind_whole(prefix: str, share: int
                                                                   ) -> None:
    command = load_command("blind_batch")
    found = command.variants(None)
    mine = {p for _, _, p in found if p.name.startswith(prefix)}
    others = {p for _, _, p in found} - mine
    assert mine and others
    shares = [command.share_of(found, prefix, share, turn) for turn in range(share)]
    taken = [{p for _, _, p in part if p.name.startswith(prefix)} for part in shares]
    assert all({p for _, _, p in part} - mine == others for part in shares)
    assert set().union(*taken) == mine and sum(map(len, taken)) == len(mine)
    for exercise in dict.fromkeys(ex for ex, _, _ in found):  # each exercise split evenly
        counts = [sum(ex == exercise for ex, _, p in part if p.name.startswith(prefix))
                  for part in shares]
        assert max(counts) - min(counts) <= 1, (exercise, counts)


def test_the_two_turns_come_from_different_digits_of_the_commit() -> None:
    command = load_command("blind_batch")
    assert command.commit_turn(2)[0] in (0, 1)
    assert command.commit_turn(2, "ok_")[0] in (0, 1)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert command.commit_turn(7)[0] == int(head[:8], 16) % 7
    assert command.commit_turn(7, "ok_")[0] == int(head[8:16], 16) % 7


def test_rounds_split_every_exercises_bugs_and_correct_files_evenly() -> None:
    command = load_command("blind_batch")
    found = command.variants(None)
    split = command.rounds(found, 4)
    assert len(split) == 4 and sorted(f for part in split for f in part) == sorted(found)
    for exercise in dict.fromkeys(ex for ex, _, _ in found):
        for prefix in ("bug_", "ok_"):
            counts = [sum(ex == exercise and p.name.startswith(prefix) for ex, _, p in part)
                      for part in split]
            assert max(counts) - min(counts) <= 1, (exercise, prefix, counts)
    assert command.rounds(found[:2], 4) == [[found[0]], [found[1]]]  # no empty round


def test_the_correct_files_students_are_graded_first() -> None:
    """They run whole suites (a bug stops at its first failure): started last, the
    slowest of them ran on alone at the end of a round."""
    command = load_command("blind_batch")
    found = [("a", "a.py", Path(f"{kind}{n}.py")) for kind in ("bug_", "ok_") for n in range(3)]
    klass = command.students(found, False)
    assert next(iter(klass)).startswith("bug_")  # the class lists its bugs first
    order = command.grading_order(klass)
    assert order == ["ok_001", "ok_002", "ok_003", "bug_001", "bug_002", "bug_003"]
    alone = command.grading_order(command.students(found, True))  # named by exercise
    assert alone == [f"a__{kind}{n}" for kind in ("ok_", "bug_") for n in range(3)]


@pytest.mark.parametrize(("seconds", "graded"), [(-50, 1), (0, 1), (25, 2), (34, 3), (1000, 8)])
def test_within_starts_a_round_only_if_it_should_end_in_time(
        seconds: float, graded: int, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Each round here takes 10 s: one starts while 1.2 times the longest fits in what is
    left, and the first always runs (CI grades at least an eighth of its share)."""
    command = load_command("blind_batch")
    clock = [0.0]
    calls: list[int] = []

    def grade(files: list[Any], jobs: int, alone: bool) -> Any:
        clock[0] += 10
        calls.append(len(files))
        return ({f"{ex}/{p.stem}": 1.0 for ex, _, p in files}, {}, [])

    monkeypatch.setattr(command, "grade", grade)
    monkeypatch.setattr(command.time, "monotonic", lambda: clock[0])
    assert command.ROUNDS == 8
    found = [("a", "a.py", Path(f"{kind}{n}.py")) for kind in ("bug_", "ok_")
             for n in range(8)]
    points, _, _, done = command.within(found, seconds, jobs=2, alone=False)
    assert len(calls) == graded and len(done) == len(points) == 2 * graded
    out = capsys.readouterr().out
    if graded < 8:
        assert f"time ran short: graded {graded} of 8 rounds, {2 * graded} of 16 files" in out
    else:
        assert "time ran short" not in out


def test_the_check_in_rounds_names_what_one_batch_names(tmp_path: Path) -> None:
    """The rounds change when files are graded, not what the check says of them."""
    prio = tmp_path / "priority_ordering"
    prio.mkdir()
    solution = (ROOT / "solutions" / "priority_ordering.py").read_text(encoding="utf-8")
    (prio / "bug_98_no_bug_at_all.py").write_text(solution, encoding="utf-8")
    shutil.copy(kept("priority_ordering", "bug_")[0], prio)  # caught
    shutil.copy(ROOT / "exercises" / "priority_ordering.py", prio / "ok_97_the_stub.py")
    proc = subprocess.run([sys.executable, str(COMMAND), str(tmp_path), "--check",
                           "--within", "1000"], cwd=ROOT, capture_output=True, text=True,
                          timeout=280)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "missed: priority_ordering/bug_98_no_bug_at_all.py (25/25)" in out
    assert "short:  priority_ordering/ok_97_the_stub.py (0/25)" in out
    assert "time ran short" not in out


@pytest.mark.parametrize("bad", [["--correct-share", "0"], ["--bugs-share", "-3"],
                                 ["--bugs-share", "half"], ["--within", "soon"]])
def test_a_bad_share_or_budget_is_refused_before_anything_is_graded(bad: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(COMMAND), "--check", *bad], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and not proc.stdout, proc.stdout + proc.stderr
    assert f"argument {bad[0]}: " in proc.stderr and bad[1] in proc.stderr, proc.stderr
