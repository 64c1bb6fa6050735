"""Notebook 12's claim about mypy: it checks a typed emit function, not ``emit`` itself.

The notebook's own ``RoomMessage`` and ``emit_room_message`` cells are put in a
module with two wrong emits; mypy (``--strict``) must flag the one through the
typed function and stay silent on the plain ``bus.emit``, which takes ``Any``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from tests.cells import python_of

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "12_best_practices.ipynb"


def _definition(name: str) -> str:
    """The source of the notebook's class or function ``name``, as written there."""
    nb = nbformat.read(NOTEBOOK, as_version=nbformat.NO_CONVERT)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = python_of(cell.source)
        for node in ast.parse(code).body:
            if isinstance(node, ast.ClassDef | ast.AsyncFunctionDef) and node.name == name:
                return str(ast.get_source_segment(code, node))
    raise AssertionError(f"no cell of {NOTEBOOK.name} defines {name}")


@pytest.mark.timeout(300)
def test_mypy_checks_the_typed_emit_function_but_not_emit(tmp_path: Path) -> None:
    module = "\n".join(
        [
            "from typing import NotRequired, TypedDict",
            "from day25 import EmitResult, EventBus",
            _definition("RoomMessage"),
            _definition("emit_room_message"),
            "async def wrong(bus: EventBus) -> None:",
            "    await bus.emit('room.message', {'txet': 'hi'})  # PLAIN",
            "    await emit_room_message(bus, {'txet': 'hi'})  # TYPED",
            "",
        ]
    )
    path = tmp_path / "claim.py"
    path.write_text(module, encoding="utf-8")
    lines = module.splitlines()
    plain = next(i for i, line in enumerate(lines, 1) if line.endswith("# PLAIN"))
    typed = next(i for i, line in enumerate(lines, 1) if line.endswith("# TYPED"))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "--no-error-summary", "--hide-error-context", str(path)],
        capture_output=True, text=True, timeout=280, cwd=tmp_path,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    flagged = {int(line.split(":")[1]) for line in errors}
    assert typed in flagged, (
        f"mypy missed a wrong payload passed to emit_room_message:\n{proc.stdout}{proc.stderr}"
    )
    assert plain not in flagged, f"mypy flagged the plain emit after all:\n{proc.stdout}"
    assert flagged == {typed}, proc.stdout
