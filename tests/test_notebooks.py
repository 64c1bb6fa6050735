"""The lesson notebooks run top to bottom, are stored clean, and use the public API.

Each notebook is executed with nbclient in a fresh ``python3`` kernel whose working
directory is ``notebooks/``; any cell error, or a cell slower than ``CELL_TIMEOUT``,
fails the test. The total time is reported at the end of the module (the target for
all lessons together is about 60 s).
"""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

import day25

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 30
IDS = [p.stem for p in NOTEBOOKS]
PARALLEL = 3


def test_there_are_lessons_and_a_reality_check() -> None:
    assert len(NOTEBOOKS) >= 10, NOTEBOOKS
    assert any("reality_check" in p.stem for p in NOTEBOOKS)
    assert all(p.stem[:2].isdigit() for p in NOTEBOOKS), "notebooks are numbered"


class Run:
    """One notebook's execution: the executed notebook, its error, its time."""

    def __init__(self, nb: nbformat.NotebookNode) -> None:
        self.nb = nb
        self.error: BaseException | None = None
        self.seconds = 0.0


async def _execute(path: Path, gate: asyncio.Semaphore) -> Run:
    run = Run(_read(path))
    client = NotebookClient(
        run.nb,
        timeout=CELL_TIMEOUT,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
        allow_errors=False,
    )
    async with gate:
        started = time.perf_counter()
        try:
            await client.async_execute()
        except (CellExecutionError, CellTimeoutError, RuntimeError, TimeoutError) as exc:
            run.error = exc
        run.seconds = time.perf_counter() - started
    return run


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> dict[str, Run]:
    """Execute every notebook, PARALLEL at a time, each in its own fresh kernel.

    Kernels spend most of their start-up waiting, so a few at once cut the wall
    time without changing what each notebook sees.
    """

    async def all_of_them() -> list[Run]:
        gate = asyncio.Semaphore(PARALLEL)
        return await asyncio.gather(*(_execute(p, gate) for p in NOTEBOOKS))

    started = time.perf_counter()
    results = asyncio.run(all_of_them())
    wall = time.perf_counter() - started
    lines = [f"  {p.stem}: {r.seconds:.1f}s" for p, r in zip(NOTEBOOKS, results, strict=True)]
    text = "\n".join(
        [
            "notebook execution times:",
            *lines,
            f"  wall time for all ({PARALLEL} at once): {wall:.1f}s",
        ]
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + text)
    return {p.stem: r for p, r in zip(NOTEBOOKS, results, strict=True)}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_top_to_bottom(path: Path, runs: dict[str, Run]) -> None:
    run = runs[path.stem]
    if run.error is not None:
        pytest.fail(f"{path.name} failed:\n{run.error}", pytrace=False)
    outputs = [o for c in run.nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs, f"{path.name} ran but showed nothing"


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
    code = "\n".join(
        "" if line.lstrip().startswith(("!", "%")) else line for line in source.splitlines()
    )
    names: list[str] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            if node.module == "day25":
                names.extend(f"day25:{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lessons_import_only_the_public_day25_api(path: Path) -> None:
    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        for name in _imports_of(cell.source):
            assert not name.startswith("day25."), f"{path.name} imports {name}: use `day25`"
            if name.startswith("day25:"):
                assert name[6:] in day25.__all__, f"{path.name} imports non-public {name[6:]}"


def test_the_import_check_catches_private_imports() -> None:
    found = _imports_of("from day25.bus import _Listener\nimport day25.trace\n%time x = 1\n")
    assert found == ["day25.bus", "day25.trace"]
    assert _imports_of("from day25 import _secret") == ["day25", "day25:_secret"]
