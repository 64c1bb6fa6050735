"""Lesson notebooks: a student who fixes an answer and runs it again gets a fair check.

A student rarely gets an answer right at once. In Jupyter they run the answer cell and
its ``check`` cell, read the failure, fix the answer, and run both cells again, in the
same kernel: whatever the first attempt registered on ``app.events`` is still there.
A check that counts listeners or calls would then fail a correct answer and blame it.

Each lesson is executed in one fresh kernel (working directory ``notebooks/``), cell by
cell, top to bottom. At each answer cell (a code cell holding ``### BEGIN SOLUTION``)
the cells from it through its check are run three times, as a student does:

1. **the student's copy** (``strip_answers``): the check must fail with an
   ``AssertionError`` that says something, and no other cell of the range may fail;
2. **each kept wrong answer** to that cell (``mistakes/<lesson>.toml``, written from
   the lesson's text with the checks hidden; see ``lesson_mistakes.py``): likewise;
3. **each kept correct answer in another style** from the same file: every cell passes;
4. **the answer**: every cell passes;
5. **the answer, again**: every cell still passes: nothing left behind by the runs
   before breaks the check.

The lesson then goes on, and every later cell must still run. The walk runs inline,
not after the last cell, because a lesson's last cell stops its servers.
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from tests.kernels import kernel_config

from day25.course.answers import BEGIN, strip_answers

from .conftest import CELL_TIMEOUT, NOTEBOOKS_DIR, PARALLEL, show
from .lesson_mistakes import KeptAnswer, answer_with, load_kept_answers

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
CHECK = "check"
FAILS, PASSES = True, False  # what a run of an answer range must do at its check


def _is_check(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and CHECK in cell.metadata.get("tags", [])


def _is_answer(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and any(
        line.strip() == BEGIN for line in cell.source.splitlines()
    )


def answer_ranges(nb: nbformat.NotebookNode) -> dict[int, int]:
    """``{answer cell index: its check cell index}``: each check's answer is the nearest
    code cell before it holding an answer; the cells between them belong to the range."""
    ranges: dict[int, int] = {}
    answer: int | None = None
    for index, cell in enumerate(nb.cells):
        if _is_check(cell):
            assert answer is not None, f"cell {index} ({cell.get('id')}): a check without an answer"
            ranges[answer] = index
            answer = None
        elif _is_answer(cell):
            answer = index
    return ranges


def _error(cell: nbformat.NotebookNode) -> str | None:
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    return "; ".join(f"{e.ename}: {e.evalue}" for e in errors) or None


@dataclass
class Walk:
    """One lesson walked as a student: what went wrong, per check cell and elsewhere."""

    stem: str
    failed_checks: dict[int, list[str]] = field(default_factory=dict)  # check index: problems
    other: list[str] = field(default_factory=list)  # cells outside an answer's range
    checks: int = 0
    mistakes: int = 0  # kept wrong answers run
    missed: int = 0  # of them, those the check let pass (or did not fail with a message)
    seconds: float = 0.0


def attempts(nb: nbformat.NotebookNode, answer: int, kept_answers: list[KeptAnswer]
             ) -> list[tuple[str, nbformat.NotebookNode, bool, str]]:
    """What a student runs for answer cell ``answer``, in order: ``(what, the notebook
    with that attempt in the cell, whether its check must fail, what its message must
    say)``."""
    steps = [("the student's copy", strip_answers(nb), FAILS, "")]
    for kept in kept_answers:
        if kept.cell == nb.cells[answer].get("id"):
            tried = copy.deepcopy(nb)
            tried.cells[answer].source = answer_with(nb.cells[answer].source, kept.blocks)
            steps.append((kept.label, tried, FAILS if kept.kind == "mistake" else PASSES,
                          kept.says))
    return [*steps, ("the answer", nb, PASSES, ""), ("the answer, again", nb, PASSES, "")]


async def _walk(path: Path, gate: asyncio.Semaphore,
                kept_answers: list[KeptAnswer] | None = None) -> Walk:
    """Walk lesson ``path`` as a student, with its kept answers (or ``kept_answers``)."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    if kept_answers is None:
        kept_answers = load_kept_answers(path.stem)
    ranges = answer_ranges(nb)
    walk = Walk(path.stem, checks=len(ranges))
    client = NotebookClient(
        copy.deepcopy(nb),  # it stores each executed cell back into its notebook
        timeout=CELL_TIMEOUT,
        startup_timeout=60,
        kernel_name="python3",
        config=kernel_config(),  # Unix sockets: no port another process can take first
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
        allow_errors=True,  # errors are collected from the outputs, cell by cell
    )

    async def run(cell: nbformat.NotebookNode, index: int) -> str | None:
        cell = copy.deepcopy(cell)  # each run's outputs are its own
        await client.async_execute_cell(cell, index)
        return _error(cell)

    def where(index: int) -> str:
        return f"cell {index} ({nb.cells[index].get('id')})"

    async with gate:
        started = time.perf_counter()
        try:
            async with client.async_setup_kernel():
                index = 0
                while index < len(nb.cells):
                    if index not in ranges:
                        error = await run(nb.cells[index], index)
                        if error:
                            walk.other.append(f"{where(index)} failed: {error}")
                        index += 1
                        continue
                    check = ranges[index]
                    problems = []
                    for step, source, fails, says in attempts(nb, index, kept_answers):
                        walk.mistakes += step.startswith("mistake")
                        for i in range(index, check + 1):
                            error = await run(source.cells[i], i)
                            if i == check and fails:
                                if not _says_what_is_wrong(error):
                                    walk.missed += step.startswith("mistake")
                                    how = f"raised {error}" if error else "passed"
                                    problems.append(f"{step}: the check {how}, expected an "
                                                    "AssertionError with a message")
                                elif says not in str(error):
                                    problems.append(f"{step}: the check said {error!r}, "
                                                    f"which does not say {says!r}")
                            elif error:
                                problems.append(f"{step}: {where(i)} failed: {error}")
                    if problems:
                        walk.failed_checks[check] = problems
                    index = check + 1
        except (CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError) as exc:
            walk.other.append(f"the walk stopped: {type(exc).__name__}: {exc}")
        walk.seconds = time.perf_counter() - started
    return walk


