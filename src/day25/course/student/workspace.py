"""A student's workspace: the folder ``day25 start`` opens, holding only what a student works on.

Why a folder of its own: the course folder holds the answers (``solutions/``,
``tests/hidden/``, lessons with their answers in), and JupyterLab's file
browser shows everything under the folder it serves. The workspace holds the
lessons (the student's copies, answers taken out), the exercise stubs and
notebooks, and what ``day25 check`` needs there (the catalogue, the public
tests, a ``pytest.ini``): the release's student material
(:func:`day25.course.grading.release.student_material`). ``day25 check`` run
inside it checks its exercises, since it holds ``exercises/catalogue.toml``.

It also holds each project's page, ``docs/exercises/<id>.md`` (:func:`exercise_page`):
the full protocol, which the stubs, the exercise notebooks, the public tests and
the last hint send the student to.

Why it never overwrites: like ``rustlings init``, it is the student's work.
A file is written only when it is missing, or when it is still byte for byte
what the workspace last wrote there (then a newer course version replaces it);
``.day25-workspace.json`` remembers what was written.

Where from: ``--course`` or the course folder around (a repository or a
release bundle), else the material a release bundle's package carries
(``day25/course/student/material``), so an installed bundle works anywhere.

Which exercises ``day25 check`` and ``day25 hint`` use
(:func:`student_exercises`): those of the workspace ``day25 start`` opens from
the current folder (the one you are in, or ``./day25-workspace``), found by the
same finder (:func:`default_workspace`). Why: a student who ran ``day25 start``
in a folder and stayed there had the course checkout's stubs checked instead of
their work, and their hints written into the checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from day25.course.catalogue import (
    CATALOGUE,
    COURSE_ROOT_ENV,
    CatalogueError,
    Exercise,
    find_course_root,
    load_catalogue,
)
from day25.course.grading.release import PAGES, FolderSource, student_material

__all__ = ["MANIFEST", "PACKAGE_MATERIAL", "PAGES", "WORKSPACE_DIR", "StudentExercises",
           "Workspace", "default_workspace", "exercise_page", "find_workspace", "open_workspace",
           "prepare", "student_exercises"]

WORKSPACE_DIR = "day25-workspace"
MANIFEST = ".day25-workspace.json"
#: the student material a release bundle's package carries (absent in the course repository)
PACKAGE_MATERIAL = Path(__file__).resolve().parent / "material"


@dataclass
class Workspace:
    """A prepared workspace and what preparing it did."""

    path: Path
    source: Path | None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # untouched files, newer course version
    kept: list[str] = field(default_factory=list)  # the student's edits, left as they are

    def first_lesson(self) -> str:
        lessons = sorted((self.path / "notebooks").glob("*.ipynb"))
        return lessons[0].relative_to(self.path).as_posix() if lessons else ""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def exercise_page(item: Exercise) -> str:
    """The page with every rule of ``item``: its project's, or for a step the page of the
    project it leads to."""
    return f"{PAGES}/{item.id if item.kind == 'project' else item.leads_to}.md"


def find_workspace(start: Path) -> Path | None:
    """The workspace at or above ``start``, if any."""
    here = start.resolve()
    return next((f for f in (here, *here.parents) if (f / MANIFEST).is_file()), None)


def _manifest(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def prepare(folder: Path, source: Path | None) -> Workspace:
    """Create ``folder`` or bring it up to date from the course at ``source``, never
    overwriting a file the student changed (or made)."""
    folder = folder.resolve()
    workspace = Workspace(folder, source)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(folder)
    raw = manifest.get("files")
    written = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    if source is None:
        return workspace
    catalogue = load_catalogue(source)
    material = student_material(FolderSource(source), catalogue)
    for rel, data in material.items():
        target = folder / rel
        if target.is_symlink() or (target.exists() and not target.is_file()):
            workspace.kept.append(rel)
            continue
        if not target.exists():
            workspace.added.append(rel)
        else:
            current = _digest(target.read_bytes())
            if current == _digest(data):
                written[rel] = current
                continue
            if written.get(rel) != current:  # the student's version
                workspace.kept.append(rel)
                continue
            workspace.updated.append(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written[rel] = _digest(data)
    record = {"source": str(source), "files": dict(sorted(written.items()))}
    temporary = folder / (MANIFEST + ".tmp")
    temporary.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, folder / MANIFEST)
    return workspace


def _is_course(folder: Path) -> bool:
    return (folder / CATALOGUE).is_file() and not (folder / MANIFEST).is_file()


def _find_course(here: Path | None) -> Path | None:
    """The course folder at or above ``here``; without ``here``, also an editable install's
    checkout (see :func:`~day25.course.catalogue.find_course_root`)."""
    try:
        found = find_course_root(here)
    except CatalogueError:
        return None
    return found if _is_course(found) else None


def _source(course: Path | None, folder: Path, here: Path) -> Path | None:
    """Where the workspace's files come from, or None to leave an existing workspace as is."""
    if course is not None:
        if not (course / CATALOGUE).is_file():
            raise FileNotFoundError(f"{course} is not a course folder (no {CATALOGUE})")
        return course.resolve()
    recorded = _manifest(folder).get("source")
    if isinstance(recorded, str) and _is_course(Path(recorded)):
        return Path(recorded)
    if (folder / MANIFEST).is_file():
        return PACKAGE_MATERIAL if _is_course(PACKAGE_MATERIAL) else None
    found = _find_course(here) or _find_course(None)
    if found is not None:
        return found
    if _is_course(PACKAGE_MATERIAL):
        return PACKAGE_MATERIAL
    raise FileNotFoundError(
        "no course here: run 'day25 start' inside the course folder (or a folder you made "
        "with it), or pass --course PATH. This install of day25 carries no lessons: the "
        "student bundle your instructor hands out does (pip install it, then run "
        "'day25 start' anywhere)"
    )


