"""How much the hidden suites catch of a batch written without reading them.

A blind batch is a folder with one subfolder per exercise id, each holding whole
submissions of that exercise: ``bug_*.py`` (one realistic bug each, written from the
exercise's text alone) and ``ok_*.py`` (correct ones in other styles). This grades them
in a single ``day25 grade`` batch, as an instructor grades a class (the sandbox, the
hidden suites the catalogue names), and prints per exercise how many bugs lost points
and how many correct ones got them all. Each student of the batch hands in one file of
each exercise, as a student hands in all four modules: bugs with bugs, correct ones
with correct ones (a correct student is a whole honest submission). A session grades
each exercise on its own (its suite, its own inside processes, its own time budget),
so whether a file loses points does not depend on the files beside it: over every kept
variant, each file lost points or kept them all as when it was a student alone, and 1,163
of 1,164 got the very same points up to their first failure (the other is a race whose
figure varies alone too: docs/benchmarks/test-suite-time.md, "The gate packs four files per
student"). Packed, the gate starts a quarter of the sessions.
``--alone`` grades each file as a student of its own, to check that again.

Each exercise stops at its first failing test (``day25 grade --stop-at-first-failure``):
whether a file loses points is decided there, and the tests after it cannot change that,
so a bug costs only the tests up to the one that catches it. The points shown for a
short file are the points up to its first failure, not its grade:

    python benchmarks/blind_batch.py /path/to/batch          # a new batch, "before"
    python benchmarks/blind_batch.py                         # the kept ones (tests/)
    python benchmarks/blind_batch.py BATCH --json            # the figures as JSON too
    python benchmarks/blind_batch.py --alone --json          # one student per file
    python benchmarks/blind_batch.py --check                 # every kept variant
    python benchmarks/blind_batch.py --check --bugs-share 3 --correct-share 2  # CI's share

Without a folder it grades the kept variants (``tests/mutants/<exercise>/bug_*.py``
and ``tests/alternatives/<exercise>/ok_*.py``). Run it on a new batch *before* any test is
written for it: that count is the honest measure of how the suites generalise
(docs/benchmarks/hidden-suites.md, "How much the hidden suites catch").

``--check`` makes the figures a gate: it exits 1 when a bug keeps every point, a correct
one loses any, or the batch's ``review.csv`` names any file (they are honest programs).
CI runs ``--check`` on the kept variants after the test line (``.ci/run``): grading
hundreds of programs is a mutation run, slow on purpose (a hidden suite per file), so it
is a command here rather than a test, and every commit is still held to it.

``--bugs-share N`` grades one kept bug in N and ``--correct-share N`` one correct file in
N, which ones set by the commit being checked (``git rev-parse HEAD``, different digits
for each), so over successive commits every file is graded. CI runs ``--bugs-share 3
--correct-share 2``: the whole gate took 7 minutes of CI's 20, and CI passed with 25 s to
spare once the suite had grown (docs/benchmarks/test-suite-time.md, "The gate samples the
correct files too"). A hidden test weakened so that it lets k kept bugs through is caught
on the commit that weakens it with probability 1 - (2/3)^k; one made so strict that it
fails k correct files, with 1 - (1/2)^k; and again on each later commit while it stays.
Before a change to the suites or the grader lands, run the whole gate (no share) once: it
is the measure, CI's share is the tripwire.

``--within SECONDS`` grades the chosen files in eight rounds (``ROUNDS``), each an even
slice of every exercise's bugs and correct files, and starts a round only while 1.2 times
the longest round so far fits in what is left (the first always runs). CI gives it what is
left of 18 minutes from its start: the same shared machine has run the same suite 1.6
times slower on some days, and a slow day should shorten the sample, not fail CI on time.
The first round runs even when nothing is left, so its size is what a slow day can push
CI past its 20 minutes: an eighth of CI's share, not a quarter (docs/benchmarks/
test-suite-time.md, "Rounds that yield to CI's clock").
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(COURSE / "src"))

from day25.course.catalogue import load_catalogue  # noqa: E402 - after the path

KEPT = (("mutants", "bug_"), ("alternatives", "ok_"))
ROUNDS = 8  # --within's rounds; the first always runs, so it bounds the overrun


def variants(batch: Path | None) -> list[tuple[str, str, Path]]:
    """(exercise id, module file name, path) of every variant, by exercise then name."""
    found = []
    for ex in load_catalogue(COURSE).exercises:
        if batch is None:
            paths = [p for folder, prefix in KEPT
                     for p in sorted((COURSE / "tests" / folder / ex.id).glob(f"{prefix}*.py"))]
        else:
            paths = [p for prefix in ("bug_", "ok_")
                     for p in sorted((batch / ex.id).glob(f"{prefix}*.py"))]
        found += [(ex.id, ex.module, p) for p in paths]
    return found


def share_of(found: list[tuple[str, str, Path]], prefix: str, share: int, turn: int
             ) -> list[tuple[str, str, Path]]:
    """The files whose name starts with ``prefix`` and whose place among their exercise's
    (name order) is ``turn`` modulo ``share``, and every other file: turns
    ``0 .. share - 1`` split those files between them, each exercise's evenly."""
    kept, seen = [], dict.fromkeys((ex for ex, _, _ in found), -1)
    for exercise, module, path in found:
        if path.name.startswith(prefix):
            seen[exercise] += 1
            if seen[exercise] % share != turn % share:
                continue
        kept.append((exercise, module, path))
    return kept


