"""Lesson notebooks: they run, they ask for code, and the student's copy fails only at its checks.

Each notebook is executed twice with nbclient, each time in a fresh ``python3``
kernel whose working directory is ``notebooks/``:

* **answered** (the stored notebook, answers included): any cell error, or a cell
  slower than ``CELL_TIMEOUT`` (conftest.py), fails the test;
* **stripped** (the student's copy, made by ``strip_answers``): every cell runs even
  after an error, and each ``check`` cell must fail with an ``AssertionError`` that
  says something, while no other cell may fail. A student who has not written an
  answer yet gets its check's message, and nothing else breaks.

The execution times are reported at the end of the module.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tests.cells import python_of

import day25
from day25.course.answers import BEGIN, PLACEHOLDER, count_answers, strip_answers

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
CHECK = "check"
# The exercises, one name each (exercises/catalogue.toml): "Exercise 3: chat_broadcasting".
EXERCISES = {1: "priority_ordering", 2: "once_semantics", 3: "chat_broadcasting",
             4: "notification_queueing"}
# Course tooling and old exercise names have no place in what students read.
FORBIDDEN = ["tests/", "grader", "DAY25_SUBMISSION", "TERM=dumb", "day25.course",
             "practice exercise 1", "practice exercise 2", "project 1", "project 2"]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _is_check(cell: nbformat.NotebookNode) -> bool:
    return CHECK in cell.metadata.get("tags", [])


def _markdown(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


# ----------------------------------------------------------------- execution
# ``lesson_runs`` (conftest.py) executes every notebook once per session, answered and
# stripped; the site build (``build``, conftest.py) shows the answered runs.


@pytest.fixture(scope="module")
def runs(lesson_runs: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    return lesson_runs


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_top_to_bottom(path: Path, runs: dict[tuple[str, str], Any]) -> None:
    run = runs[path.stem, "answered"]
    if run.error is not None:
        pytest.fail(f"{path.name} failed:\n{run.error}", pytrace=False)
    outputs = [o for c in _code_cells(run.nb) for o in c.get("outputs", [])]
    assert outputs, f"{path.name} ran but showed nothing"


def stripped_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with an executed student's copy: a check that did not fail with a
    readable ``AssertionError``, or any other cell that failed."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        where = f"cell {index} ({cell.get('id')})"
        if _is_check(cell):
            if [e.ename for e in errors] != ["AssertionError"]:
                found = "; ".join(f"{e.ename}: {e.evalue}" for e in errors)
                how = f"it raised {found}" if errors else "it passed (an answer left in?)"
                problems.append(f"{where}: a check must fail with an AssertionError, but {how}")
            elif len(errors[0].evalue.strip()) < 15:
                problems.append(f"{where}: the check fails without saying what is wrong")
        elif errors:
            error = f"{errors[0].ename}: {errors[0].evalue}"
            problems.append(f"{where} is not a check but failed: {error}")
    return problems


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stripped_notebook_fails_exactly_at_its_checks(
    path: Path, runs: dict[tuple[str, str], Any]
) -> None:
    run = runs[path.stem, "stripped"]
    if run.error is not None:  # a timeout: errors are otherwise collected, not raised
        pytest.fail(f"the stripped {path.name} did not finish:\n{run.error}", pytrace=False)
    assert all(BEGIN not in c.source for c in run.nb.cells), "an answer is left in"
    problems = stripped_problems(run.nb)
    assert not problems, f"the stripped {path.name}:\n" + "\n".join(problems)


def test_the_stripped_check_catches_a_check_that_passes_and_a_crash() -> None:
    """The rule above, on hand-made executed notebooks: it must be able to fail."""

    def executed(check_error: str | None, other_error: str | None) -> nbformat.NotebookNode:
        def cell(tags: list[str], ename: str | None) -> nbformat.NotebookNode:
            code = nbformat.v4.new_code_cell("x")
            code.metadata["tags"] = tags
            if ename:
                code.outputs = [nbformat.v4.new_output(
                    "error", ename=ename, evalue="greeted is [], expected ['Alice']", traceback=[])]
            return code

        nb = nbformat.v4.new_notebook()
        nb.cells = [cell([], other_error), cell([CHECK], check_error)]
        return nb

    assert stripped_problems(executed("AssertionError", None)) == []
    assert "it passed" in stripped_problems(executed(None, None))[0]  # an answer left in
    assert "NameError" in stripped_problems(executed("NameError", None))[0]
    assert "not a check" in stripped_problems(executed("AssertionError", "TypeError"))[0]


# ----------------------------------------------------------------- the exercises


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_lesson_asks_for_code_and_checks_it(path: Path) -> None:
    """At least two write-then-check pairs: an answer cell, then (as the next code
    cell) a ``check`` cell; no answer without its check, no check without an answer."""
    cells = _code_cells(_read(path))
    pairs = 0
    for before, after in itertools.pairwise(cells):
        answers = count_answers(before.source)  # also fails on markers that do not pair up
        if answers:
            assert _is_check(after), f"{path.name} cell {before.id}: an answer without its check"
            pairs += 1
        if _is_check(after):
            assert answers, f"{path.name} cell {after.id}: a check without an answer before it"
    assert not _is_check(cells[0]), f"{path.name}: the first code cell is a check"
    assert pairs >= 2, f"{path.name} asks for code {pairs} time(s); a lesson asks at least twice"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_student_copy_keeps_a_placeholder_for_every_answer(path: Path) -> None:
    nb = _read(path)
    student = strip_answers(nb)
    for source, stripped in zip(_code_cells(nb), _code_cells(student), strict=True):
        blocks = count_answers(source.source)
        assert stripped.source.count(PLACEHOLDER) == blocks
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST  # notebooks await at top level
        compile(python_of(stripped.source), f"{path.name}:{source.id}", "exec", flags=flags)


# ----------------------------------------------------------------- structure


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lesson_has_objectives_time_recap_and_common_mistakes(path: Path) -> None:
    texts = _markdown(_read(path))
    top = texts[0]
    assert top.startswith("# Day 25 · "), f"{path.name}: the first cell is the title"
    assert re.search(r"\*\*Time:\*\* about \d+ minutes", top), f"{path.name}: no time estimate"
    assert "you will**" in top and "\n* " in top, f"{path.name}: no objectives list at the top"
    end = "\n".join(texts[-2:])
    assert "## Recap" in end, f"{path.name}: no recap at the end"
    assert "> **Common mistakes" in end, f"{path.name}: no common-mistakes box at the end"


def test_the_reality_check_is_an_optional_appendix_after_the_lessons() -> None:
    assert len(NOTEBOOKS) >= 10, NOTEBOOKS
    assert all(p.stem[:2].isdigit() for p in NOTEBOOKS), "notebooks are numbered"
    last = NOTEBOOKS[-1]
    assert "appendix_reality_check" in last.stem, "the reality check comes last, as an appendix"
    assert "Appendix (optional)" in _markdown(_read(last))[0]


def test_the_three_classic_mistakes_are_taught() -> None:
    boxes = {p.stem: _markdown(_read(p))[-1] for p in NOTEBOOKS}
    classics = {
        "forgotten await": r"forgotten `await`",
        "except Exception swallowing a disconnect": r"`except Exception` swallowing a disconnect",
        "registering inside a loop": r"Registering inside a loop",
    }
    for name, pattern in classics.items():
        where = [stem for stem, box in boxes.items() if re.search(pattern, box, re.I)]
        assert len(where) >= 2, f"'{name}' is in the common-mistakes box of only {where}"
    best = next(box for stem, box in boxes.items() if "best_practices" in stem)
    assert all(re.search(p, best, re.I) for p in classics.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_course_tooling_or_old_names_in_student_text(path: Path) -> None:
    for cell in _read(path).cells:
        for word in FORBIDDEN:
            assert word.lower() not in cell.source.lower(), f"{path.name} cell {cell.id}: {word!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_each_exercise_has_one_name(path: Path) -> None:
    text = "\n".join(c.source for c in _read(path).cells)
    for match in re.finditer(r"Exercise[\s>]+(\d)(?::[\s>]*(\w+))?", text):
        number, name = int(match[1]), match[2]
        assert name == EXERCISES.get(number), (
            f"{path.name}: {match[0]!r}; write 'Exercise {number}: {EXERCISES.get(number)}'"
        )


# ----------------------------------------------------------------- storage, imports


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_valid_and_without_outputs(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)  # raises ValidationError with the reason
    assert nb.nbformat == 4 and nb.nbformat_minor >= 5, "cell ids need nbformat 4.5"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        assert cell.get("id"), f"a cell without an id in {path.name}"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {cell.id} is stored with outputs"
            assert cell.execution_count is None, f"{path.name} cell {cell.id} has a count"


def _imports_of(source: str) -> list[str]:
    """Modules imported by a code cell, ignoring IPython ``!`` and ``%`` lines."""
    names: list[str] = []
    for node in ast.walk(ast.parse(python_of(source))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            if node.module == "day25":
                names.extend(f"day25:{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lessons_import_only_the_public_day25_api(path: Path) -> None:
    for cell in _code_cells(_read(path)):
        for name in _imports_of(cell.source):
            assert not name.startswith("day25."), f"{path.name} imports {name}: use `day25`"
            if name.startswith("day25:"):
                assert name[6:] in day25.__all__, f"{path.name} imports non-public {name[6:]}"


def test_the_import_check_catches_private_imports() -> None:
    found = _imports_of("from day25.bus import _Listener\nimport day25.trace\n%time x = 1\n")
    assert found == ["day25.bus", "day25.trace"]
    assert _imports_of("from day25 import _secret") == ["day25", "day25:_secret"]


SHOWN_ONLY_LAST = {"table", "timeline"}  # what a recorder returns to be shown


def _dropped_displays(source: str) -> list[str]:
    """Calls in ``source`` that build a table or timeline where Jupyter shows nothing:
    a bare expression is shown only when it is the cell's last statement."""
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    body = compile(python_of(source), "<cell>", "exec", flags=flags).body
    return [ast.unparse(node) for node in body[:-1]
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr in SHOWN_ONLY_LAST]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_table_is_built_where_jupyter_does_not_show_it(path: Path) -> None:
    dropped = [(cell.id, call) for cell in _code_cells(_read(path))
               for call in _dropped_displays(cell.source)]
    assert not dropped, f"{path.name}: wrap these in display(...): {dropped}"


def test_a_table_before_the_last_line_is_found() -> None:
    assert _dropped_displays("rec.table()\nx = 1\nrec.table()\n") == ["rec.table()"]
    assert _dropped_displays("display(rec.table())\nprint(rec.timeline())\n") == []
