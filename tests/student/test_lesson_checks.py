"""A lesson's failed check shows its message first; every other error keeps its traceback.

The lessons load it in their first cell (``%load_ext day25``: :mod:`day25.lesson_checks`).
These cells run in a real kernel (nbclient), as a student's do in Jupyter.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from tests.kernels import kernel_config

from day25.course.answers import BEGIN

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
LOAD = "%load_ext day25"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run(*cells: str) -> list[nbformat.NotebookNode]:
    """Each cell's outputs, the cells run in one fresh kernel, errors allowed."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                   config=kernel_config()).execute()
    return [cell.outputs for cell in nb.cells]


def _error(outputs: list[nbformat.NotebookNode]) -> tuple[str, str, list[str]]:
    """The one error of a cell: its name, its message, and the lines shown, plain."""
    errors = [o for o in outputs if o.output_type == "error"]
    assert len(errors) == 1, outputs
    shown = ANSI.sub("", "\n".join(errors[0].traceback)).splitlines()
    return errors[0].ename, errors[0].evalue, shown


@pytest.fixture(scope="module")
def outputs() -> list[list[nbformat.NotebookNode]]:
    return _run(
        LOAD + "\n\ndef helper():  # the student's own function, in another cell than the call\n"
               "    assert x == 2, 'inside a function'",
        "x = 1\nassert x == 2, f'x is {x}: make it two'",  # 1: a check's assert
        "import asyncio\nawait asyncio.sleep(0)\nassert x == 3",  # 2: bare, after an await
        "raise AssertionError('the outbox is empty: did signup emit?')",  # 3
        "helper()",  # 4
        "{}['missing']",  # 5: not an assert
        "%tb",  # 6: the whole traceback of the last error
        "assert x == 2, 'shown before %tb'",  # 7
        "%tb",  # 8
        LOAD,  # 9: the first cell, run again
        "assert x == 2, 'after loading again'",  # 10
    )


def test_a_failed_check_shows_its_message_first_and_its_line(outputs: list) -> None:
    ename, evalue, shown = _error(outputs[1])
    assert (ename, evalue) == ("AssertionError", "x is 1: make it two")
    assert shown == ["Check failed: x is 1: make it two",
                     "(line 2 of cell In[2]; %tb shows the whole traceback)"], shown
    _, _, shown = _error(outputs[3])
    assert shown[0] == "Check failed: the outbox is empty: did signup emit?", shown


def test_a_check_without_a_message_shows_the_line_that_failed(outputs: list) -> None:
    ename, evalue, shown = _error(outputs[2])
    assert (ename, evalue) == ("AssertionError", "")
    assert shown[0] == "Check failed on line 3 of cell In[3]: assert x == 3", shown


def test_errors_of_the_students_code_keep_the_whole_traceback(outputs: list) -> None:
    _, _, shown = _error(outputs[4])
    assert "Traceback" in shown[1] and any("helper()" in line for line in shown), shown
    assert shown[-1] == "AssertionError: inside a function", shown
    ename, _, shown = _error(outputs[5])
    assert ename == "KeyError" and "Traceback" in shown[1], shown


def test_tb_still_shows_the_whole_traceback(outputs: list) -> None:
    _, _, shown = _error(outputs[8])
    assert "Traceback" in shown[1] and shown[-1] == "AssertionError: shown before %tb", shown


def test_running_the_first_cell_again_says_nothing_and_changes_nothing(outputs: list) -> None:
    assert outputs[0] == [] and outputs[9] == [], outputs[9]  # no "already loaded"
    _, _, shown = _error(outputs[10])
    assert shown[0] == "Check failed: after loading again", shown


def test_without_the_extension_a_check_shows_the_usual_traceback() -> None:
    (outputs,) = _run("assert 1 == 2, 'not loaded'")
    _, _, shown = _error(outputs)
    assert "Traceback" in shown[1] and shown[-1] == "AssertionError: not loaded", shown


EXPECT = """\
def expect(seqs, wanted):  # one case of the check; the cell tries several
    got = sorted(seqs)
    assert got == wanted, f"sorted({seqs}) is {got}, not {wanted}"

expect([2, 1], [1, 2])
expect([3, 1], [3, 1])
"""


#: trio 0.22's warning (trio/_core/_multierror.py), raised as trio raises it
TRIO_WARNS = """\
import warnings
warnings.warn(
    "IPython detected, but you already have a custom exception handler installed. I'll "
    "skip installing Trio's custom handler, but this means exception groups will not "
    "show full tracebacks.", category=RuntimeWarning)
print("after")
"""


@pytest.fixture(scope="module")
def more() -> list[list[nbformat.NotebookNode]]:
    return _run(
        LOAD,
        EXPECT,  # 1: a check whose helper, defined in the same cell, asserts
        TRIO_WARNS,  # 2: what trio < 0.25 does on import when such a handler is set
    )


def test_a_helper_of_the_check_cell_is_the_check_too(more: list) -> None:
    _, _, shown = _error(more[1])
    assert shown == ["Check failed: sorted([3, 1]) is [1, 3], not [3, 1]",
                     "(line 6 of cell In[2]; %tb shows the whole traceback)"], shown


def test_trios_warning_about_the_handler_is_not_shown(more: list) -> None:
    """Where trio before 0.25 is installed, lesson 7's first httpx client imports it, and
    it warned in red that a custom exception handler (this one) is set. Its warning,
    word for word, is raised here: trio need not be installed for this test to run."""
    assert more[2] == [nbformat.v4.new_output("stream", name="stdout", text="after\n")], more[2]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_lesson_loads_it_first(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    code = [line for line in first.source.splitlines() if not line.startswith("#")]
    assert code[0] == LOAD, first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_cell_that_loads_it_is_not_an_answer(path: Path) -> None:
    """A student runs an answer cell again after each fix: had it the load, IPython
    would print "The day25 extension is already loaded" above their output each time."""
    nb = nbformat.read(path, as_version=4)
    loads = [c for c in nb.cells if c.cell_type == "code" and LOAD in c.source]
    assert len(loads) == 1 and BEGIN not in loads[0].source, loads[0].get("id")


def test_an_ipython_that_cannot_name_its_cells_keeps_its_traceback() -> None:
    """IPython before 8 has no ``format_code_name``: no short form, and no handler error."""
    from types import SimpleNamespace

    from day25.lesson_checks import short_failure

    try:
        exec(compile("assert 1 == 2, 'x is 1'", "<cell>", "exec"))  # a <module> frame, as a cell's
    except AssertionError as exc:
        old_ipython = SimpleNamespace(compile=SimpleNamespace())
        assert short_failure(old_ipython, exc, exc.__traceback__) is None
