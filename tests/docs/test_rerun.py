"""Lesson notebooks: a student who fixes an answer and runs it again gets a fair check.

A student rarely gets an answer right at once. In Jupyter they run the answer cell and
its ``check`` cell, read the failure, fix the answer, and run both cells again, in the
same kernel: whatever the first attempt registered on ``app.events`` is still there.
A check that counts listeners or calls would then fail a correct answer and blame it.

Each lesson is executed in one fresh kernel (working directory ``notebooks/``), cell by
cell, top to bottom. At each answer cell (a code cell holding ``### BEGIN SOLUTION``)
the cells from it through its check are run three times, as a student does:

1. **the student's copy** (``strip_answers``): the check must fail with an
   ``AssertionError``, and no other cell of the range may fail;
2. **the answer**: every cell passes;
3. **the answer, again**: every cell still passes: nothing left behind by the two runs
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

from day25.course.answers import BEGIN, strip_answers

from .conftest import CELL_TIMEOUT, NOTEBOOKS_DIR, PARALLEL, show

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]
CHECK = "check"
STEPS = ("the student's copy", "the answer", "the answer, again")


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
    seconds: float = 0.0


async def _walk(path: Path, gate: asyncio.Semaphore) -> Walk:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    student = strip_answers(nb)
    ranges = answer_ranges(nb)
    walk = Walk(path.stem, checks=len(ranges))
    client = NotebookClient(
        copy.deepcopy(nb),  # it stores each executed cell back into its notebook
        timeout=CELL_TIMEOUT,
        startup_timeout=60,
        kernel_name="python3",
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
                    for step, source in zip(STEPS, (student, nb, nb), strict=True):
                        for i in range(index, check + 1):
                            error = await run(source.cells[i], i)
                            if i == check and step == STEPS[0]:
                                if not (error or "").startswith("AssertionError"):
                                    how = f"raised {error}" if error else "passed"
                                    problems.append(f"{step}: the check {how}, expected an "
                                                    "AssertionError")
                            elif error:
                                problems.append(f"{step}: {where(i)} failed: {error}")
                    if problems:
                        walk.failed_checks[check] = problems
                    index = check + 1
        except (CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError) as exc:
            walk.other.append(f"the walk stopped: {type(exc).__name__}: {exc}")
        walk.seconds = time.perf_counter() - started
    return walk


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
    lines = [f"  {w.stem}: {w.seconds:.1f}s, {len(w.failed_checks)} of {w.checks} "
             "check(s) failed a re-run" for w in results.values()]
    show(request, "\n".join(["re-run walk times:", *lines,
                             f"  {failed} of {checks} check cells failed a re-run; "
                             f"wall time for all ({PARALLEL} at once): {wall:.1f}s"]))
    return results


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_check_passes_again_after_a_wrong_answer_and_a_rerun(
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
        f"{path.name}: {len(walk.failed_checks)} of {walk.checks} check cells fail when "
        "run again as a student does:\n" + "\n".join(lines)
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
