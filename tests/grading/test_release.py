"""``day25 release`` leaks nothing graded; ``day25 gradescope`` ships what grading needs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[2]


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", *map(str, args),
                           "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=300, cwd=COURSE)


def _secret_lines() -> set[str]:
    """Lines only solutions and hidden tests hold: not found in any stub, hint, public test,
    exercise protocol page or the package, which students are meant to have."""
    public_files = [*(COURSE / "exercises").rglob("*.py"), COURSE / "exercises" / "catalogue.toml",
                    *(COURSE / "src" / "day25").rglob("*.py"),
                    *(COURSE / "tests" / "public").rglob("*.py"),
                    *(COURSE / "docs" / "exercises").glob("*.md")]
    public = "\n".join(p.read_text(encoding="utf-8") for p in public_files if p.is_file())
    secret = set()
    for path in [*(COURSE / "solutions").glob("*.py"), *(COURSE / "tests" / "hidden").glob("*.py")]:
        secret |= {line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                   if len(line.strip()) >= 40 and line.strip() not in public
                   and not line.strip().startswith(("import ", "from "))}
    return secret


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rel") / "student-bundle"
    proc = _cli("release", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_release_has_what_students_need(bundle: Path) -> None:
    for rel in ("pyproject.toml", "src/day25/__init__.py", "src/day25/cli.py",
                "exercises/catalogue.toml", "tests/public", "tests/conftest.py"):
        assert (bundle / rel).exists(), rel
    stubs = {p.name for p in (COURSE / "exercises").glob("*.py")}
    assert stubs and stubs <= {p.name for p in (bundle / "exercises").glob("*.py")}
    for stub in stubs:
        shipped = (bundle / "exercises" / stub).read_bytes()
        assert shipped == (COURSE / "exercises" / stub).read_bytes()
    assert not [p for p in bundle.rglob("*") if p.suffix in {".so", ".pyd", ".o"}]


def test_release_leaks_no_solution_hidden_test_or_mutant(bundle: Path) -> None:
    files = [p for p in bundle.rglob("*") if p.is_file()]
    rels = [p.relative_to(bundle).as_posix() for p in files]
    for rel in rels:
        assert not rel.startswith(("solutions/", "tests/hidden", "tests/mutants",
                                   "tests/alternatives", "tests/hostile", "tests/grading")), rel
    solution_bytes = {p.read_bytes() for p in (COURSE / "solutions").glob("*.py")}
    hidden_bytes = {p.read_bytes() for p in (COURSE / "tests" / "hidden").glob("*.py")
                    if p.stat().st_size > 200}
    secret = _secret_lines()
    assert secret, "the check must have something to look for"
    for path in files:
        data = path.read_bytes()
        assert data not in solution_bytes and data not in hidden_bytes, path
        text = data.decode("utf-8", "replace")
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path} quotes solution/hidden lines: {leaked[:3]}"


def test_release_refuses_an_existing_folder(bundle: Path) -> None:
    proc = _cli("release", bundle)
    assert proc.returncode == 2 and "already exists" in proc.stdout


def test_gradescope_zip(tmp_path: Path) -> None:
    out = tmp_path / "autograder.zip"
    proc = _cli("gradescope", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder"} <= names
        for script in ("setup.sh", "run_autograder"):
            assert (zf.getinfo(script).external_attr >> 16) & 0o111, f"{script} not executable"
        run = zf.read("run_autograder").decode()
        assert "day25 grade /autograder/submission --single" in run
        assert "/autograder/results/results.json" in run
        for hidden in (COURSE / "tests" / "hidden").glob("test_*.py"):
            assert f"source/tests/hidden/{hidden.name}" in names
        assert "source/exercises/catalogue.toml" in names
        assert "source/src/day25/course/grading/verdict.py" in names
        assert not any(n.startswith("source/solutions") for n in names)
        assert not any("__pycache__" in n for n in names)
        assert not any(n.endswith((".so", ".pyd", ".o")) for n in names), sorted(names)


def test_gradescope_layout_grades_into_results_json(tmp_path: Path) -> None:
    """Run the same command run_autograder runs, on a Gradescope-shaped submission."""
    submission = tmp_path / "submission"
    submission.mkdir()
    module = COURSE / "solutions" / "priority_ordering.py"
    (submission / module.name).write_text(module.read_text())
    out = tmp_path / "grade"
    proc = _cli("grade", submission, "--single", "--out", out)
    assert proc.returncode == 0, proc.stdout[-2000:]
    results = (out / "submission" / "results.json").read_text()
    assert '"score": 25' in results
