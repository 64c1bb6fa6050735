"""A lesson's failed check says what is wrong first, not under a traceback.

Why: a lesson's check cell is a row of ``assert`` statements, each with a message that
says what is wrong and what to change. Jupyter shows a failed one as a traceback: a
ruler, the exception's name, ten lines of the check's own code around an arrow, and the
message last, 10 to 18 lines down, where a student who reads from the top gives up.

Each lesson's first cell loads it, as the ``day25`` package's IPython extension::

    %load_ext day25

From then on an ``AssertionError`` raised by a cell's own code (a check's ``assert``,
its ``raise AssertionError(...)``, or an ``assert`` in a helper the check cell defines)
is shown as its message and the line it is on. Every other error keeps IPython's whole
traceback: there the frames are the student's own code, and they are what helps.
Nothing else changes: the cell still fails (so "Run all" stops there), the error's name
and message are what they were, and ``%tb`` shows the whole traceback. A kernel restart
without that line brings back IPython's tracebacks for every error.
"""

from __future__ import annotations

import linecache
import sys
import warnings
from types import TracebackType
from typing import Any

__all__ = ["load_ipython_extension", "short_failure"]

RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"
TRIO_WARNING = "IPython detected, but you already have a custom exception handler"


def load_ipython_extension(shell: Any) -> None:
    """Show a cell's own failed ``assert`` as its message (``%load_ext day25`` calls this).

    Why it takes itself off IPython's list of loaded extensions once the cell has run:
    students re-run a lesson's first cell often, and IPython answered every re-run
    with "The day25 extension is already loaded. To reload it, use: %reload_ext
    day25". Setting the handler again is harmless, so a re-run now does that, silently.
    (IPython adds the name to its list after this function returns, hence the event.)

    Trio before 0.25, where it is installed (the lessons' httpx clients then import
    it), warns in red when it finds any handler set here, about exception groups the
    lessons never raise: the student would take the warning for a failure of their code.
    """
    warnings.filterwarnings("ignore", message=TRIO_WARNING, category=RuntimeWarning)
    shell.set_custom_exc((AssertionError,), _show)

    def forget(*_result: object) -> None:
        shell.extension_manager.loaded.discard("day25")
        shell.events.unregister("post_run_cell", forget)

    shell.events.register("post_run_cell", forget)


def short_failure(shell: Any, value: BaseException, tb: TracebackType | None) -> list[str] | None:
    """The lines that show ``value`` as a failed check, or None when it is not one.

    It is one when it was raised by the cell being run (IPython names it, ``In[8]``):
    by its top-level code, or by a helper function the same cell defines, as a check
    does that tries many cases with one ``expect(...)``. An ``assert`` raised in any
    other cell's code, the student's own functions among them, keeps its traceback.
    The line named is the cell's top-level line that failed: the ``assert``, or the
    ``expect(...)`` call whose case failed.
    """
    cell_name = getattr(shell.compile, "format_code_name", None)  # IPython 8 and later
    if cell_name is None:
        return None  # an IPython that cannot name its cells: its usual traceback
    last, cell, top = tb, None, None
    while last is not None:
        code = last.tb_frame.f_code
        if cell is None and code.co_name == "<module>":  # the run cell's own code
            cell = cell_name(code.co_filename)
            filename, top = code.co_filename, last
        elif cell is not None and code.co_filename != filename:
            return None  # it went through code of another cell, or of a module
        if last.tb_next is None:
            break
        last = last.tb_next
    if last is None or cell is None or top is None:
        return None
    message = str(value).strip()
    if not message:  # a bare assert: its own line is what failed
        line = linecache.getline(filename, last.tb_lineno).strip()
        return [f"{RED}{BOLD}Check failed{RESET} on line {last.tb_lineno} of cell {cell[1]}: "
                f"{line}", "(%tb shows the whole traceback)"]
    return [f"{RED}{BOLD}Check failed:{RESET} {message}",
            f"(line {top.tb_lineno} of cell {cell[1]}; %tb shows the whole traceback)"]


def _show(shell: Any, etype: type[BaseException], value: BaseException,
          tb: TracebackType | None, tb_offset: int | None = None) -> list[str]:
    """IPython's handler for ``AssertionError``: the short form, else the usual one."""
    stb = short_failure(shell, value, tb)
    if stb is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return []
    # what showtraceback records, so that %tb and %debug find this error
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    shell._showtraceback(etype, value, stb)
    return stb
