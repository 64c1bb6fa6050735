"""The suites can be trusted: solutions and alternatives score 100 %, stubs 0, mutants less.

Each variant of the hidden suites is a student of one ``day25 grade`` batch,
graded exactly as an instructor grades a class: the suite the catalogue names,
in the sandbox, the module at the exercise's name. Each public case is a
``python -m pytest`` run of the public suite, as a student runs it. Every
exercise in the catalogue that ships a solution is held to the same bar.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from day25.course.catalogue import Exercise, load_catalogue
from day25.course.grading.mutants import Mutant, load_mutants

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    exercise: Exercise
    suite: str  # "hidden" or "public"
    kind: str  # "solution", "alternative", "stub" or "mutant"
    variant: Path  # for a mutant: the solution it mutates
    mutant: Mutant | None = None

    @property
    def id(self) -> str:
        name = self.mutant.name if self.mutant else self.kind
        return f"{self.suite}-{self.exercise.id}-{name}"

    @property
    def tests(self) -> str:
        return self.exercise.tests("public" if self.suite == "public" else "hidden")

    def write(self, into: Path) -> None:
        if self.mutant:
            self.mutant.write(self.variant, into)
        else:
            shutil.copy(self.variant, into / self.exercise.module)


def _cases() -> list[Case]:
    cases = []
    for ex in load_catalogue(ROOT).exercises:
        solution = ROOT / "solutions" / ex.module
        if not solution.is_file() or not ex.suite_files(ROOT, "hidden"):
            continue
        hidden = [Case(ex, "hidden", "solution", solution)]
        alternative = ROOT / "tests" / "alternatives" / ex.module
        if alternative.is_file():
            hidden.append(Case(ex, "hidden", "alternative", alternative))
        stub = ROOT / "exercises" / ex.module
        if stub.is_file():
            hidden.append(Case(ex, "hidden", "stub", stub))
        hidden += [Case(ex, "hidden", "mutant", solution, m) for m in load_mutants(ROOT, ex.id)]
        cases += hidden
        if (ROOT / ex.public_tests).is_file():
            cases.append(Case(ex, "public", "solution", solution))
            if stub.is_file():
                cases.append(Case(ex, "public", "stub", stub))
    return cases


CASES = _cases()


Graded = tuple[list[dict[str, object]], str]
HIDDEN = [c for c in CASES if c.suite == "hidden"]


def _grade_public(case: Case) -> Graded:
    """A public case: ``python -m pytest`` of the public suite, as a student runs it."""
    with tempfile.TemporaryDirectory(prefix="d25-valid-") as tmp:
        submission = Path(tmp) / "submission"
        submission.mkdir()
        case.write(submission)
        out = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "pytest", case.tests,
               "--submission", str(submission), "--verdict-json", str(out),
               "-p", "no:cacheprovider", "-q"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
        log = (proc.stdout + proc.stderr)[-4000:]
        if proc.returncode not in (0, 1) or not out.is_file():
            return [], f"pytest exited {proc.returncode} without results\n{log}"
        return json.loads(out.read_text()), log


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Graded]:
    """Every hidden case graded in one ``day25 grade`` batch, each case a student,
    exactly as an instructor grades a class (sandbox, warm servers and all)."""
    work = tmp_path_factory.mktemp("validity")
    for case in HIDDEN:
        folder = work / "class" / case.id
        folder.mkdir(parents=True)
        case.write(folder)
    day25 = Path(sys.executable).with_name("day25")
    proc = subprocess.run([str(day25), "grade", str(work / "class"), "--out", str(work / "out"),
                           "--jobs", "2", "--course", str(ROOT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1500,
                          env={**os.environ, "COLUMNS": "200"})
    log = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, log
    graded: dict[str, Graded] = {}
    for case in HIDDEN:
        report = json.loads((work / "out" / case.id / "results.json").read_text())
        rows: list[dict[str, object]] = [
            {"name": t["name"].partition(": ")[2], "outcome": t["status"],
             "points": t["score"], "max_points": t["max_score"], "message": t["output"]}
            for t in report["tests"]
            if case.exercise.id in t.get("tags", []) and ": test_" in t["name"]
        ]
        graded[case.id] = rows, (work / "out" / case.id / "feedback.md").read_text()[-4000:]
    return graded


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.id, marks=[pytest.mark.xdist_group("validity")] if c.suite == "hidden"
                 else []) for c in CASES])
def test_variant_scores_as_it_should(case: Case, request: pytest.FixtureRequest) -> None:
    if case.suite == "hidden":
        rows, log = request.getfixturevalue("batch")[case.id]
    else:
        rows, log = _grade_public(case)
    assert rows, f"{case.id}: no test ran\n{log}"
    earned = sum(float(r["points"]) for r in rows)  # type: ignore[arg-type]
    full = case.exercise.points
    if case.suite == "hidden":
        total = sum(float(r["max_points"]) for r in rows)  # type: ignore[arg-type]
        assert round(total, 2) == full, (  # each test's points are shown in hundredths
            f"{case.exercise.id}: the hidden suite is worth {total}, not {full}")
        assert len(rows) >= 10, f"{case.exercise.id}: only {len(rows)} graded tests"
    failed = [f"{r['name']}: {str(r['message'])[:300]}" for r in rows if r["outcome"] != "passed"]
    passed = [r["name"] for r in rows if r["outcome"] == "passed"]
    if case.kind in ("solution", "alternative"):
        assert not failed, f"{case.id} should pass everything; failed:\n" + "\n".join(failed)
    elif case.kind == "stub":
        assert not passed, f"{case.id}: the stub as shipped passes {passed}"
        assert earned == 0
    else:
        assert earned < full, f"{case.id}: this mutant scores {earned}/{full}; no test catches it"


def test_exercises_and_solutions_mirror_each_other() -> None:
    """File for file, the ladder's steps (``steps/``) included."""
    stubs = {p.relative_to(ROOT / "exercises").as_posix() for p in
             (ROOT / "exercises").rglob("*.py")}
    solutions = {p.relative_to(ROOT / "solutions").as_posix() for p in
                 (ROOT / "solutions").rglob("*.py")}
    assert stubs == solutions, f"only in exercises/: {stubs - solutions}; " \
                               f"only in solutions/: {solutions - stubs}"


