"""The student's workspace: only what a student works on, never overwritten, checkable."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from day25.course.answers import BEGIN
from day25.course.catalogue import load_catalogue
from day25.course.student.workspace import MANIFEST, WORKSPACE_DIR, open_workspace, prepare

ROOT = Path(__file__).resolve().parents[1]
STUDENT_FILES = {
    *(f"notebooks/{p.name}" for p in (ROOT / "notebooks").iterdir()
      if p.suffix in (".ipynb", ".md")),
    *(p.relative_to(ROOT).as_posix() for p in (ROOT / "exercises").rglob("*")
      if p.suffix in (".py", ".ipynb", ".toml") and "__pycache__" not in p.parts),
    *(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests" / "public").rglob("*.py")
      if "__pycache__" not in p.parts),
    "tests/conftest.py", "pytest.ini", MANIFEST,
}
#: each project's page, the full protocol its stub, notebook and public tests cite
PAGES = {f"docs/exercises/{e.id}.md" for e in load_catalogue(ROOT).exercises}
STUDENT_FILES |= PAGES
#: a file a workspace file names in backquotes: ``docs/exercises/once_semantics.md``
CITED = re.compile(r"`{1,2}((?:\.\./)*[\w.-]+(?:/[\w.-]+)+\.(?:md|py|ipynb|toml|ini))`{1,2}")


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _day25(*args: str, cwd: Path, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def _small_course(tmp_path: Path) -> Path:
    """A copy of the course's student side, to change its lessons."""
    course = tmp_path / "course"
    for rel in ("exercises", "notebooks", "docs/exercises", "tests/public"):
        shutil.copytree(ROOT / rel, course / rel, ignore=shutil.ignore_patterns(".*", "__py*"))
    for rel in ("tests/conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / rel, course / rel)
    return course


def test_a_workspace_holds_the_lessons_and_stubs_only(tmp_path: Path) -> None:
    ws = open_workspace(ROOT, here=tmp_path)
    assert ws.path == tmp_path / WORKSPACE_DIR
    assert _files(ws.path) == STUDENT_FILES
    for rel in STUDENT_FILES - {MANIFEST, "pytest.ini"}:
        text = (ws.path / rel).read_text(encoding="utf-8")
        assert BEGIN not in text, f"{rel} holds an answer"
        if rel.endswith((".py", ".md")) and not rel.startswith("notebooks/"):
            assert text == (ROOT / rel).read_text(encoding="utf-8"), rel
    for stub in (ROOT / "exercises").glob("*.py"):
        assert (ws.path / "exercises" / stub.name).read_bytes() != \
            (ROOT / "solutions" / stub.name).read_bytes()
    assert ws.first_lesson() == "notebooks/01_overview_and_basic_usage.ipynb"


def test_every_file_the_stubs_and_checks_cite_is_in_the_workspace(tmp_path: Path) -> None:
    """The stubs, the exercise notebooks and the public tests send the student to files
    (the projects' pages: "The full protocol: `docs/exercises/chat_broadcasting.md`");
    each must open in the workspace, where JupyterLab shows nothing else."""
    ws = open_workspace(ROOT, here=tmp_path).path
    cited: dict[str, set[str]] = {}
    for path in [*(ws / "exercises").rglob("*"), *(ws / "tests").rglob("*")]:
        if path.suffix in (".py", ".ipynb"):
            for name in CITED.findall(path.read_text(encoding="utf-8")):
                base = path.parent if name.startswith("../") else ws
                cited.setdefault(name, set()).add(path.relative_to(ws).as_posix())
                assert (base / name).is_file(), f"{sorted(cited[name])} cite {name}: not in {ws}"
    assert {name for name in cited if name.startswith("docs/")} == PAGES


def test_the_last_hint_names_a_page_the_workspace_holds() -> None:
    from day25.course.student.workspace import exercise_page

    for item in load_catalogue(ROOT).ladder():
        assert exercise_page(item) in PAGES, item.id


def test_from_inside_a_course_the_workspace_goes_next_to_it(tmp_path: Path) -> None:
    course = _small_course(tmp_path)
    ws = open_workspace(here=course / "notebooks")
    assert ws.path == course / WORKSPACE_DIR and ws.source == course


def test_rerunning_never_overwrites_the_students_work(tmp_path: Path) -> None:
    course = _small_course(tmp_path)
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "notes.md").write_text("mine")
    (folder / "exercises").mkdir()
    (folder / "exercises" / "chat_broadcasting.py").write_text("# my own start, before day25\n")
    first = prepare(folder, course)
    assert first.kept == ["exercises/chat_broadcasting.py"]
    stub = folder / "exercises" / "once_semantics.py"
    stub.write_text(stub.read_text() + "\n# my answer\n")
    lesson = folder / "notebooks" / "02_subscription_and_removal.ipynb"
    lesson.unlink()
    # the course changes two lessons: one the student never touched, one they edited
    edited = folder / "notebooks" / "03_priority_listeners.ipynb"
    edited.write_text(edited.read_text() + " ")
    for name in ("01_overview_and_basic_usage.ipynb", "03_priority_listeners.ipynb"):
        nb = json.loads((course / "notebooks" / name).read_text())
        nb["cells"].append({"cell_type": "markdown", "id": "update", "metadata": {},
                            "source": "Robert joined the course."})
        (course / "notebooks" / name).write_text(json.dumps(nb))
    again = prepare(folder, course)
    assert stub.read_text().endswith("# my answer\n")
    assert (folder / "exercises" / "chat_broadcasting.py").read_text().startswith("# my own")
    assert (folder / "notes.md").read_text() == "mine"
    assert lesson.is_file() and again.added == [lesson.relative_to(folder).as_posix()]
    assert again.updated == ["notebooks/01_overview_and_basic_usage.ipynb"]
    assert "Robert" in (folder / again.updated[0]).read_text()
    assert "Robert" not in edited.read_text() and edited.read_text().endswith(" ")
    assert set(again.kept) == {"exercises/chat_broadcasting.py", "exercises/once_semantics.py",
                               "notebooks/03_priority_listeners.ipynb"}
    # from inside the workspace, day25 start reuses it (and its course)
    reused = open_workspace(here=folder / "exercises")
    assert reused.path == folder and reused.source == course and not reused.added


