"""The student's copy of a lesson notebook: every written answer taken out.

Why: a lesson asks the student to write a few lines and checks them at once. The
source notebook keeps the answer, so CI can run it top to bottom and the site can
show it, between nbgrader's markers, inside a code cell::

    def first_login(user):
        ### BEGIN SOLUTION
        greeted.append(user)
        ### END SOLUTION

The student's copy has each such block replaced, at the block's indentation, by::

        # YOUR CODE HERE
        ...

``...`` is a statement wherever a block may stand (a function body, a loop body,
the top level), so the stripped cell still runs, and the ``check`` cell after it
fails with its own message ("greeted is [], expected ['Alice']: ...") instead of a
``NotImplementedError`` or a ``SyntaxError`` in the student's cell.

This module imports nothing else from the course: it is used by the release, by
the site and by the tests, and must stay a leaf.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

__all__ = [
    "BEGIN",
    "END",
    "PLACEHOLDER",
    "AnswerMarkerError",
    "count_answers",
    "has_answer",
    "replace_answers",
    "strip_answers",
    "strip_notebook",
    "strip_source",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = "# YOUR CODE HERE"


class AnswerMarkerError(ValueError):
    """The markers of a cell do not pair up: the answer would leak or the cell break."""


def _marker(line: str) -> str | None:
    stripped = line.strip()
    return stripped if stripped in (BEGIN, END) else None


def has_answer(source: str) -> bool:
    """Whether ``source`` holds at least one answer block."""
    return any(_marker(line) == BEGIN for line in source.splitlines())


def count_answers(source: str) -> int:
    """How many answer blocks ``source`` holds (the markers are checked as in stripping)."""
    _check_pairs(source)
    return sum(1 for line in source.splitlines() if _marker(line) == BEGIN)


def _check_pairs(source: str) -> None:
    opened: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = _marker(line)
        if marker == BEGIN:
            if opened is not None:
                raise AnswerMarkerError(
                    f"line {number}: {BEGIN} inside the block opened on line {opened}"
                )
            opened = number
        elif marker == END:
            if opened is None:
                raise AnswerMarkerError(f"line {number}: {END} without a {BEGIN} before it")
            opened = None
    if opened is not None:
        raise AnswerMarkerError(f"line {opened}: {BEGIN} is never closed by {END}")


def strip_source(source: str) -> str:
    """``source`` with every answer block replaced by the placeholder.

    Raises :class:`AnswerMarkerError` when the markers do not pair up (a block
    never closed, an ``END`` without a ``BEGIN``, a block inside a block): a
    half-stripped cell would either leak the answer or not run.
    """
    return replace_answers(source, [f"{PLACEHOLDER}\n..."] * count_answers(source))


def replace_answers(source: str, blocks: Sequence[str]) -> str:
    """``source`` with its answer blocks replaced, in order, by ``blocks``.

    Each block is written at column 0 and goes in at the indentation of its
    markers, as a student typing under the placeholder would write it (the
    student's copy is this with the placeholder; a test puts other answers in
    the same way). Raises :class:`AnswerMarkerError` when the markers do not pair
    up or ``blocks`` is not one per answer block.
    """
    if count_answers(source) != len(blocks):
        raise AnswerMarkerError(
            f"{count_answers(source)} answer block(s), {len(blocks)} replacement(s) given")
    out: list[str] = []
    replacements = iter(blocks)
    inside = False
    for line in source.splitlines():
        marker = _marker(line)
        if marker == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            body = textwrap.dedent(next(replacements)).strip("\n")
            out += [indent + text for text in body.splitlines()]
            inside = True
        elif marker == END:
            inside = False
        elif not inside:
            out.append(line)
    replaced = "\n".join(out)
    return replaced + "\n" if source.endswith("\n") else replaced


def strip_answers(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without answers, outputs or execution counts (``nb`` is unchanged).

    Only code cells hold answers; markdown and raw cells are copied as they are.
    A marker error names the cell it is in.
    """
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        try:
            cell.source = strip_source(cell.source)
        except AnswerMarkerError as exc:
            name = cell.get("id") or f"#{index}"
            raise AnswerMarkerError(f"cell {name}: {exc}") from None
        cell.outputs = []
        cell.execution_count = None
    return student


def strip_notebook(src: Path | str, dst: Path | str) -> int:
    """Write the student's copy of notebook ``src`` to ``dst``; return the answers removed.

    ``dst`` may be ``src`` itself (the copy is made in memory first); its folder
    is created when missing.
    """
    import nbformat  # here: it is slow to import, and `day25 hint`/`check` never need it

    nb = nbformat.read(src, as_version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    removed = sum(count_answers(c.source) for c in nb.cells if c.cell_type == "code")
    student = strip_answers(nb)
    target = Path(dst)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student, target)  # type: ignore[no-untyped-call]
    return removed
