"""The same verdict on every system: grade the same code with each runner, compare test by test.

    python tests/portable/same_verdict.py [--mutants N] [--exercise ID] [--json]

Grades the solutions, the stubs and the first N mutants of each exercise (or of the
one ``--exercise`` names)
(``tests/mutants``; all of them without ``--mutants``) with the hidden suites,
four ways, each in a process of its own: the sandboxed runner (Linux), the
portable runner on Linux, and the portable runner on simulated macOS and
Windows (``sim/``). Prints one row per submission and exercise (tests passed /
tests, points) and exits 1 when any configuration's verdict differs from the
sandboxed one in any test. ``--json`` prints the rows as JSON last.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

COURSE = Path(__file__).resolve().parents[2]
SIM = Path(__file__).resolve().parent / "sim"
CONFIGS = {
    "sandboxed (Linux)": {"DAY25_RUNNER": "sandboxed"},
    "portable (Linux)": {"DAY25_RUNNER": "portable"},
    "portable (macOS, simulated)": {"PYTHONPATH": str(SIM / "macos")},
    "portable (Windows, simulated)": {"PYTHONPATH": str(SIM / "windows")},
}


def build(work: Path, mutants: int | None, only: str | None = None) -> list[dict[str, Any]]:
    """The submissions to grade: folders under ``work`` and the exercises each is graded on
    (every exercise, or only the one ``only`` names)."""
    sys.path.insert(0, str(COURSE / "src"))
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.mutants import load_mutants

    chosen = [ex for ex in load_catalogue(COURSE).exercises if only in (None, ex.id)]
    if not chosen:
        raise SystemExit(f"no exercise {only!r} in the catalogue")
    exercises = [ex.id for ex in chosen]
    items = []
    for label, source in (("solution", "solutions"), ("stub", "exercises")):
        shutil.copytree(COURSE / source, work / label, ignore=shutil.ignore_patterns("*.ipynb"))
        items.append({"label": label, "folder": str(work / label), "exercises": exercises})
    for ex in chosen:
        for mutant in load_mutants(COURSE, ex.id)[:mutants]:
            folder = work / f"{ex.id}-{mutant.name}"
            shutil.copytree(COURSE / "solutions", folder)
            mutant.write(COURSE / "solutions" / ex.module, folder)
            items.append({"label": f"mutant {mutant.name}", "folder": str(folder),
                          "exercises": [ex.id]})
    return items


def grade(manifest: Path) -> None:
    """In a configuration's process: grade every item, print the verdicts as JSON."""
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.verdict import Settings, run_suites
    from day25.course.sandbox import runner

    catalogue = load_catalogue(COURSE)
    settings = Settings(COURSE)
    rows = []
    for item in json.loads(manifest.read_text(encoding="utf-8")):
        chosen = [catalogue.get(ex) for ex in item["exercises"]]
        for result in run_suites(chosen, Path(item["folder"]), settings):
            rows.append({"label": item["label"], "exercise": result.exercise,
                         "tests": [[t.name, t.passed] for t in result.tests],
                         "points": round(result.points, 2), "notes": result.notes,
                         "runner_errors": result.runner_errors})
    print(json.dumps({"runner": runner.chosen(), "rows": rows}))


def compare(mutants: int | None, only: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Every configuration's rows side by side, and whether they all agree."""
    with tempfile.TemporaryDirectory(prefix="day25-same-verdict-") as tmp:
        items = build(Path(tmp), mutants, only)
        manifest = Path(tmp) / "manifest.json"
        manifest.write_text(json.dumps(items))
        found: dict[str, list[dict[str, Any]]] = {}
        for name, extra in CONFIGS.items():
            env = {k: v for k, v in os.environ.items() if k not in ("DAY25_RUNNER", "PYTHONPATH")}
            proc = subprocess.run([sys.executable, __file__, "--grade", str(manifest)],
                                  env={**env, **extra}, cwd=COURSE, capture_output=True,
                                  text=True, check=False)
            if proc.returncode:
                raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
            report = json.loads(proc.stdout.strip().splitlines()[-1])
            want = "sandboxed" if name.startswith("sandboxed") else "portable"
            if report["runner"] != want:
                raise SystemExit(f"{name} ran the {report['runner']} runner, not the {want} one")
            found[name] = report["rows"]
    first = next(iter(CONFIGS))
    table, same = [], True
    for index, row in enumerate(found[first]):
        line = {"submission": row["label"], "exercise": row["exercise"]}
        for name in CONFIGS:
            other = found[name][index]
            passed = sum(ok for _name, ok in other["tests"])
            line[name] = f"{passed}/{len(other['tests'])} ({other['points']:g} pts)"
            agrees = (other["tests"], other["points"]) == (row["tests"], row["points"])
            same = same and agrees and not other["runner_errors"]
            if not agrees:
                line[name] += " DIFFERS"
        table.append(line)
    return table, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=None, help="mutants per exercise")
    parser.add_argument("--exercise", default=None, help="only this exercise (default: all)")
    parser.add_argument("--json", action="store_true", help="the rows as JSON, last")
    parser.add_argument("--grade", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.grade:
        grade(args.grade)
        return
    table, same = compare(args.mutants, args.exercise)
    columns = list(table[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for line in table:
        print("| " + " | ".join(line[c] for c in columns) + " |")
    print(f"\n{len(table)} rows: " + ("the same verdict, test by test, with every runner"
                                      if same else "VERDICTS DIFFER"))
    if args.json:
        print(json.dumps({"same": same, "rows": table}))
    raise SystemExit(0 if same else 1)


if __name__ == "__main__":
    main()