def _says_what_is_wrong(error: str | None) -> bool:
    """Whether a check failed as it should: an ``AssertionError`` with a message."""
    prefix = "AssertionError: "
    return error is not None and error.startswith(prefix) and bool(error[len(prefix):].strip())


@pytest.fixture(scope="module")
def walks(request: pytest.FixtureRequest) -> dict[str, Walk]:
    """Every lesson walked as a student, PARALLEL kernels at a time: ``{stem: Walk}``."""

    async def all_of_them() -> list[Walk]:
        gate = asyncio.Semaphore(PARALLEL)
        return await asyncio.gather(*(_walk(p, gate) for p in NOTEBOOKS))

    started = time.perf_counter()
    results = {w.stem: w for w in asyncio.run(all_of_them())}
    wall = time.perf_counter() - started
    failed = sum(len(w.failed_checks) for w in results.values())
    checks = sum(w.checks for w in results.values())
    mistakes = sum(w.mistakes for w in results.values())
    missed = sum(w.missed for w in results.values())
    lines = [f"  {w.stem}: {w.seconds:.1f}s, {len(w.failed_checks)} of {w.checks} "
             f"check(s) failed the walk, {w.mistakes - w.missed} of {w.mistakes} kept "
             "wrong answers caught" for w in results.values()]
    show(request, "\n".join(["re-run walk times:", *lines,
                             f"  {failed} of {checks} check cells failed the walk; "
                             f"{mistakes - missed} of {mistakes} kept wrong answers caught; "
                             f"wall time for all ({PARALLEL} at once): {wall:.1f}s"]))
    return results


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_each_check_fails_every_wrong_answer_and_passes_the_right_ones_again(
    path: Path, walks: dict[str, Walk]
) -> None:
    walk = walks[path.stem]
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    lines = []
    for check, problems in walk.failed_checks.items():
        lines.append(f"check cell {check} ({nb.cells[check].get('id')}):")
        lines.extend(f"  {p}" for p in problems)
    lines.extend(walk.other)
    assert not lines, (
        f"{path.name}: {len(walk.failed_checks)} of {walk.checks} check cells go wrong "
        "when a student's attempts are run in turn:\n" + "\n".join(lines)
    )


def test_answer_ranges_pair_each_check_with_the_nearest_answer_before_it() -> None:
    def cell(source: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
        code = nbformat.v4.new_code_cell(source)
        code.metadata["tags"] = tags or []
        return code

    nb = nbformat.v4.new_notebook()
    answer = f"x = 1\n{BEGIN}\nx = 2\n### END SOLUTION\n"
    nb.cells = [cell("setup"), cell(answer), nbformat.v4.new_markdown_cell(BEGIN),
                cell("between"), cell("assert x", [CHECK]), cell(answer), cell(answer),
                cell("assert x", [CHECK])]
    assert answer_ranges(nb) == {1: 4, 6: 7}
