"""Mutation score of each hidden suite, with cosmic-ray over ``solutions/``.

For every exercise, cosmic-ray makes each mutant of ``solutions/<module>``
(one small change each: an operator, a constant, a condition, a ``break``...)
in a copy of the file, and runs the exercise's hidden suite against that copy,
exactly as ``day25 grade`` would: the submission runs in the grading harness's
sandboxed child processes. A mutant is killed when the suite fails.

A survivor is either a gap in the suite (write a hidden test that kills it) or
an equivalent mutant: a change no program can observe through the exercise's
contract. Equivalents are listed, each with one line on why, in the reviewed
file ``tests/mutants/equivalent/<exercise>.toml``; the score counts only the
others:

    score = killed / (mutants - reviewed equivalents)

    python benchmarks/mutation.py                      # every exercise
    python benchmarks/mutation.py once_semantics --jobs 1
    python benchmarks/mutation.py --survivors          # the diff of each survivor

The last line is JSON (``--json`` prints only that). Slow on purpose (a
hidden suite per mutant): it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COURSE = Path(__file__).resolve().parents[1]
EQUIVALENTS = COURSE / "tests" / "mutants" / "equivalent"


@dataclass
class Mutant:
    """One cosmic-ray mutation and what the hidden suite said of it."""

    operator: str
    where: str  # the function or method it changes
    line: int
    old: str  # the source line before, stripped
    new: str  # and after
    outcome: str  # killed, survived, incompetent or pending

    def key(self) -> tuple[str, str, str]:
        return (self.where, self.old, self.new)


@dataclass
class Score:
    exercise: str
    mutants: list[Mutant] = field(default_factory=list)
    equivalent: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def killed(self) -> int:
        return sum(m.outcome == "killed" for m in self.mutants)

    @property
    def survivors(self) -> list[Mutant]:
        listed = {m.key() for m in self.equivalent}
        return [m for m in self.mutants if m.outcome != "killed" and m.key() not in listed]

    @property
    def score(self) -> float:
        counted = len(self.mutants) - len(self.equivalent)
        return self.killed / counted if counted else 1.0


def reviewed_equivalents(exercise: str) -> set[tuple[str, str, str]]:
    """The (where, old line, new line) of each mutant reviewed as equivalent."""
    path = EQUIVALENTS / f"{exercise}.toml"
    if not path.is_file():
        return set()
    rows = tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])
    return {(row["where"], row["old"], row["new"]) for row in rows}


def _config(module: Path, suite: Path, submission: Path, timeout: float) -> str:
    test = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
            "-p", "no:xdist", "-p", "no:randomly", "--import-mode=importlib",  # as the grader
            str(suite), "--submission", str(submission)]
    return "\n".join([
        "[cosmic-ray]",
        f"module-path = {json.dumps(str(module))}",
        f"timeout = {timeout}",
        "excluded-modules = []",
        f"test-command = {json.dumps(subprocess.list2cmdline(test))}",
        "[cosmic-ray.distributor]",
        'name = "local"',
        "",
    ])


def _diff_lines(diff: str) -> tuple[str, str]:
    minus = [ln[1:].strip() for ln in diff.splitlines()
             if ln.startswith("-") and not ln.startswith("---") and ln[1:].strip()]
    plus = [ln[1:].strip() for ln in diff.splitlines()
            if ln.startswith("+") and not ln.startswith("+++") and ln[1:].strip()]
    return " / ".join(minus), " / ".join(plus)


def _read(session: Path, work: Path) -> list[Mutant]:
    dump = subprocess.run(["cosmic-ray", "dump", str(session)], capture_output=True,
                          text=True, check=True, cwd=work).stdout
    mutants = []
    for line in dump.splitlines():
        job, result = json.loads(line)
        mutation = job["mutations"][0]
        old, new = _diff_lines((result or {}).get("diff") or "")
        outcome = "pending"
        if result:
            outcome = result.get("test_outcome") or result.get("worker_outcome") or "?"
        mutants.append(Mutant(mutation["operator_name"], mutation.get("definition_name") or "",
                              mutation["start_pos"][0], old, new, outcome))
    return sorted(mutants, key=lambda m: (m.line, m.operator, m.new))


def measure(exercise: str, module: str, suite: str, *, timeout: float) -> Score:
    """Run cosmic-ray for one exercise in a scratch folder; the course is not touched."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"day25-mutation-{exercise}-") as scratch:
        work = Path(scratch)
        submission = work / "submission"
        submission.mkdir()
        shutil.copy(COURSE / "solutions" / module, submission / module)
        config = work / "cosmic-ray.toml"
        config.write_text(_config(submission / module, COURSE / suite, submission, timeout),
                          encoding="utf-8")
        session = work / "session.sqlite"
        subprocess.run(["cosmic-ray", "init", str(config), str(session)], check=True, cwd=work)
        baseline = subprocess.run(["cosmic-ray", "baseline", str(config)], cwd=work,
                                  capture_output=True, text=True)
        if baseline.returncode != 0:
            raise SystemExit(f"{exercise}: the hidden suite fails on the unmutated solution:\n"
                             f"{baseline.stdout[-3000:]}{baseline.stderr[-3000:]}")
        subprocess.run(["cosmic-ray", "exec", str(config), str(session)], check=True, cwd=work,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mutants = _read(session, work)
    listed = reviewed_equivalents(exercise)
    score = Score(exercise, mutants, [m for m in mutants if m.key() in listed])
    score.seconds = time.perf_counter() - started
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("exercises", nargs="*", help="exercise ids (default: every exercise)")
    parser.add_argument("--jobs", type=int, default=2, help="exercises measured side by side")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant")
    parser.add_argument("--survivors", action="store_true", help="print each survivor")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(COURSE / "src"))
    from day25.course.catalogue import load_catalogue

    exercises = [ex for ex in load_catalogue(COURSE).exercises
                 if not args.exercises or ex.id in args.exercises]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        scores = list(pool.map(lambda ex: measure(ex.id, ex.module, ex.tests("hidden"),
                                                  timeout=args.timeout), exercises))
    report: dict[str, Any] = {"exercises": {}}
    if not args.json:
        print(f"{'exercise':24} {'mutants':>7} {'equiv.':>6} {'killed':>6} {'survived':>8} "
              f"{'score':>6} {'time':>6}")
    for s in scores:
        survivors = s.survivors
        report["exercises"][s.exercise] = {
            "mutants": len(s.mutants), "equivalent": len(s.equivalent), "killed": s.killed,
            "survived": len(survivors), "score": round(s.score, 4), "seconds": round(s.seconds),
            "survivors": [{"operator": m.operator, "where": m.where, "line": m.line,
                           "old": m.old, "new": m.new, "outcome": m.outcome}
                          for m in survivors],
        }
        if not args.json:
            print(f"{s.exercise:24} {len(s.mutants):7} {len(s.equivalent):6} {s.killed:6} "
                  f"{len(survivors):8} {s.score:6.1%} {s.seconds:5.0f}s")
            if args.survivors:
                for m in survivors:
                    print(f"    line {m.line} in {m.where} [{m.operator}, {m.outcome}]\n"
                          f"      - {m.old}\n      + {m.new}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
