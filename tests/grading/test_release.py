"""``day25 release``: the student bundle, from the last commit, leaks nothing graded."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from day25.course.answers import BEGIN, END, PLACEHOLDER, strip_source

#: one xdist worker runs this module: its tests share an expensive fixture (one bundle)
pytestmark = pytest.mark.xdist_group("release")

COURSE = Path(__file__).resolve().parents[2]
GIT = ["git", "-c", "user.name=Instructor", "-c", "user.email=instructor@example.org"]


def _cli(*args: str | Path, course: Path = COURSE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", *map(str, args),
                           "--course", str(course)],
                          capture_output=True, text=True, timeout=300, cwd=course,
                          env={**os.environ, "COLUMNS": "200"})


def _cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "code"]


def _answer_lines(source: str) -> list[str]:
    """The lines between the answer markers of a cell."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() in (BEGIN, END):
            inside = line.strip() == BEGIN
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


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


def test_the_bundle_has_a_students_readme_that_names_only_what_it_ships(bundle: Path) -> None:
    """The course's README is the instructor's (``.ci/``, solutions, hidden suites, the
    site's build); a student's bundle gets one that starts them off, and no site build that
    would execute lessons without their answers."""
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert "pip install -e . && day25 start" in readme and "day25 check" in readme
    head = subprocess.run(["git", "-C", str(COURSE), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    built = re.search(r"commit `([0-9a-f]{7,40})`", readme)
    assert built and head.startswith(built.group(1)), "the README names the commit it is"
    unshipped_words = (".ci/", "solutions/", "tests/hidden", "instructor.md", "mkdocs",
                       "gradescope")
    for unshipped in unshipped_words:
        assert unshipped not in readme.lower(), unshipped
    named = re.findall(r"`([\w.-]+/[\w./-]*)`", readme)
    assert len(named) >= 5, named
    for rel in named:
        if not rel.startswith("day25-workspace"):  # made by `day25 start`
            assert (bundle / rel).exists(), f"the README names {rel}, which is not shipped"
    assert not (bundle / "mkdocs.yml").exists()
    course = (COURSE / "README.md").read_text(encoding="utf-8")
    students = course[course.index("## For students"):course.index("## For instructors")].strip()
    assert students in readme, "the students' instructions are the course README's, word for word"


def test_a_course_readme_without_the_students_section_is_refused(scratch: Path) -> None:
    readme = scratch / "README.md"
    readme.write_text(readme.read_text().replace("## For students", "## Students"))
    subprocess.run([*GIT, "-C", str(scratch), "commit", "-qam", "renamed"], check=True)
    out = scratch.parent / "bundle"
    proc = _cli("release", out, course=scratch)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "README.md has no '## For students' section" in " ".join(proc.stdout.split())
    assert not out.exists()


def test_a_readme_checked_out_with_crlf_still_gives_its_students_section() -> None:
    """Git for Windows' default (``core.autocrlf=true``) makes ``git archive`` hand the
    README over with CRLF: the release was refused, "README.md has no '## For students'
    section", on every Windows instructor's machine."""
    from day25.course.grading.release import CommittedTree, bundle_readme

    readme = (COURSE / "README.md").read_bytes().replace(b"\n", b"\r\n")
    text = bundle_readme(CommittedTree(COURSE, "abc1234", {"README.md": readme})).decode()
    assert "## For students" in text and "abc1234" in text


def _local_links(bundle: Path) -> list[tuple[Path, str]]:
    """Every (page, relative address) of the bundle's Markdown pages and lessons."""
    found = []
    for page in [*bundle.glob("*.md"), *bundle.glob("docs/**/*.md"),
                 *bundle.glob("notebooks/*.ipynb"), *bundle.glob("exercises/*.ipynb")]:
        text = page.read_text(encoding="utf-8")
        if page.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"]
                             if c["cell_type"] == "markdown")
        found += [(page, address) for address in re.findall(r"\]\(([^)\s#]+)[^)]*\)", text)
                  if not re.match(r"[a-z]+:", address)]
    return found


def test_every_page_in_the_bundle_links_only_to_files_it_ships(bundle: Path) -> None:
    """Pages are an allow-list: the student's guides, the projects' pages, the reference in
    prose. The site's home (the course's quick start), the API page (directives only the
    site's build expands), the benchmarks and the instructor's pages stay behind, and a
    link to one of them keeps its words and loses its target."""
    links = _local_links(bundle)
    assert len(links) >= 15, links
    broken = [(page.relative_to(bundle).as_posix(), address) for page, address in links
              if not (page.parent / address).exists()]
    assert not broken, f"links to files the bundle does not ship: {broken}"
    assert not [p for p in bundle.rglob("*") if p.is_symlink()], "a zip or Windows loses them"
    for left in ("docs/index.md", "docs/reference/api.md", "docs/benchmarks.md",
                 "docs/benchmarks", "docs/guides/instructor.md", "docs/dev", "docs/assets",
                 "docs/lessons"):
        assert (COURSE / left).exists() and not (bundle / left).exists(), left
    course_page = (COURSE / "docs/reference/event-flow.md").read_text(encoding="utf-8")
    page = (bundle / "docs/reference/event-flow.md").read_text(encoding="utf-8")
    assert "[benchmarks](../benchmarks.md)" in course_page
    assert "[benchmarks]" not in page and "(benchmarks)" in page, "the words stay"
    assert "[differences](nexios.md)" in page, "a link to a shipped page stays"


def test_unlink_unshipped_keeps_addresses_anchors_images_and_shipped_links() -> None:
    from day25.course.grading.release import unlink_unshipped

    shipped = {"docs/guides/student.md", "notebooks/01_intro.ipynb"}
    text = ("[guide](student.md#check) [gone](../benchmarks.md#x) [web](https://a.org/b.md) "
            "[here](#top) ![shot](../assets/a.png) [lesson](../../notebooks/01_intro.ipynb) "
            "[no lesson](../lessons/01_intro.ipynb) [folder](../../notebooks)")
    assert unlink_unshipped("docs/guides/scaling.md", text, shipped) == (
        "[guide](student.md#check) gone [web](https://a.org/b.md) "
        "[here](#top) ![shot](../assets/a.png) [lesson](../../notebooks/01_intro.ipynb) "
        "no lesson [folder](../../notebooks)")


def test_release_refuses_an_existing_folder(bundle: Path) -> None:
    proc = _cli("release", bundle)
    assert proc.returncode == 2 and "already exists" in proc.stdout


def test_the_lessons_in_the_bundle_are_the_students_copies(bundle: Path) -> None:
    lessons = sorted((COURSE / "notebooks").glob("*.ipynb"))
    answered = [nb for nb in lessons if any(BEGIN in cell for cell in _cells(nb))]
    assert len(answered) >= 10, "the lessons ask for answers: the check needs some"
    for source in lessons:
        for shipped in (bundle / "notebooks" / source.name,
                        bundle / "src/day25/course/student/material/notebooks" / source.name):
            cells = _cells(shipped)
            want = [strip_source(cell) for cell in _cells(source)]
            assert cells == want, f"{shipped} is not the stripped {source.name}"
            assert all(not c["outputs"] for c in json.loads(shipped.read_text())["cells"]
                       if c["cell_type"] == "code"), f"{shipped} ships outputs"
    # no answer text anywhere: the markers only in the module that strips them, and no
    # answer line that a correct bundle would not hold anyway (in the stripped lessons,
    # the package, the docs...)
    holding = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")
               if p.is_file() and BEGIN.encode() in p.read_bytes()}
    assert "src/day25/course/answers.py" in holding  # the module that strips them
    code = {rel for rel in holding if rel.endswith(".py") and rel.startswith("src/day25/")
            and not rel.startswith("src/day25/course/student/material/")}
    assert holding == code, f"answer markers outside the package's code: {holding - code}"
    allowed = "\n".join(strip_source(c) for nb in lessons for c in _cells(nb))
    allowed += "\n".join(p.read_text(encoding="utf-8", errors="replace")
                         for p in bundle.rglob("*") if p.is_file() and p.suffix != ".ipynb")
    answers = {line for nb in lessons for cell in _cells(nb) for line in _answer_lines(cell)
               if len(line) >= 20 and line not in allowed}
    assert len(answers) >= 15, "the check must have answers to look for"
    for path in bundle.rglob("*.ipynb"):
        text = "\n".join(_cells(path))
        leaked = sorted(line for line in answers if line in text)
        assert not leaked, f"{path} holds answers: {leaked[:3]}"
        assert text.count(PLACEHOLDER) >= sum(c.count(BEGIN) for c in _cells(path))


