"""A notebook cell's Python: what the tests parse or compile of a lesson's cells."""

from __future__ import annotations


def python_of(source: str) -> str:
    """``source`` with its IPython lines (``%load_ext day25``, ``!pip ...``) blanked.

    Why blanked, not dropped: a line number in a parse error or an AST node then names
    the cell's own line.
    """
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())