def test_with_no_course_anywhere_start_says_where_the_lessons_come_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A student's test: a plain install of the package, run outside the course, was told
    to "install the course's student bundle", which said neither what nor how."""
    from day25.course.student import workspace

    monkeypatch.setattr(workspace, "_find_course", lambda here: None)
    monkeypatch.setattr(workspace, "PACKAGE_MATERIAL", tmp_path / "no-material")
    with pytest.raises(FileNotFoundError) as missing:
        open_workspace(here=tmp_path)
    said = str(missing.value)
    assert "This install of day25 carries no lessons" in said
    assert "the student bundle your instructor hands out does (pip install it" in said
    assert not (tmp_path / WORKSPACE_DIR).exists()


def test_a_copy_of_the_exercises_alone_is_no_course_to_check_with(tmp_path: Path) -> None:
    """A student's test: checking from a folder holding a copy of exercises/ (their own
    repository) took that folder for the course, and every check failed with a
    FileNotFoundError for tests/public/..., blamed on the student's file (exit 1). It
    is a mistake in the command now (exit 2), which says what to do."""
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    shutil.copy(ROOT / "solutions" / "steps" / "01_ties.py",
                tmp_path / "exercises" / "steps" / "01_ties.py")
    done = _as_student("check", "ties", "--path", str(tmp_path / "exercises"), cwd=tmp_path)
    assert done.returncode == 2, done.stdout[-3000:]
    said = _said(done)
    assert "FileNotFoundError" not in said and "FAIL" not in said, said
    assert f"{tmp_path} was taken for the course" in said
    assert "it has no public checks (tests/public/)" in said and "--course" in said
    # and with the course named, the same files are checked
    done = _as_student("check", "ties", "--path", str(tmp_path / "exercises"), "--course",
                       str(ROOT), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]


def test_a_workspace_is_never_the_course_folder(tmp_path: Path) -> None:
    course = _small_course(tmp_path)
    with pytest.raises(ValueError, match="folder of its own"):
        open_workspace(course, course)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    proc = _day25("start", "--no-browser", "--dir", str(course), "--course", str(course),
                  cwd=outside)
    assert proc.returncode == 2 and "folder of its own" in proc.stdout
    proc = _day25("start", "--no-browser", "--course", str(outside), cwd=outside)
    assert proc.returncode == 2 and "is not a course folder" in " ".join(proc.stdout.split())


def test_check_inside_the_workspace_checks_its_exercises(tmp_path: Path) -> None:
    ws = open_workspace(ROOT, here=tmp_path).path
    shutil.copy(ROOT / "solutions" / "chat_broadcasting.py", ws / "exercises")
    done = _day25("check", "chat_broadcasting", cwd=ws / "notebooks")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1/1 exercises pass" in done.stdout
    todo = _day25("check", "once_semantics", cwd=ws)
    assert todo.returncode == 1, todo.stdout[-3000:]
    assert "NotImplementedError" in todo.stdout


def _student_env() -> dict[str, str]:
    """A student's shell: no grader's $DAY25_COURSE_ROOT (nor any other DAY25_ setting)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DAY25_")}