@pytest.fixture()
def scratch(tmp_path: Path) -> Path:
    """A fresh clone of the course's last commit, as an instructor's checkout."""
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", str(COURSE), str(clone)], check=True, timeout=120)
    return clone


def test_a_solution_copied_over_a_stub_cannot_reach_a_bundle(scratch: Path) -> None:
    """The student flow: copy a solution over its stub, then release."""
    stub = scratch / "exercises" / "once_semantics.py"
    shutil.copy(scratch / "solutions" / "once_semantics.py", stub)
    out = scratch.parent / "bundle"
    proc = _cli("release", out, course=scratch)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "exercises/once_semantics.py differs from its committed version" in proc.stdout
    assert "git checkout -- exercises/once_semantics.py" in proc.stdout
    assert not out.exists()
    # committing it does not help: the committed stub is the solution
    subprocess.run([*GIT, "-C", str(scratch), "commit", "-qam", "my answer"], check=True)
    proc = _cli("release", out, course=scratch)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the committed exercises/once_semantics.py is the solution" in proc.stdout
    assert not out.exists()


def test_uncommitted_edits_are_not_shipped_and_are_reported(scratch: Path) -> None:
    lesson = scratch / "notebooks" / "01_overview_and_basic_usage.ipynb"
    lesson.write_text(lesson.read_text().replace("Bob", "Mallory-uncommitted"))
    (scratch / "notebooks" / "99_draft.ipynb").write_text(lesson.read_text())
    (scratch / "exercises" / ".day25-hints.json").write_text("{}")  # ignored: a student's
    out = scratch.parent / "bundle"
    proc = _cli("release", out, course=scratch)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = " ".join(proc.stdout.split())
    assert "notebooks/01_overview_and_basic_usage.ipynb" in said
    assert "notebooks/99_draft.ipynb" in said and "not shipped" in said
    assert not (out / "notebooks" / "99_draft.ipynb").exists()
    assert not [p for p in out.rglob("*") if p.is_file() and b"Mallory" in p.read_bytes()]
    assert (out / "notebooks" / lesson.name).is_file()


def test_release_needs_a_commit(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(COURSE / "exercises", course / "exercises")
    proc = _cli("release", tmp_path / "out", course=course)
    assert proc.returncode == 2
    assert "builds the bundle from the last commit" in " ".join(proc.stdout.split())