def _statements(source: str) -> set[str]:
    """A module's simple statements of 12 characters or more, without their spaces."""
    compound = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
                ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Import,
                ast.ImportFrom)
    found = {re.sub(r"\s+", "", ast.unparse(node)) for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.stmt) and not isinstance(node, compound)}
    return {statement for statement in found if len(statement) >= 12}


def test_no_graded_exercise_has_its_answer_in_its_hints() -> None:
    """The catalogue's rule: hints end with the shape of the code, never the whole answer.
    Students can read every hint in catalogue.toml at once, so a hint that spells out the
    solution's statements is the answer. Before: once_semantics' last hint held 4 of its
    solution's 8 statements (the decorator form, off, on, return) and its control flow."""
    for exercise in load_catalogue(ROOT).exercises:
        solution = _statements((ROOT / "solutions" / exercise.module).read_text("utf-8"))
        hints = re.sub(r"\s+", "", " ".join(exercise.hints))
        spelled = sorted(statement for statement in solution if statement in hints)
        assert len(spelled) <= 1, f"{exercise.id}'s hints spell out {spelled}"


def test_every_catalogue_entry_has_its_module_and_tests() -> None:
    """What a graded exercise is made of (docs/dev/adding-an-exercise.md). Its points are
    its own: each suite is held to its exercise's points, not to a course-wide number."""
    catalogue = load_catalogue(ROOT)
    for exercise in catalogue.exercises:
        assert exercise.points > 0, exercise.id
        assert 2 <= len(exercise.hints) <= 4, exercise.id
        assert (ROOT / "exercises" / exercise.module).is_file(), exercise.module
        assert (ROOT / "solutions" / exercise.module).is_file(), exercise.module
        assert (ROOT / exercise.public_tests).is_file(), exercise.public_tests
        assert (ROOT / exercise.hidden_tests).is_dir(), exercise.hidden_tests
        assert list((ROOT / exercise.hidden_tests).glob("test_*.py")), exercise.hidden_tests


# -- every kind of graded check has a public check -------------------------------------
def _categories(path: Path) -> dict[str, list[str]]:
    """Test function name -> the names given to ``@pytest.mark.category(...)`` on it, in
    a test file or in every test module of a suite's folder (no name in two of them)."""
    files = sorted(path.glob("test_*.py")) if path.is_dir() else [path]
    assert files, f"no test modules in {path}"
    found: dict[str, list[str]] = {}
    for node in (n for f in files for n in ast.parse(f.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                node.name.startswith("test_"):
            assert node.name not in found, f"{path}: two tests named {node.name}"
            found[node.name] = [
                d.args[0].value for d in node.decorator_list
                if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr == "category" and d.args
                and isinstance(d.args[0], ast.Constant) and isinstance(d.args[0].value, str)
            ]
    return found


def _docs_table(exercise: Exercise) -> dict[str, list[str]]:
    """The docs page's "kind of check" table: category -> its public tests' names."""
    page = (ROOT / "docs" / "exercises" / f"{exercise.id}.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \|.*\| (`test_\w+`(?:, `test_\w+`)*) \|$", page,
                      flags=re.MULTILINE)
    return {category: re.findall(r"test_\w+", tests) for category, tests in rows}


@pytest.mark.parametrize("exercise", load_catalogue(ROOT).exercises, ids=lambda e: e.id)
def test_every_graded_category_has_a_public_test(exercise: Exercise) -> None:
    hidden = _categories(ROOT / exercise.hidden_tests)
    public = _categories(ROOT / exercise.public_tests)
    unmarked = [name for name, cats in {**hidden, **public}.items() if len(cats) != 1]
    assert not unmarked, f"{exercise.id}: tests without exactly one category: {unmarked}"
    graded = {cats[0] for cats in hidden.values()}
    shown = {cats[0]: name for name, cats in public.items()}
    missing = sorted(graded - set(shown))
    assert not missing, f"{exercise.id}: graded categories with no public test: {missing}"
    extra = sorted(set(shown) - graded)
    assert not extra, f"{exercise.id}: public categories that nothing graded checks: {extra}"
    table = _docs_table(exercise)
    assert set(table) == graded, (
        f"docs/exercises/{exercise.id}.md lists the categories {sorted(table)}, the suites "
        f"{sorted(graded)}"
    )
    for category, tests in table.items():
        listed = sorted(name for name, cats in public.items() if cats == [category])
        assert sorted(tests) == listed, (
            f"docs/exercises/{exercise.id}.md lists {tests} for {category!r}; its public "
            f"tests are {listed}"
        )
