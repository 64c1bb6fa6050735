"""How much the hidden suites catch of a batch written without reading them.

A blind batch is a folder with one subfolder per exercise id, each holding whole
submissions of that exercise: ``bug_*.py`` (one realistic bug each, written from the
exercise's text alone) and ``ok_*.py`` (correct ones in other styles). This grades
every file as one student of a single ``day25 grade`` batch, as an instructor grades a
class (the sandbox, the hidden suites the catalogue names), and prints per exercise how
many bugs lost points and how many correct ones got them all. Each exercise stops at its
first failing test (``day25 grade --stop-at-first-failure``): whether a file loses points
is decided there, and the tests after it cannot change that, so a bug costs only the
tests up to the one that catches it. The points shown for a short file are the points
up to its first failure, not its grade:

    python benchmarks/blind_batch.py /path/to/batch          # a new batch, "before"
    python benchmarks/blind_batch.py                         # the kept ones (tests/)
    python benchmarks/blind_batch.py BATCH --json            # the figures as JSON too
    python benchmarks/blind_batch.py --check                 # CI: exit 1 on any miss

Without a folder it grades the kept variants (``tests/mutants/<exercise>/bug_*.py``
and ``tests/alternatives/<exercise>/ok_*.py``). Run it on a new batch *before* any test is
written for it: that count is the honest measure of how the suites generalise
(docs/benchmarks.md, "How much the hidden suites catch").

``--check`` makes the figures a gate: it exits 1 when a bug keeps every point, a correct
one loses any, or the batch's ``review.csv`` names any file (they are honest programs).
CI runs ``--check`` on the kept variants after the test line (``.ci/run``): grading
hundreds of programs is a mutation run, slow on purpose (a hidden suite per file), so it
is a command here rather than a test, and every commit is still held to it.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(COURSE / "src"))

from day25.course.catalogue import load_catalogue  # noqa: E402 - after the path

KEPT = (("mutants", "bug_"), ("alternatives", "ok_"))


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


def grade(found: list[tuple[str, str, Path]], jobs: int
          ) -> tuple[dict[str, float], dict[str, str], list[str]]:
    """``{"<exercise>/<file stem>": points}`` from one ``day25 grade`` of them all, the
    FAIL lines of each file's feedback (same keys), and the files its ``review.csv``
    names (``<exercise>/<file name>: rule``)."""
    with tempfile.TemporaryDirectory(prefix="d25-blind-") as tmp:
        klass = Path(tmp) / "class"
        for exercise, module, path in found:
            student = klass / f"{exercise}__{path.stem}"
            student.mkdir(parents=True)
            shutil.copy(path, student / module)
        day25 = Path(sys.executable).with_name("day25")
        proc = subprocess.run([str(day25), "grade", str(klass), "--out", f"{tmp}/out",
                               "--jobs", str(jobs), "--course", str(COURSE),
                               "--stop-at-first-failure"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"day25 grade failed ({proc.returncode}):\n"
                     f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        with open(f"{tmp}/out/gradebook.csv", newline="", encoding="utf-8") as f:
            book = {row["student"]: row for row in csv.DictReader(f)}
        with open(f"{tmp}/out/review.csv", newline="", encoding="utf-8") as f:
            flagged = [" ".join(f"{key}={value}" for key, value in row.items())
                       for row in csv.DictReader(f)]
        points = {f"{ex}/{p.stem}": float(book[f"{ex}__{p.stem}"][ex]) for ex, _, p in found}
        why = {key: failures(Path(tmp) / "out" / key.replace("/", "__", 1), key.split("/")[0])
               for key in points}
    return points, why, flagged


def failures(student: Path, exercise: str) -> str:
    """The FAIL lines of ``exercise`` in ``student``'s feedback, with their messages: why a
    file lost points, shown for a correct one that did (a grade is never a bare number)."""
    lines = (student / "feedback.md").read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if f"(`{exercise}`)" in line), len(lines))
    shown = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("- FAIL") or (shown and line.startswith("    ")):
            shown.append(line)
    return "\n".join(f"          {line.strip()}"[:300] for line in shown[:6])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch", nargs="?", type=Path,
                        help="folder of <exercise>/bug_*.py and ok_*.py (default: the kept ones)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a bug keeps every point, a correct one loses any, "
                             "or the review names any file")
    args = parser.parse_args()
    found = variants(args.batch)
    if not found:
        sys.exit(f"no <exercise>/bug_*.py or ok_*.py under {args.batch}")
    points, why, flagged = grade(found, args.jobs)
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
