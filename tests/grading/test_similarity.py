"""``day25 similarity`` flags planted copies and leaves independent work alone.

The class: ``ann`` hands in the reference solutions, ``ben`` a disguised copy of
them (every local name renamed, functions and methods in reverse order, comments
gone, reformatted), ``cat`` the independent correct alternatives
(``tests/alternatives/``), ``dan`` and ``eve`` the untouched stubs, ``fay`` a disguised
copy of ``day25 serve``'s demo for exercises 3 and 4 (it ships with the package). The
ann~ben pairs and fay~demo are flagged; the honest solutions and the stubs never are (the
stubs share only the stub's own code). A copy of the reference against a copy of the demo
may go either way: the team wrote both, and they share close to half their code.
"""

from __future__ import annotations

import ast
import builtins
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from day25.course.catalogue import load_catalogue
from day25.course.grading.similarity import CSV_HEADER, DEMO, DEMO_FOLDER

pytestmark = pytest.mark.xdist_group("similarity")  # one xdist worker: one graded class

COURSE = Path(__file__).resolve().parents[2]
EXERCISES = load_catalogue(COURSE).exercises


class _Rename(ast.NodeTransformer):
    def __init__(self, names: set[str]) -> None:
        self.names = {name: f"renamed_{i}" for i, name in enumerate(sorted(names))}

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.Nonlocal:
        node.names = [self.names.get(name, name) for name in node.names]
        return node