def default_workspace(here: Path) -> Path:
    """The workspace ``day25 start`` opens from ``here`` (made yet or not): the one around
    ``here``, else ``day25-workspace`` in the course folder around ``here``, else in
    ``here``."""
    here = here.resolve()
    return find_workspace(here) or (_find_course(here) or here) / WORKSPACE_DIR


def open_workspace(course: Path | None = None, folder: Path | None = None,
                   here: Path | None = None) -> Workspace:
    """The workspace ``day25 start`` opens, created or brought up to date: ``folder``, else
    :func:`default_workspace` of ``here`` (the current folder)."""
    here = (here or Path.cwd()).resolve()
    target = (folder or default_workspace(here)).resolve()
    source = _source(course, target, here)
    if source is not None and target in (source, *source.parents):
        raise ValueError(f"the workspace must be a folder of its own, not the course folder "
                         f"{source} or one above it; choose another --dir")
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} is a file, not a folder: choose another --dir")
    return prepare(target, source)


@dataclass(frozen=True)
class StudentExercises:
    """The exercises ``day25 check`` and ``day25 hint`` work on, and the course that checks
    them."""

    course: Path  # the course folder (or workspace) whose catalogue and public tests check
    folder: Path  # the exercises folder
    workspace: Path | None  # the workspace ``folder`` is in; None: not in one
    chosen: bool  # --course, --path or $DAY25_COURSE_ROOT chose them, not the current folder
    start_makes: Path  # the workspace `day25 start` would make here
    below: tuple[Path, ...] = ()  # workspaces right below the current folder (none was taken)

    @property
    def stray(self) -> bool:
        """Nothing chose these exercises and no workspace holds them: they are the
        course's own stubs, never a student's work."""
        return self.workspace is None and not self.chosen

    def describe(self) -> str:
        """One line saying which folder this is."""
        if self.workspace is not None:
            return f"your workspace: {self.folder}"
        return f"exercises folder: {self.folder} (not in a workspace)"

    def no_workspace(self, to: str) -> str:
        """Why a command that works on a student's workspace found none, and what to do."""
        if self.below:
            listed = ", ".join(map(str, self.below))
            return (f"no workspace here; workspaces below this folder: {listed}: cd into "
                    "yours (or pass --path DIR)")
        return (f"no workspace here to {to} (never the course's own exercises/): run "
                f"`day25 start` (it makes {self.start_makes}) and {to} there, or pass "
                "--path DIR")


def student_exercises(course: Path | None = None, path: Path | None = None,
                      here: Path | None = None) -> StudentExercises:
    """Where a student's exercises are: ``path`` (else ``exercises/``) of ``course``, else of
    ``$DAY25_COURSE_ROOT`` (the grader's sessions), else of the workspace ``day25 start``
    opens from ``here`` (:func:`default_workspace`) when it is made, else of the one workspace
    right below ``here``, else of the course folder
    :func:`~day25.course.catalogue.find_course_root` finds (raises its CatalogueError): then
    they are :attr:`StudentExercises.stray`, which ``check`` and ``hint`` refuse."""
    here = (here or Path.cwd()).resolve()
    chosen = course is not None or bool(os.environ.get(COURSE_ROOT_ENV))
    around = default_workspace(here)
    below = () if chosen or (around / MANIFEST).is_file() else _workspaces_below(here)
    if course is not None:
        root = course.resolve()
    elif not chosen and (around / MANIFEST).is_file():
        root = around
    elif len(below) == 1:  # `day25 start --dir ws` was run here
        root, below = below[0], ()
    else:
        root = find_course_root()
    folder = (path or root / "exercises").resolve()
    return StudentExercises(root, folder, find_workspace(folder), chosen or path is not None,
                            around, below)


def _workspaces_below(here: Path) -> tuple[Path, ...]:
    try:
        return tuple(sorted(f for f in here.iterdir() if (f / MANIFEST).is_file()))
    except OSError:
        return ()
