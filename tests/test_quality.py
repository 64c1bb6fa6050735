"""The package's own code stays lint-clean and type-checks under mypy --strict, and every
source in the repository compiles on every Python the course supports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import warnings
from pathlib import Path

from tests.cells import python_of

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_is_clean_on_src() -> None:
    result = run("ruff", "check", "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean_on_src() -> None:
    # strict = true and files = ["src/day25"] live in pyproject.toml; say --strict anyway
    result = run("mypy", "--strict", "src/day25")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def _sources() -> list[tuple[str, str]]:
    """Every Python file and notebook code cell the repository holds: ``(name, code)``."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "*.py", "*.ipynb"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.split()
    found = []
    for rel in filter(lambda rel: (ROOT / rel).is_file(), listed):  # not deleted since
        text = (ROOT / rel).read_text(encoding="utf-8")
        if not rel.endswith(".ipynb"):
            found.append((rel, text))
            continue
        for index, cell in enumerate(json.loads(text)["cells"]):
            if cell["cell_type"] == "code":
                code = python_of("".join(cell["source"]))
                found.append((f"{rel} cell {index}", code))
    return found


def _compile_problems() -> tuple[int, list[str]]:
    """How many sources there are, and what in them would not compile on a later Python."""
    problems = []
    sources = _sources()
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # notebooks await at top level
    for name, code in sources:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                tree = compile(code, name, "exec", flags)
            except SyntaxError as exc:
                problems.append(f"{name}: {exc.msg} (line {exc.lineno})")
                continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node, clean=False) or ""
                try:
                    doc.encode("utf-8")
                except UnicodeEncodeError as exc:
                    problems.append(f"{name}: a docstring holds {doc[exc.start]!r} "
                                    f"(line {node.body[0].lineno}): double its backslash")
    return len(sources), problems


def test_every_source_compiles_on_every_supported_python() -> None:
    """What compiles here compiles on the Pythons students have (3.11 and later).

    Two things compile on 3.11 and not after: an invalid escape such as ``"\\w"``
    (a warning here, a SyntaxWarning from 3.12, an error some day), and a docstring
    holding a lone surrogate (``"\\ud800"`` without its backslash doubled), which 3.13
    refuses to import at all ("surrogates not allowed": it dedents docstrings as UTF-8).

    In a process of its own: in a test process, an earlier test's unclosed socket can be
    collected while ``compile`` builds the tree, and the filter above turns its
    ResourceWarning into an error there ("AST constructor recursion depth mismatch").
    """
    done = subprocess.run([sys.executable, "-m", "tests.test_quality"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    count, problems = json.loads(done.stdout)
    assert count > 300
    assert problems == [], "\n".join(problems)


if __name__ == "__main__":
    print(json.dumps(_compile_problems()))