def _as_student(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=600,
                          env={**_student_env(), "COLUMNS": "200"})


def _said(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join(proc.stdout.split())  # rich wraps long paths


def test_check_and_hint_next_to_the_workspace_use_it_and_say_so(tmp_path: Path) -> None:
    """Where ``day25 start`` was run (it made ./day25-workspace), check and hint work on the
    workspace, not on the course checkout the package is installed from."""
    ws = open_workspace(ROOT, here=tmp_path).path
    shutil.copy(ROOT / "solutions" / "steps" / "01_ties.py", ws / "exercises" / "steps")
    course_state = ROOT / "exercises" / ".day25-hints.json"
    before = course_state.read_bytes() if course_state.exists() else None
    done = _as_student("check", "ties", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"your workspace: {ws / 'exercises'}" in _said(done)
    shown = _as_student("hint", "ties", cwd=tmp_path)
    assert shown.returncode == 0, shown.stdout
    assert f"your workspace: {ws / 'exercises'}" in _said(shown)
    assert json.loads((ws / "exercises" / ".day25-hints.json").read_text()) == {"ties": 1}
    while "That was the last hint" not in shown.stdout:
        shown = _as_student("hint", "ties", cwd=tmp_path)
    assert "docs/exercises/priority_ordering.md in your workspace has every rule" \
        in _said(shown) and (ws / "docs/exercises/priority_ordering.md").is_file()
    assert (course_state.read_bytes() if course_state.exists() else None) == before


def test_outside_any_workspace_check_and_hint_refuse_and_write_nothing(tmp_path: Path) -> None:
    """No workspace around: check refuses (exit 2) and says how to make one. A student's
    test: it used to check the course's own stubs, called them "your 01_ties.py" and
    showed progress 0/13, as if their work were gone. Hint refuses rather than keep its
    state in the course's own exercises/."""
    course_state = ROOT / "exercises" / ".day25-hints.json"
    before = course_state.read_bytes() if course_state.exists() else None
    refused = _as_student("check", "ties", cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout[-3000:]
    said = _said(refused)
    assert "no workspace here" in said and "never the course's own" in said, said
    assert f"run `day25 start` (it makes {tmp_path / WORKSPACE_DIR})" in said, said
    assert "--path DIR" in said and "PASS" not in said and "FAIL" not in said, said
    refused = _as_student("hint", "ties", cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout
    assert "no workspace here" in _said(refused) and "day25 start" in _said(refused)
    assert "hint 1/" not in refused.stdout
    assert (course_state.read_bytes() if course_state.exists() else None) == before
    assert not (tmp_path / "exercises").exists()


def test_check_above_the_workspace_finds_it_and_refuses_to_guess_among_several(
        tmp_path: Path) -> None:
    """A student's test: one folder above a workspace made with ``--dir ws``, check used the
    course's stubs. One workspace right below the current folder is the student's; of
    several, check names them and asks which."""
    ws = open_workspace(ROOT, tmp_path / "ws", here=tmp_path).path
    shutil.copy(ROOT / "solutions" / "steps" / "01_ties.py", ws / "exercises" / "steps")
    done = _as_student("check", "ties", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"your workspace: {ws / 'exercises'}" in _said(done)
    other = open_workspace(ROOT, tmp_path / "other", here=tmp_path).path
    refused = _as_student("check", "ties", cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout[-3000:]
    said = _said(refused)
    assert f"workspaces below this folder: {other}, {ws}" in said, said
    assert "PASS" not in said and "FAIL" not in said, said


def test_the_graders_course_root_still_wins(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """$DAY25_COURSE_ROOT (the grader's sessions) chooses the course as before, even next to
    a workspace; --course and --path choose too."""
    from day25.course.student.workspace import student_exercises

    ws = open_workspace(ROOT, here=tmp_path).path
    monkeypatch.delenv("DAY25_COURSE_ROOT", raising=False)
    found = student_exercises(here=tmp_path)
    assert (found.course, found.folder, found.workspace) == (ws, ws / "exercises", ws)
    monkeypatch.setenv("DAY25_COURSE_ROOT", str(ROOT))
    found = student_exercises(here=tmp_path)
    assert (found.course, found.folder, found.workspace) == (ROOT, ROOT / "exercises", None)
    found = student_exercises(course=ws, path=tmp_path, here=ROOT)
    assert (found.course, found.folder, found.workspace) == (ws, tmp_path, None)


def test_pytest_in_a_workspace_inside_the_course_tests_the_workspace(tmp_path: Path) -> None:
    """The workspace's pytest.ini makes it its own pytest root: plain ``pytest`` there checks
    the student's exercises, not the course folder's solutions."""
    course = _small_course(tmp_path)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    ws = open_workspace(here=course).path
    assert ws.parent == course
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/public/test_once_semantics.py"], cwd=ws, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "NotImplementedError" in proc.stdout


@pytest.fixture(scope="module")
def installed_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course's release bundle, built as a wheel and unpacked as pip installs it."""
    tmp = tmp_path_factory.mktemp("bundle")
    for argv in (["-m", "day25.cli", "release", str(tmp / "bundle"), "--course", str(ROOT)],
                 ["-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                  "-w", str(tmp / "dist"), str(tmp / "bundle")]):
        done = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{argv[1:3]} failed:\n{done.stdout}{done.stderr}"
    (wheel,) = (tmp / "dist").glob("day25-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp / "site")
    return tmp / "site"


def test_an_installed_bundle_makes_a_workspace_anywhere(installed_bundle: Path,
                                                        tmp_path: Path) -> None:
    site = installed_bundle
    assert not (site / "day25/course/student/material/exercises/__init__.py").exists()
    code = ("from day25.course.student.workspace import open_workspace\n"
            "import day25, json\nws = open_workspace()\n"
            "print(json.dumps([day25.__file__, str(ws.path), str(ws.source)]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAY25_")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**env, "PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    package, path, source = json.loads(proc.stdout)
    assert package.startswith(str(site))
    assert path == str(tmp_path / WORKSPACE_DIR)
    assert source == str(site / "day25/course/student/material")
    assert _files(tmp_path / WORKSPACE_DIR) == STUDENT_FILES  # the projects' pages too
    manifest = json.loads((tmp_path / WORKSPACE_DIR / MANIFEST).read_text())
    assert manifest["source"] == source


def test_the_release_bundles_folder_makes_the_same_workspace(installed_bundle: Path,
                                                             tmp_path: Path) -> None:
    """A student who installs the bundle's folder (``pip install -e .`` there) gets the
    same workspace as from the course, the projects' pages included."""
    ws = open_workspace(installed_bundle.parent / "bundle", here=tmp_path)
    assert _files(ws.path) == STUDENT_FILES


def test_an_installed_bundles_workspace_holds_the_pages(installed_bundle: Path) -> None:
    material = installed_bundle / "day25/course/student/material"
    assert {rel for rel in PAGES if (material / rel).is_file()} == PAGES