def commit_turn(share: int, kind: str = "bug_") -> tuple[int, str]:
    """This commit's turn among ``share`` for the bugs or the correct files (``kind``), and
    the commit. The two turns come from different digits of the hash, so which bugs and
    which correct files a commit grades do not move together."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=COURSE, capture_output=True,
                          text=True, check=False).stdout.strip()
    digits = head[:8] if kind == "bug_" else head[8:16]
    return (int(digits, 16) % share if head else 0), head[:12] or "unknown"


def rounds(found: list[tuple[str, str, Path]], count: int) -> list[list[tuple[str, str, Path]]]:
    """``found`` split into ``count`` rounds, each holding an even slice of every
    exercise's bugs and of its correct files, so that any first rounds are a fair sample."""
    split = [share_of(share_of(found, "bug_", count, turn), "ok_", count, turn)
             for turn in range(count)]
    return [files for files in split if files]


def within(found: list[tuple[str, str, Path]], seconds: float, jobs: int, alone: bool,
           count: int = ROUNDS) -> tuple[dict[str, float], dict[str, str], list[str],
                                    list[tuple[str, str, Path]]]:
    """:func:`grade` round by round (:func:`rounds`) while the time left is enough for one
    more as long as the longest so far, with a fifth to spare; the first always runs.
    Returns what :func:`grade` does and the files graded."""
    points: dict[str, float] = {}
    why: dict[str, str] = {}
    flagged: list[str] = []
    graded: list[tuple[str, str, Path]] = []
    start, longest = time.monotonic(), 0.0
    split = rounds(found, count)
    for number, files in enumerate(split, 1):
        left = seconds - (time.monotonic() - start)
        if graded and longest * 1.2 > left:
            print(f"time ran short: graded {number - 1} of {len(split)} rounds, {len(graded)} of "
                  f"{len(found)} files ({left:.0f} s left, the longest round took "
                  f"{longest:.0f} s)")
            break
        began = time.monotonic()
        more = grade(files, jobs, alone)
        longest = max(longest, time.monotonic() - began)
        print(f"round {number} of {len(split)}: {len(files)} files in "
              f"{time.monotonic() - began:.0f} s", flush=True)
        points.update(more[0])
        why.update(more[1])
        flagged += more[2]
        graded += files
    return points, why, flagged, graded


def students(found: list[tuple[str, str, Path]], alone: bool
             ) -> dict[str, dict[str, tuple[str, Path]]]:
    """The class: ``{student: {exercise: (module file name, variant)}}``. Student ``bug_N``
    holds the N-th bug of each exercise that has one, ``ok_N`` the N-th correct file;
    ``alone``: one student per file, named ``<exercise>__<file stem>``."""
    if alone:
        return {f"{ex}__{path.stem}": {ex: (module, path)} for ex, module, path in found}
    klass: dict[str, dict[str, tuple[str, Path]]] = {}
    for kind in ("bug_", "ok_"):
        seen: dict[str, int] = {}
        for exercise, module, path in found:
            if path.name.startswith(kind):
                seen[exercise] = seen.get(exercise, 0) + 1
                klass.setdefault(f"{kind}{seen[exercise]:03d}", {})[exercise] = (module, path)
    return klass


def grading_order(klass: dict[str, dict[str, tuple[str, Path]]]) -> list[str]:
    """The students in the order ``day25 grade`` takes them (as its slots free up): the
    correct ones first. Why: a bug stops at its first failing test, a correct file runs its
    whole suite, and one that is slow to grade (an app never idle) can take most of a
    round's time; started last, it ran on alone after the rest had finished. A student is
    correct by their files, not their name (``--alone`` names them by exercise)."""
    return sorted(klass, key=lambda student: not any(
        path.name.startswith("ok_") for _, path in klass[student].values()))


