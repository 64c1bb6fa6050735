"""How many wrong versions of the bus and the realtime library, written blind, the tests catch.

``benchmarks/library_variants.toml`` holds one-mistake versions of the library, each
written from the docs against a quoted sentence by someone who never read ``tests/``.
For each, this copies ``src/`` to a temporary folder, makes the variant's edits there,
and runs the variant's test folders (``tests`` in the file; by default ``tests/bus``,
``tests/realtime`` and ``tests/serve``) against the copy. A variant is caught when a
test fails. The unmodified copy runs first and must pass, or nothing is measured.

    python benchmarks/library_variants.py              # every variant
    python benchmarks/library_variants.py 02 rooms     # those whose name has 02 or rooms
    python benchmarks/library_variants.py --missed     # print only the missed ones

Exit code 1 when a variant is missed; 2 when none is named so, or one no longer
applies. Slow on purpose (a test run per variant, about half a minute each): a
benchmark, not a test; ``tests/test_library_variants.py`` only keeps the list
applicable to the code.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
VARIANTS = Path(__file__).with_suffix(".toml")
DEFAULT_TESTS = ("tests/bus", "tests/realtime", "tests/serve")
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


@dataclass(frozen=True)
class Variant:
    name: str
    breaks: str
    edits: tuple[tuple[str, str, str], ...]  # (file, old, new)
    tests: tuple[str, ...]


def load(path: Path = VARIANTS) -> list[Variant]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Variant(v["name"], v["breaks"],
                    tuple((e["file"], e["old"], e["new"]) for e in v["edit"]),
                    tuple(v.get("tests", DEFAULT_TESTS)))
            for v in data["variant"]]


def apply(variant: Variant, root: Path) -> None:
    """Make ``variant``'s edits under ``root`` (a copy holding ``src/``)."""
    for file, old, new in variant.edits:
        path = root / file
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            raise ValueError(f"{variant.name}: its text to replace occurs "
                             f"{text.count(old)} times in {file}, not once")
        path.write_text(text.replace(old, new), encoding="utf-8")


def run_tests(src: Path, tests: tuple[str, ...]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    where = subprocess.run([sys.executable, "-c", "import day25; print(day25.__file__)"],
                           env=env, capture_output=True, text=True, check=True).stdout
    if not where.startswith(str(src)):
        raise RuntimeError(f"the copy is not the day25 imported ({where.strip()})")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           *tests], cwd=COURSE, env=env, capture_output=True, text=True,
                          timeout=1800)
    return done.returncode, done.stdout + done.stderr


def measure(variant: Variant | None, tests: tuple[str, ...]) -> tuple[bool, str]:
    """(whether a test failed, the first that did) for ``variant`` (None: unmodified)."""
    with tempfile.TemporaryDirectory(prefix="day25-variant-") as tmp:
        shutil.copytree(COURSE / "src", Path(tmp) / "src",
                        ignore=shutil.ignore_patterns("__pycache__"))
        if variant is not None:
            apply(variant, Path(tmp))
        code, output = run_tests(Path(tmp) / "src", tests)
    if code not in (0, 1):
        raise RuntimeError(f"pytest could not run (exit {code}):\n{output[-2000:]}")
    first = FAILED.search(output)
    return code == 1, first.group(1) if first else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run the variants whose name holds one")
    parser.add_argument("--missed", action="store_true", help="print only missed variants")
    args = parser.parse_args(argv)
    variants = [v for v in load() if not args.only or any(o in v.name for o in args.only)]
    if not variants:
        print(f"no variant's name holds {' or '.join(args.only)}: the names are in "
              f"{VARIANTS.name}")
        return 2
    for tests in sorted({v.tests for v in variants}):
        failed, first = measure(None, tests)
        if failed:
            print(f"the unmodified library fails {' '.join(tests)} ({first}): fix that first")
            return 2
    missed: list[Variant] = []
    started = time.monotonic()
    for variant in variants:
        try:
            caught, first = measure(variant, variant.tests)
        except ValueError as exc:  # the library moved on: the variant must be written again
            print(f"{exc}: write it again against the code as it is")
            return 2
        if not caught:
            missed.append(variant)
        if not caught or not args.missed:
            print(f"{'caught' if caught else 'MISSED'}  {variant.name}  {first}", flush=True)
    print(f"\n{len(variants) - len(missed)} of {len(variants)} variants caught "
          f"({time.monotonic() - started:.0f} s)")
    for variant in missed:
        print(f"  missed {variant.name}: breaks {variant.breaks}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