def disguise(source: str) -> str:
    """What a student hiding a copy does: rename every local variable (the parameters,
    which callers may name, stay), reverse the order of functions and methods, drop the
    comments and docstrings and reformat. The result still passes the public checks."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str):
            body[:1] = [] if len(body) > 1 else [ast.Pass()]
    local: set[str] = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    local.add(node.id)
    local -= {*dir(builtins), *(a.arg for a in ast.walk(tree) if isinstance(a, ast.arg))}
    _Rename(local).visit(tree)
    for holder in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef))]:
        spots = [i for i, n in enumerate(holder.body)
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        functions = [holder.body[i] for i in spots]
        for i, function in zip(spots, reversed(functions), strict=True):
            holder.body[i] = function
    return ast.unparse(tree) + "\n"


@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[list[str]], Path, str]:
    klass = tmp_path_factory.mktemp("class")
    for student in ("ann", "ben", "cat", "dan", "eve", "fay"):
        (klass / student).mkdir()
    for ex in EXERCISES:
        if (DEMO_FOLDER / ex.module).is_file():
            (klass / "fay" / ex.module).write_text(disguise((DEMO_FOLDER / ex.module).read_text()))
        solution = (COURSE / "solutions" / ex.module).read_text()
        (klass / "ann" / ex.module).write_text(solution)
        (klass / "ben" / ex.module).write_text(disguise(solution))
        shutil.copy(COURSE / "tests" / "alternatives" / ex.module, klass / "cat")
        shutil.copy(COURSE / "exercises" / ex.module, klass / "dan")
        shutil.copy(COURSE / "exercises" / ex.module, klass / "eve")
    out = tmp_path_factory.mktemp("out")
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "similarity", str(klass),
                           "--out", str(out), "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with (out / "similarity.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == CSV_HEADER
    return rows[1:], klass, proc.stdout


def test_the_disguise_leaves_few_lines_as_they_were() -> None:
    for ex in EXERCISES:
        solution = (COURSE / "solutions" / ex.module).read_text()
        copy = disguise(solution)
        compile(copy, ex.module, "exec")
        api = ("import ", "from ", "def ", "async def ", "class ", "@")  # what must stay
        lines = {line.strip() for line in solution.splitlines()
                 if len(line.strip()) >= 20 and not line.strip().startswith(api)}
        kept = lines & {line.strip() for line in copy.splitlines()}
        assert len(kept) < 0.3 * len(lines), f"{ex.id}: {len(kept)}/{len(lines)} lines kept"


def test_planted_copies_are_flagged_and_nothing_else(
    flagged: tuple[list[list[str]], Path, str],
) -> None:
    rows, _, said = flagged
    pairs = {(row[0], row[1], row[2]) for row in rows}
    demo = {ex.id for ex in EXERCISES if (DEMO_FOLDER / ex.module).is_file()}
    assert demo == {"chat_broadcasting", "notification_queueing"}
    planted = {(ex.id, "ann", "ben") for ex in EXERCISES} | {
        (exercise, DEMO, "fay") for exercise in demo}
    # the reference and the demo are the team's, and share close to half their code: a
    # copy of one against a copy of the other measures 0.44-0.51, by the hash seed
    # copydetect's fingerprints take (PYTHONHASHSEED), so those pairs may go either way.
    # Everyone else (the independent alternatives, the stubs) is never flagged.
    both_teams = {(exercise, a, b) for exercise in demo
                  for a, b in (("ann", DEMO), ("ann", "fay"), ("ben", DEMO), ("ben", "fay"))}
    assert planted <= pairs <= planted | both_teams, rows
    for row in rows:
        if (row[0], row[1], row[2]) in planted:
            assert float(row[3]) >= 0.5 and float(row[4]) >= 0.5, row
        assert f"{row[0]}: {row[1]} ~ {row[2]}" in said


def test_each_flagged_pair_names_the_matching_lines(
    flagged: tuple[list[list[str]], Path, str],
) -> None:
    rows, klass, _ = flagged
    for exercise, a, b, _sa, _sb, tokens, lines_a, lines_b in rows:
        module = f"{exercise}.py"
        assert int(tokens) > 50
        for student, spans in ((a, lines_a), (b, lines_b)):
            where = DEMO_FOLDER if student == DEMO else klass / student
            length = len((where / module).read_text().splitlines())
            covered = 0
            for span in spans.split(";"):
                first, _, last = span.partition("-")
                start, end = int(first), int(last or first)
                assert 1 <= start <= end <= length, (student, span, length)
                covered += end - start + 1
            assert covered >= 0.3 * length, (exercise, student, spans)


def test_the_html_reports_show_the_pairs_without_temporary_paths(
    flagged: tuple[list[list[str]], Path, str], tmp_path: Path
) -> None:
    said = flagged[2]
    out = Path(said.split("pairs: ")[1].split()[0]).parent
    for ex in EXERCISES:
        page = (out / f"similarity-{ex.id}.html").read_text()
        assert f"ann/{ex.module}" in page and f"ben/{ex.module}" in page
        assert "day25-similarity-" not in page and "<script>alert" not in page


# copydetect's own report reads its template with importlib.resources.open_text
@pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")
def test_a_temporary_folder_with_backslashes_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stop 62's instructor on Windows saw ``C:\\\\Users\\\\...\\\\day25-similarity-x`` in the
    report: its settings are JSON, which doubles a backslash, so only the HTML's copy of the
    path was replaced. On Linux a folder's name may hold a backslash, as Windows' paths do."""
    import tempfile

    from day25.course.grading.similarity import compare

    windows_like = tmp_path / "C:\\Users\\Ann Lee\\AppData"
    windows_like.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(windows_like))
    ex = EXERCISES[0]
    code = (COURSE / "solutions" / ex.module).read_text(encoding="utf-8")
    page = tmp_path / "report.html"
    assert compare(ex, {"ann": code, "ben": code}, None, html=page)
    shown = page.read_text(encoding="utf-8")
    assert f"ann/{ex.module}" in shown and f"ben/{ex.module}" in shown
    assert "Ann Lee" not in shown and "day25-similarity-" not in shown


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for args, said in ((["--threshold", "0"], "in (0, 1]"), ([], "no submissions found")):
        proc = subprocess.run([sys.executable, "-m", "day25.cli", "similarity", str(empty),
                               "--out", str(tmp_path / "out"), "--course", str(COURSE), *args],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})
        assert proc.returncode == 2 and said in proc.stdout, proc.stdout + proc.stderr