def grade(found: list[tuple[str, str, Path]], jobs: int, alone: bool = False
          ) -> tuple[dict[str, float], dict[str, str], list[str]]:
    """``{"<exercise>/<file stem>": points}`` from one ``day25 grade`` of them all, the
    FAIL lines of each file's feedback (same keys), and what its ``review.csv`` names
    (``<exercise>/<file name>: line N, rule: what``)."""
    klass = students(found, alone)
    where = {(student, exercise): path for student, files in klass.items()
             for exercise, (_, path) in files.items()}
    with tempfile.TemporaryDirectory(prefix="d25-blind-") as tmp:
        for student, files in klass.items():
            (Path(tmp) / "class" / student).mkdir(parents=True)
            for module, path in files.values():
                shutil.copy(path, Path(tmp) / "class" / student / module)
        day25 = Path(sys.executable).with_name("day25")
        # each student by name: a class of one would read as one student's folder
        folders = [str(Path(tmp) / "class" / student) for student in grading_order(klass)]
        proc = subprocess.run([str(day25), "grade", *folders, "--out", f"{tmp}/out",
                               "--jobs", str(jobs), "--course", str(COURSE),
                               "--stop-at-first-failure"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"day25 grade failed ({proc.returncode}):\n"
                     f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        with open(f"{tmp}/out/gradebook.csv", newline="", encoding="utf-8") as f:
            book = {row["student"]: row for row in csv.DictReader(f)}
        with open(f"{tmp}/out/review.csv", newline="", encoding="utf-8") as f:
            flagged = [f"{row['exercise']}/{where[row['student'], row['exercise']].name}: "
                       f"line {row['line']}, {row['rule']}: {row['what']}"
                       if (row["student"], row["exercise"]) in where
                       else " ".join(f"{key}={value}" for key, value in row.items())
                       for row in csv.DictReader(f)]
        points, why = {}, {}
        for (student, exercise), path in where.items():
            points[f"{exercise}/{path.stem}"] = float(book[student][exercise])
            why[f"{exercise}/{path.stem}"] = failures(Path(tmp) / "out" / student, exercise)
    return points, why, flagged


def failures(student: Path, exercise: str) -> str:
    """The FAIL lines of ``exercise`` in ``student``'s feedback, with their messages: why a
    file lost points, shown for a correct one that did (a grade is never a bare number)."""
    lines = (student / "feedback.md").read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if f"(`{exercise}`)" in line), len(lines))
    shown: list[str] = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("- FAIL") or (shown and line.startswith("    ")):
            shown.append(line)
    return "\n".join(f"          {line.strip()}"[:300] for line in shown[:6])


def share_count(text: str) -> int:
    """A share's N: a whole number from 1 (1: every file)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 (1: every file)")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch", nargs="?", type=Path,
                        help="folder of <exercise>/bug_*.py and ok_*.py (default: the kept ones)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--alone", action="store_true",
                        help="grade each file as a student of its own (not four per student)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a bug keeps every point, a correct one loses any, "
                             "or the review names any file")
    parser.add_argument("--bugs-share", type=share_count, default=1, metavar="N",
                        help="grade one bug in N (which ones: by the commit)")
    parser.add_argument("--correct-share", type=share_count, default=1, metavar="N",
                        help="grade one correct file in N (which ones: by the commit)")
    parser.add_argument("--within", type=float, metavar="SECONDS",
                        help=f"grade in {ROUNDS} rounds and start one only if it should end "
                             "within SECONDS of the start (the first always runs)")
    args = parser.parse_args()
    found = variants(args.batch)
    if not found:
        sys.exit(f"no <exercise>/bug_*.py or ok_*.py under {args.batch}")
    shown = []
    for prefix, share, what in (("bug_", args.bugs_share, "bugs"),
                                ("ok_", args.correct_share, "correct files")):
        if share > 1:
            turn, commit = commit_turn(share, prefix)
            found = share_of(found, prefix, share, turn)
            shown.append(f"{what} {turn + 1} of every {share} (commit {commit})")
        else:
            shown.append(f"every one of the {what}")
    print(f"graded: {', '.join(shown)}")
    if args.within is None:
        points, why, flagged = grade(found, args.jobs, args.alone)
    else:
        points, why, flagged, found = within(found, args.within, args.jobs, args.alone)
    full = {ex.id: ex.points for ex in load_catalogue(COURSE).exercises}
    rows, misses = [], []
    print(f"{'exercise':<24} {'bugs caught':>12} {'correct at full':>16}")
    for exercise in dict.fromkeys(ex for ex, _, _ in found):
        bugs = [(p, points[f"{exercise}/{p.stem}"]) for ex, _, p in found
                if ex == exercise and p.name.startswith("bug_")]
        oks = [(p, points[f"{exercise}/{p.stem}"]) for ex, _, p in found
               if ex == exercise and p.name.startswith("ok_")]
        caught = sum(got < full[exercise] for _, got in bugs)
        at_full = sum(got == full[exercise] for _, got in oks)
        print(f"{exercise:<24} {f'{caught} / {len(bugs)}':>12} {f'{at_full} / {len(oks)}':>16}")
        misses += [f"  missed: {exercise}/{p.name} ({got:g}/{full[exercise]:g})"
                   for p, got in bugs if got == full[exercise]]
        misses += [f"  short:  {exercise}/{p.name} ({got:g}/{full[exercise]:g})\n"
                   f"{why[f'{exercise}/{p.stem}']}" for p, got in oks if got < full[exercise]]
        rows.append({"exercise": exercise, "bugs": len(bugs), "caught": caught,
                     "correct": len(oks), "at_full": at_full})
    print("\n".join(misses) or "every bug lost points and every correct one got them all")
    print("\n".join(f"  review: {row}" for row in flagged)
          or "review: none of them reaches beyond what the exercises need")
    if args.json:
        print(json.dumps({"rows": rows, "points": points, "review": flagged}))
    if args.check and (misses or flagged):
        sys.exit(f"blind batch check failed: {len(misses)} grade(s) against the file's "
                 f"docstring, {len(flagged)} review flag(s)")


if __name__ == "__main__":
    main()
