"""The package's shape holds: light import, import contracts, small modules, true docs.

Each check here guards a promise of ``docs/dev/contracts.md``: ``import day25``
costs the bus only; the import rules in ``pyproject.toml`` (import-linter) hold
and there is no cycle; no module grows past 400 lines (tests and benchmarks
included); nothing in ``src/`` names an exercise (the catalogue does); and the
contracts page names only modules and functions that exist, with one diagram of
the grading data flow.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from day25.course.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "day25"
CONTRACTS = ROOT / "docs" / "dev" / "contracts.md"
HEAVY = ("uvicorn", "nexios", "day25.realtime", "day25.trace", "day25.course", "day25.serve")


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_import_day25_loads_the_bus_only() -> None:
    probe = _fresh(f"import json, sys, day25; print(json.dumps([m for m in {HEAVY!r} "
                   "if m in sys.modules]))")
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == [], "imported by `import day25` alone"


def test_a_hint_and_a_check_do_not_load_the_notebook_machinery(tmp_path: Path) -> None:
    """``day25 hint`` and ``day25 check`` answer a student at once: nbformat (and the
    jsonschema format checks it pulls in, slow to import) loads only where a notebook is
    read or written, never on their way."""
    for name in ("priority_ordering.py",):
        (tmp_path / name).write_bytes((ROOT / "exercises" / name).read_bytes())
    probe = _fresh(
        "import sys\n"
        "from day25.cli import main\n"
        f"sys.argv = ['day25', 'hint', 'priority_ordering', '--path', {str(tmp_path)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "from day25.course.student import check, workspace  # what `day25 check` imports\n"
        "print(sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules))\n")
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert "hint 1/" in probe.stdout
    assert probe.stdout.strip().splitlines()[-1] == "[]"


def test_the_lazy_names_still_import_from_day25() -> None:
    probe = _fresh(
        "import sys, day25\n"
        "from day25 import Recorder, Rooms\n"
        "import day25 as d\n"
        "assert Rooms is d.Rooms and Rooms.__module__.startswith('day25.realtime')\n"
        "assert 'uvicorn' in sys.modules, 'the real-time pieces load on first use'\n"
        "assert {'Rooms', 'BackgroundServer', 'Recorder'} <= set(dir(day25))\n"
        "assert set(day25.__all__) <= set(dir(day25))\n"
        "try:\n"
        "    day25.NoSuchThing\n"
        "except AttributeError as exc:\n"
        "    assert 'NoSuchThing' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('a missing name must raise AttributeError')\n"
    )
    assert probe.returncode == 0, probe.stderr


def test_the_import_contracts_hold() -> None:
    """import-linter, configured in pyproject.toml: layers, forbidden imports, no cycles."""
    run = _fresh("import sys\nfrom importlinter.cli import lint_imports\n"
                 "sys.exit(lint_imports(no_cache=True, no_logo=True))")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " BROKEN" not in run.stdout and "KEPT" in run.stdout


#: Python files kept as they were written, not ours to split: Nexios' own event suite
#: (vendored) and the blind variants (whole programs by other writers, and fragments)
AS_WRITTEN = ("tests/nexios_suite", "tests/mutants", "tests/alternatives",
              "tests/grading/forgeries")


def test_no_module_is_over_400_lines() -> None:
    """The package, its tests (the hidden suites too) and the benchmarks."""
    files = [p for top in ("src", "tests", "benchmarks") for p in (ROOT / top).rglob("*.py")
             if not p.relative_to(ROOT).as_posix().startswith(AS_WRITTEN)]
    assert len(files) > 200, len(files)
    long = {p.relative_to(ROOT).as_posix(): n for p in files
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"split these by concept: {long}"


def test_nothing_in_src_names_an_exercise() -> None:
    """Ids and module names come from exercises/catalogue.toml, not from the code."""
    catalogue = load_catalogue(ROOT)
    names = {ex.id for ex in catalogue.exercises} | {ex.module_name for ex in catalogue.exercises}
    found = [f"{p.relative_to(SRC)}: {name}" for p in SRC.rglob("*.py")
             for name in sorted(names) if name in p.read_text(encoding="utf-8")]
    assert not found, found


def _mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```", text, flags=re.S | re.M)


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("page", [CONTRACTS, CONTRACTS.with_name("adding-an-exercise.md")],
                         ids=lambda page: page.name)
def test_the_developers_pages_name_only_what_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    names = set(re.findall(r"\bday25(?:\.[A-Za-z_]\w*)+", text))
    assert names, "the page names the modules it describes"
    missing = sorted(name for name in names if not _resolves(name))
    assert not missing, f"docs/dev/{page.name} names what does not exist: {missing}"


def test_the_data_flow_diagram_matches_the_code() -> None:
    [diagram] = _mermaid_blocks(CONTRACTS.read_text(encoding="utf-8"))
    steps = set(re.findall(r"\b(?:grading|harness|sandbox|inside|student)(?:\.\w+)+", diagram))
    assert {"grading.batch.grade_class", "grading.verdict.run_suites",
            "grading.gradebook.write_gradebook"} <= steps
    missing = sorted(step for step in steps if not _resolves(f"day25.course.{step}"))
    assert not missing, f"the diagram names what does not exist: {missing}"
    entry_points = re.findall(r"python -m ([\w.]+)", diagram)
    assert entry_points, "the diagram names the processes it draws"
    for module in entry_points:
        assert importlib.util.find_spec(module) is not None, module
    wires = sorted(set(re.findall(r"wire (\d)", diagram)))
    assert wires == ["1", "2", "3", "4", "5"], "every wire of day25.course.protocol is drawn"
