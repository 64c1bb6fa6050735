"""The kept answers to the lessons' answer cells are well formed, and the walk judges them.

``test_rerun.py`` runs every kept answer (``mistakes/<lesson>.toml``) in its lesson:
each wrong one must fail its check with a message, each right one must pass. Here:
every answer cell has wrong answers kept for it, each names a real answer cell and
quotes the lesson's own text, its blocks go in at the right indentation, and the walk
reports a check that lets a wrong answer through.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from tests.quoting import quotes

from day25.course.answers import BEGIN, END, count_answers

from .lesson_mistakes import FOLDER, KeptAnswer, answer_with, load_kept_answers
from .test_rerun import NOTEBOOKS, _walk

MIN_MISTAKES = 2  # per answer cell


def _answer_cells(path: Path) -> dict[str, nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    return {c.get("id"): c for c in nb.cells
            if c.cell_type == "code" and BEGIN in c.source}


def test_every_file_is_named_after_a_lesson() -> None:
    stems = {p.stem for p in NOTEBOOKS}
    files = sorted(FOLDER.glob("*.toml"))
    assert files and {f.stem for f in files} <= stems, [f.name for f in files]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_answer_cell_has_wrong_answers_kept_that_quote_the_lesson(path: Path) -> None:
    cells = _answer_cells(path)
    kept = load_kept_answers(path.stem)
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    text = "\n".join(c.source for c in nb.cells)
    problems = [f"{k.label}: no answer cell {k.cell!r}" for k in kept if k.cell not in cells]
    problems += [f"{k.label}: {len(k.blocks)} block(s) for a cell with "
                 f"{count_answers(cells[k.cell].source)}" for k in kept
                 if k.cell in cells and len(k.blocks) != count_answers(cells[k.cell].source)]
    problems += [f"{k.label}: the quote is not the lesson's text: {k.quote!r}"
                 for k in kept if not quotes(k.quote, text)]
    twice = Counter((k.cell, k.name) for k in kept)
    problems += [f"{name!r} twice for cell {cell}" for (cell, name), n in twice.items() if n > 1]
    mistakes = Counter(k.cell for k in kept if k.kind == "mistake")
    problems += [f"answer cell {cell}: {mistakes[cell]} wrong answer(s) kept, expected at "
                 f"least {MIN_MISTAKES}" for cell in cells if mistakes[cell] < MIN_MISTAKES]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_blocks_go_in_at_the_indentation_of_each_marker() -> None:
    cell = (f"def f(x):\n    {BEGIN}\n    return x\n    {END}\n\n"
            f"for i in []:\n        {BEGIN}\n        pass\n        {END}\n")
    assert answer_with(cell, ("y = x + 1\nreturn y", "print(i)\n")) == (
        "def f(x):\n    y = x + 1\n    return y\n\nfor i in []:\n        print(i)\n")
    with pytest.raises(AssertionError, match="2 answer block"):
        answer_with(cell, ("return 1",))


def test_the_walk_names_a_check_that_lets_a_wrong_answer_through(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell(f"{BEGIN}\nx = 2\n{END}\n")
    check = nbformat.v4.new_code_cell('assert x > 0, f"x is {x}: make it positive"')
    check.metadata["tags"] = ["check"]
    nb.cells = [nbformat.v4.new_code_cell("x = None"), answer, check]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)

    def kept(kind: str, name: str, code: str, says: str = "") -> KeptAnswer:
        return KeptAnswer(kind, answer.id, name, "make it two", (code,), says)

    walk = asyncio.run(_walk(path, asyncio.Semaphore(1), [
        kept("mistake", "one, not two", "x = 1"),  # positive: the weak check passes it
        kept("mistake", "minus two", "x = -2", says="make it positive"),
        kept("mistake", "minus three", "x = -3", says="make it two"),  # not what it says
        kept("alternative", "one plus one", "x = 1 + 1"),
        kept("alternative", "zero", "x = 0"),  # the check fails a right answer
    ]))
    assert (walk.mistakes, walk.missed) == (3, 1), walk
    problems = "\n".join(walk.failed_checks[2])
    assert "mistake 'one, not two': the check passed" in problems, problems
    assert "alternative 'zero': cell 2" in problems and "AssertionError: x is 0" in problems
    assert "mistake 'minus three': the check said" in problems, problems
    assert "minus two" not in problems and "one plus one" not in problems, problems
