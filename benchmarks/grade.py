"""Benchmark ``day25 grade``: N generated submissions, --jobs 2, with and without the sandbox.

Generates N student folders (default 100) mixing reference solutions and the
mutants in ``tests/mutants/<id>/``, grades them with ``day25 grade --jobs 2``
under the full sandbox, then grades the very same folders again with
``DAY25_SANDBOX=off`` (no namespaces, no rlimits) in the same run, and prints
wall time, submissions per minute and the sandbox's overhead ratio.

    python benchmarks/grade.py            # N = 100
    python benchmarks/grade.py --n 6
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]


def variants() -> dict[str, list[str]]:
    """Per exercise module: the solution's source and each mutant's (tests/mutants/<id>.toml)."""
    from day25.course.catalogue import load_catalogue
    from day25.course.grading.mutants import load_mutants

    found: dict[str, list[str]] = {}
    for ex in load_catalogue(COURSE).exercises:
        solution = COURSE / "solutions" / ex.module
        if solution.is_file():
            source = solution.read_text(encoding="utf-8")
            found[ex.module] = [source] + [m.apply(source) for m in load_mutants(COURSE, ex.id)]
    return found


def generate(n: int, into: Path, seed: int = 25) -> None:
    rng = random.Random(seed)
    pool = variants()
    for i in range(n):
        student = into / f"student{i:03d}"
        student.mkdir(parents=True)
        for module, sources in pool.items():
            (student / module).write_text(rng.choice(sources), encoding="utf-8")


def grade(klass: Path, out: Path, sandbox: str) -> float:
    env = {**os.environ, "DAY25_SANDBOX": sandbox}
    unsafe = ["--unsafe-shared-filesystem"] if sandbox == "off" else []  # the bare baseline
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "day25.cli", "grade", str(klass), "--out", str(out),
         "--jobs", "2", "--course", str(COURSE), *unsafe],
        env=env, cwd=COURSE, capture_output=True, text=True, timeout=24 * 3600, check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"grading failed ({sandbox}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="number of submissions (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="day25-bench-") as tmp:
        klass = Path(tmp) / "class"
        generate(args.n, klass)
        sandboxed = grade(klass, Path(tmp) / "out-sandbox", "auto")
        bare = grade(klass, Path(tmp) / "out-bare", "off")
        books = [(Path(tmp) / out / "gradebook.csv").read_text().splitlines()
                 for out in ("out-sandbox", "out-bare")]
        same = books[0] == books[1]
        differ = [(a, b) for a, b in zip(*books, strict=False) if a != b]
    from day25.course.sandbox.namespaces import describe

    print(describe())
    print(f"submissions:           {args.n} (solutions and mutants, 4 exercises each), --jobs 2")
    rate = 60 * args.n / sandboxed
    print(f"sandboxed wall time:   {sandboxed:.1f} s  ({rate:.1f} submissions/min)")
    print(f"no-sandbox wall time:  {bare:.1f} s  ({60 * args.n / bare:.1f} submissions/min)")
    print(f"sandbox overhead:      {sandboxed / bare:.2f}x")
    print(f"same gradebook both ways: {same}")
    for sandboxed_row, bare_row in differ:
        print(f"  sandboxed: {sandboxed_row}\n  bare:      {bare_row}")


if __name__ == "__main__":
    main()
