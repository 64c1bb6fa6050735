"""The student's copy of a lesson: answers out, placeholders in, everything else kept."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import nbformat
import pytest

from day25.course.answers import (
    PLACEHOLDER,
    AnswerMarkerError,
    count_answers,
    has_answer,
    strip_answers,
    strip_notebook,
    strip_source,
)

IN_A_FUNCTION = textwrap.dedent(
    """\
    greeted = []

    def first_login(user):
        \"\"\"Greet the user.\"\"\"
        ### BEGIN SOLUTION
        greeted.append(user)
        app.events.off("login", first_login)
        ### END SOLUTION
        return None
    """
)


def test_a_block_becomes_the_placeholder_at_its_indentation() -> None:
    stripped = strip_source(IN_A_FUNCTION)
    assert stripped == textwrap.dedent(
        """\
        greeted = []

        def first_login(user):
            \"\"\"Greet the user.\"\"\"
            # YOUR CODE HERE
            ...
            return None
        """
    )
    ast.parse(stripped)  # still Python


def test_top_level_blocks_and_several_blocks_per_cell() -> None:
    source = (
        "x = 1\n### BEGIN SOLUTION\nanswer = [1, 2]\n### END SOLUTION\n"
        "for i in range(2):\n    ### BEGIN SOLUTION\n    print(i)\n    ### END SOLUTION\n"
    )
    assert count_answers(source) == 2
    stripped = strip_source(source)
    assert stripped == (
        f"x = 1\n{PLACEHOLDER}\n...\nfor i in range(2):\n    {PLACEHOLDER}\n    ...\n"
    )
    assert "answer = " not in stripped and "print(i)" not in stripped
    ast.parse(stripped)


def test_a_body_that_was_only_the_answer_still_compiles() -> None:
    source = "async def f():\n    ### BEGIN SOLUTION\n    await g()\n    ### END SOLUTION\n"
    compiled = compile(strip_source(source), "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    assert compiled is not None


def test_source_without_markers_is_unchanged() -> None:
    source = "print('### not a marker')\n# BEGIN SOLUTION\n"
    assert not has_answer(source) and count_answers(source) == 0
    assert strip_source(source) == source
    assert strip_source("x = 1") == "x = 1"  # no trailing newline added


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("### BEGIN SOLUTION\nx = 1\n", "line 1: ### BEGIN SOLUTION is never closed"),
        ("x = 1\n### END SOLUTION\n", "line 2: ### END SOLUTION without a ### BEGIN SOLUTION"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
            "line 2: ### BEGIN SOLUTION inside the block opened on line 1",
        ),
    ],
)
def test_markers_that_do_not_pair_up_are_an_error(source: str, says: str) -> None:
    with pytest.raises(AnswerMarkerError, match=says):
        strip_source(source)
    with pytest.raises(AnswerMarkerError):
        count_answers(source)


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    answer = nbformat.v4.new_code_cell(IN_A_FUNCTION, id="answer")
    answer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    answer.execution_count = 3
    check = nbformat.v4.new_code_cell("assert greeted == ['Alice'], greeted", id="check")
    check.metadata["tags"] = ["check"]
    text = nbformat.v4.new_markdown_cell(
        "Prose that shows the markers:\n### BEGIN SOLUTION\nkept\n### END SOLUTION\n", id="text"
    )
    nb.cells = [text, answer, check]
    return nb


def test_strip_answers_copies_and_leaves_the_source_notebook_alone() -> None:
    nb = _notebook()
    before = nbformat.writes(nb)
    student = strip_answers(nb)
    assert nbformat.writes(nb) == before
    answer = student.cells[1].source
    assert PLACEHOLDER in answer and "greeted.append" not in answer
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert student.cells[0].source == nb.cells[0].source  # markdown is not touched
    assert student.cells[2] == nb.cells[2]  # the check, with its tag, is kept as it is
    assert [c.id for c in student.cells] == ["text", "answer", "check"]


def test_strip_answers_names_the_cell_with_broken_markers() -> None:
    nb = _notebook()
    nb.cells[1].source = "### BEGIN SOLUTION\nx = 1\n"
    with pytest.raises(AnswerMarkerError, match="cell answer: line 1"):
        strip_answers(nb)


def test_strip_notebook_writes_a_valid_notebook_and_counts(tmp_path: Path) -> None:
    src = tmp_path / "lesson.ipynb"
    nbformat.write(_notebook(), src)
    dst = tmp_path / "student" / "lesson.ipynb"
    assert strip_notebook(src, dst) == 1
    written = nbformat.read(dst, as_version=nbformat.NO_CONVERT)
    nbformat.validate(written)
    assert "greeted.append" not in dst.read_text() and "greeted.append" in src.read_text()
    assert strip_notebook(dst, dst) == 0  # stripping twice changes nothing
    assert nbformat.read(dst, as_version=nbformat.NO_CONVERT) == written


def test_strip_notebook_in_place(tmp_path: Path) -> None:
    src = tmp_path / "lesson.ipynb"
    nbformat.write(_notebook(), src)
    assert strip_notebook(src, src) == 1
    assert "greeted.append" not in src.read_text()
