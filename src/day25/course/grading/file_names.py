"""Which file is which module: the name a student's file has, against the catalogue's.

Why a module of its own: a laptop renames files (``Chat_Broadcasting.py`` on a
case-blind disk, ``module (1).py`` from a browser's second download, ``module - Copy.py``
from Explorer, ``module-1.py`` from an LMS), and every way in (a folder, a zip, an LMS
export) must take the same file and say the same thing about the ones it did not take.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

__all__ = ["is_copy", "likeness", "module_of", "not_found", "pick"]

#: what a browser, Finder, Explorer or an LMS adds to a second copy's name (before ``.py``)
_COPY_SUFFIX = re.compile(r"(?: ?\(\d+\)|-\d+| \d+| copy(?: \d+)?| - copy(?: \(\d+\))?)",
                          re.IGNORECASE)


def is_copy(found: str, module: str) -> bool:
    """Whether ``found`` is ``module`` as a download or a copy names it: ``x (1).py``."""
    stem, dot, ext = module.rpartition(".")
    head, dot_, ext_ = found.rpartition(".")
    if not (dot and dot_) or ext_.casefold() != ext.casefold():
        return False
    return (head[: len(stem)].casefold() == stem.casefold()
            and _COPY_SUFFIX.fullmatch(head[len(stem):]) is not None)


def pick(names: Iterable[str], module: str) -> str | None:
    """The name that is ``module``: itself, else the only one equal to it ignoring case,
    else the only copy of it (``module (1).py``, ``module - Copy.py``)."""
    names = list(names)
    if module in names:
        return module
    same = [n for n in names if n.casefold() == module.casefold()]
    if same:
        return same[0] if len(same) == 1 else None
    copies = [n for n in names if is_copy(n, module)]
    return copies[0] if len(copies) == 1 else None


def module_of(found: str, modules: Sequence[str]) -> str | None:
    """The module ``found`` is, by the rules of :func:`pick`, or None."""
    for module in modules:
        if pick([found], module) is not None:
            return module
    return None


def likeness(found: str, module: str) -> int:
    """0: ``found`` is ``module``; 1: it differs in case only; 2: it is a copy's name."""
    return 0 if found == module else 1 if found.casefold() == module.casefold() else 2


def not_found(name: str, seen: Sequence[str]) -> str:
    """Why ``name`` is missing, naming what the student may have meant to hand in."""
    text = f"{name} was not found in the submission."
    notebook = pick(seen, name.removesuffix(".py") + ".ipynb")
    if notebook:
        return (f"{text} It holds {notebook}, but a notebook is not graded: your code is in "
                f"{name}, the file next to it that the notebook loads; hand in that file.")
    other = sorted({n for n in seen if n.casefold() == name.casefold() or is_copy(n, name)})
    if other:
        return f"{text} It holds {', '.join(other)}: keep one, named {name} exactly."
    files = {n.replace("\\", "/").rsplit("/", 1)[-1] for n in seen}
    near = difflib.get_close_matches(name, sorted(f for f in files if f.endswith(".py")),
                                     n=2, cutoff=0.7)
    if near:
        return (f"{text} It holds {' and '.join(near)}: if that is this exercise, name it "
                f"{name} exactly (only that name is graded).")
    return text
