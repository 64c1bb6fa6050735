"""How many realistic bugs the PUBLIC checks tell a student about before grading.

A student runs ``day25 check <exercise>``: the public suite, through the grader's own
pipeline. The hidden suite then grades. A bug the public checks let through is one the
student learns of only from the grade, so this counts, per exercise, how many of the
kept bugs (``tests/mutants/<exercise>/bug_*.py``) fail a public check, and that every
kept correct file (``tests/alternatives/<exercise>/ok_*.py``) passes them all.

The kept bugs were written from each exercise's text to test the *hidden* suites; the
public suites were not written against them, so the count measures what the public
checks catch of bugs they were not written for. The hidden suites catch every one of
them (``benchmarks/blind_batch.py --check``, CI's gate); the public ones are not meant
to (the hidden suites check more), but a common bug should not wait for the grade.

    python benchmarks/public_catch.py                 # the table, then JSON
    python benchmarks/public_catch.py --missed        # and each bug the public checks miss
    python benchmarks/public_catch.py once_semantics  # one exercise

Each "student" holds the N-th kept file of every exercise, graded in one session as
``day25 check`` would grade one exercise (stopping at its first failing test). Slow
on purpose (a suite per file): a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(COURSE / "src"), str(Path(__file__).resolve().parent)]

from blind_batch import students, variants  # noqa: E402 - the gate's kept files and class

from day25.course.catalogue import Exercise, load_catalogue  # noqa: E402 - after the path
from day25.course.grading.results import ExerciseResult  # noqa: E402
from day25.course.grading.verdict import Settings, run_suites  # noqa: E402


def verdict(result: ExerciseResult) -> str:
    """``fail`` (a public check failed), ``pass`` (all ran and passed) or ``error``
    (the checks could not run: never counted as either)."""
    if result.runner_errors or not result.tests:
        return "error"
    return "pass" if all(t.passed for t in result.tests) else "fail"


def first_failure(result: ExerciseResult) -> str:
    failed = next((t for t in result.tests if not t.passed), None)
    return failed.name if failed else ""


def check_student(exercises: list[Exercise], files: dict[str, Path], settings: Settings
                  ) -> dict[str, tuple[str, str]]:
    """``{exercise id: (verdict, first failing test)}`` of one student's files."""
    chosen = [ex for ex in exercises if ex.id in files]
    with tempfile.TemporaryDirectory(prefix="d25-public-") as tmp:
        folder = Path(tmp) / "submission"
        folder.mkdir()
        Path(tmp).chmod(0o755)
        folder.chmod(0o755)
        for ex in chosen:
            shutil.copy(files[ex.id], folder / ex.module)
            (folder / ex.module).chmod(0o644)
        results = run_suites(chosen, folder, settings, suite="public")
    return {r.exercise: (verdict(r), first_failure(r)) for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", help="exercise ids (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--missed", action="store_true",
                        help="list each kept bug the public checks let through")
    args = parser.parse_args()
    catalogue = load_catalogue(COURSE)
    unknown = sorted(set(args.exercises) - {ex.id for ex in catalogue.exercises})
    if unknown:
        parser.error(f"no such exercise: {', '.join(unknown)} (the catalogue has "
                     f"{', '.join(ex.id for ex in catalogue.exercises)})")
    exercises = [ex for ex in catalogue.exercises if not args.exercises or ex.id in args.exercises]
    # the gate's class: student bug_N holds the N-th kept bug of each exercise, ok_N the
    # N-th correct file
    klass = students([v for v in variants(None) if v[0] in {ex.id for ex in exercises}],
                     alone=False)
    group = [{ex_id: path for ex_id, (_, path) in files.items()} for files in klass.values()]
    settings = Settings(COURSE, stop_at_first_failure=True)
    began = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(lambda files: check_student(exercises, files, settings),
                                 group))
    seconds = time.monotonic() - began
    figures: dict[str, dict[str, object]] = {}
    print(f"{'exercise':<24}{'bugs caught':>14}{'correct passed':>17}{'errors':>8}")
    for ex in exercises:
        bugs = caught = oks = passed = errors = 0
        missed: list[str] = []
        wrongly: list[str] = []
        for files, outcome in zip(group, outcomes, strict=True):
            if ex.id not in files:
                continue
            name = files[ex.id].stem
            said, failing = outcome[ex.id]
            if said == "error":
                errors += 1
            elif name.startswith("bug_"):
                bugs += 1
                caught += said == "fail"
                if said == "pass":
                    missed.append(name)
            else:
                oks += 1
                passed += said == "pass"
                if said == "fail":
                    wrongly.append(f"{name} ({failing})")
        print(f"{ex.id:<24}{f'{caught}/{bugs}':>14}{f'{passed}/{oks}':>17}{errors:>8}")
        figures[ex.id] = {"bugs": bugs, "caught": caught, "correct": oks, "passed": passed,
                          "errors": errors, "missed": missed, "failed_correct": wrongly}
    for ex_id, fig in figures.items():
        if fig["failed_correct"]:
            print(f"\n{ex_id}: correct files that FAILED a public check: {fig['failed_correct']}")
        if args.missed and fig["missed"]:
            print(f"\n{ex_id}: bugs the public checks let through:")
            for name in fig["missed"]:  # type: ignore[attr-defined]
                doc = (COURSE / "tests" / "mutants" / ex_id / f"{name}.py").read_text(
                    encoding="utf-8").split('"""')[1:2]
                print(f"  {name}: {doc[0].strip().splitlines()[0] if doc else ''}")
    print(f"\n{sum(len(files) for files in group)} files in {seconds:.0f} s")
    print(json.dumps({"seconds": round(seconds, 1), "exercises": figures}))


if __name__ == "__main__":
    main()
