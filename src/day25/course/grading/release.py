"""``day25 release``: the student bundle, built from the last commit and an allow-list.

Why an allow-list: a deny-list leaks whatever someone adds next (a new
``solutions_v2/``, a scratch file with answers). Only what a student needs is
copied: lessons, exercise stubs and notebooks, the catalogue, the public tests,
the pages a student reads (:data:`DOCS`; a link to a page left behind keeps its words
and loses its target) and the ``day25`` package. ``solutions/``, ``tests/hidden``, ``tests/mutants``
and every other test folder stay behind; a test proves it file by file.

Why from the last commit: the working tree is where an instructor tries
things, and trying the student flow means copying a solution over a stub. So
every file comes from ``HEAD`` (``git archive``), and the release refuses
while a committed exercise file differs from the working tree (or while a
committed stub *is* its solution): an edit there is either a mistake or an
answer. Other uncommitted edits are simply not shipped, and reported.

Why a README of its own and no ``mkdocs.yml``: the course's README is the instructor's
(CI, solutions, hidden suites), and the site's build executes the lessons, whose
answers the bundle does not have; the student gets a README that starts them off,
and the pages as Markdown.

Why the lessons are stripped: the course's notebooks keep each written answer
between ``### BEGIN SOLUTION`` markers (CI runs them, the site shows them); the
bundle gets the student's copy (:mod:`day25.course.answers`).

The bundle's package also carries the student material (lessons, stubs, public
tests; see :func:`student_material`) under ``day25/course/student/material``, so
``day25 start`` can make a workspace from an installed (non-editable) package.
"""

from __future__ import annotations

import ast
import io
import posixpath
import re
import subprocess
import tarfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from day25.course.answers import count_answers, strip_answers
from day25.course.catalogue import CATALOGUE, Catalogue, load_catalogue

__all__ = [
    "DOCS",
    "INCLUDED",
    "MATERIAL",
    "PAGES",
    "CommittedTree",
    "FolderSource",
    "Release",
    "ReleaseError",
    "Source",
    "build_release",
    "release_files",
    "student_material",
    "unlink_unshipped",
]

INCLUDED = ("LICENSE", "pyproject.toml", "src/day25", "exercises", "notebooks",
            "tests/conftest.py")  # + the public suites' folders, DOCS, and README (below)
#: the site's pages a student reads without the site: the projects' pages, the student's
#: guides and the reference pages written in prose. Not the home page (its quick start is
#: the course's), the API page (directives only the site's build expands), the benchmarks
#: (the team's measurements of the hidden suites), the instructor guide, the contracts, the
#: site's build files, or ``docs/lessons`` (a symlink to ``notebooks/``, which a zip or
#: Windows may not keep: the lessons are in ``notebooks/``).
DOCS = ("docs/exercises", "docs/guides/student.md", "docs/guides/scaling.md",
        "docs/guides/serve-security.md", "docs/cheatsheet.md", "docs/reality-check.md",
        "docs/reference/event-flow.md", "docs/reference/nexios.md")
#: the bundle's README.md: the course's own README is the instructor's (CI, solutions,
#: hidden suites, the site's build), so a student gets this one; ``{commit}`` is filled in
BUNDLE_README = Path(__file__).with_name("bundle_readme.md")
STUDENTS_HEADING = "## For students"  # the course README's section the bundle's README quotes
EXCLUDED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache",
                  ".ruff_cache", ".day25-hints.json"}  # made by tools, in shipped folders
BUILT = {".pyc", ".pyo", ".so", ".pyd", ".o"}
#: where the bundle's package carries the student material (package data)
MATERIAL = "src/day25/course/student/material"
PYTEST_INI = "pytest.ini"
#: the projects' pages (``<id>.md``), in a course folder and in a workspace
PAGES = "docs/exercises"


class ReleaseError(ValueError):
    """The course cannot be released as it is; the message says what to do."""


class Source(Protocol):
    """Course files by relative POSIX path: a commit or a folder."""

    def paths(self) -> list[str]: ...

    def read(self, rel: str) -> bytes: ...


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True)
    except FileNotFoundError as exc:
        raise ReleaseError("git is not installed: day25 release builds from the last commit") \
            from exc
    except subprocess.CalledProcessError as exc:
        raise ReleaseError(
            f"{root} has no git commit to release from ({exc.stderr.decode().strip()}): "
            "day25 release builds the bundle from the last commit, so that an edited stub or a "
            "solution copied over one cannot ship; run it in the course's git repository"
        ) from exc
    return proc.stdout.decode()


@dataclass
class CommittedTree:
    """The course folder's files as committed in ``HEAD`` (read once with ``git archive``)."""

    root: Path
    commit: str = ""
    files: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def read_head(cls, root: Path) -> CommittedTree:
        prefix = _git(root, "rev-parse", "--show-prefix").strip()
        tree = cls(root, _git(root, "rev-parse", "--short", "HEAD").strip())
        data = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", f"HEAD:{prefix}"],
                              capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar:
                if member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    tree.files[member.name] = extracted.read()
        return tree

    def paths(self) -> list[str]:
        return sorted(self.files)

    def read(self, rel: str) -> bytes:
        return self.files[rel]

    def untracked(self, entries: Iterable[str]) -> list[str]:
        """Files under ``entries`` git does not track and does not ignore."""
        out = _git(self.root, "ls-files", "--others", "--exclude-standard", "-z", "--", *entries)
        return sorted(p for p in out.split("\0") if p)


@dataclass(frozen=True)
class FolderSource:
    """A course folder's student side as it is on disk (a repository, a bundle, a
    package's material): its top-level files and ``notebooks/``, ``exercises/``,
    ``docs/exercises/`` and ``tests/``, never a virtualenv or ``.git`` beside them.
    Symlinks and built or cached files are left out."""

    root: Path
    folders: tuple[str, ...] = ("notebooks", "exercises", PAGES, "tests")

    def paths(self) -> list[str]:
        found = [p for p in self.root.iterdir() if p.is_file()]
        for folder in self.folders:
            found += (self.root / folder).rglob("*")
        return sorted(p.relative_to(self.root).as_posix() for p in found
                      if p.is_file() and not p.is_symlink() and _wanted(p.relative_to(self.root)))

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()


def _wanted(rel: PurePosixPath | Path) -> bool:
    if any(part in EXCLUDED_PARTS or part.endswith(".egg-info") for part in rel.parts):
        return False
    # built files are made by the student's install, never shipped
    return rel.suffix not in BUILT


def _under(rel: str, entries: Iterable[str]) -> bool:
    return any(rel == entry or rel.startswith(entry.rstrip("/") + "/") for entry in entries)


def _public_folders(catalogue: Catalogue) -> list[str]:
    return sorted({PurePosixPath(ex.tests("public")).parent.as_posix()
                   for ex in catalogue.exercises})


def student_copy(rel: str, data: bytes) -> tuple[bytes, int]:
    """What a student gets of file ``rel`` (notebooks lose answers and outputs), and how
    many answers that took out."""
    if not rel.endswith(".ipynb"):
        return data, 0
    import nbformat  # here: it is slow to import, and `day25 hint`/`check` never need it

    nb = nbformat.reads(data.decode("utf-8"), as_version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    removed = sum(count_answers(cell.source) for cell in nb.cells if cell.cell_type == "code")
    text: str = nbformat.writes(strip_answers(nb))  # type: ignore[no-untyped-call]
    return text.encode("utf-8") + b"\n", removed


def _pytest_ini(source: Source) -> bytes:
    """The course's pytest settings (``pyproject.toml``) as a workspace's ``pytest.ini``:
    the public tests need them (``asyncio_mode``, markers) wherever they run."""
    names = set(source.paths())
    if PYTEST_INI in names:
        return source.read(PYTEST_INI)
    options = {}
    if "pyproject.toml" in names:
        pyproject = tomllib.loads(source.read("pyproject.toml").decode("utf-8"))
        options = pyproject.get("tool", {}).get("pytest", {}).get("ini_options", {})
    lines = ["[pytest]", "# the course's pytest settings, for the public tests here"]
    for key, value in options.items():
        if key == "testpaths":
            value = ["tests"]
        if isinstance(value, list):
            lines.append(f"{key} =" + "".join(f"\n    {item}" for item in value))
        else:
            lines.append(f"{key} = {value}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def student_material(source: Source, catalogue: Catalogue) -> dict[str, bytes]:
    """What a student's workspace holds, by relative path: the lessons (stripped), the
    exercise stubs, notebooks and catalogue, each project's page (``docs/exercises/<id>.md``:
    the full protocol its stub, notebook, checks and last hint cite; rules and examples,
    never a solution), the public tests and a ``pytest.ini``."""
    exercise_files = {CATALOGUE.as_posix()}
    for ex in catalogue.exercises:
        exercise_files |= {f"exercises/{ex.module}", ex.notebook, f"{PAGES}/{ex.id}.md"}
    exercise_files |= {f"exercises/{step.module}" for step in catalogue.steps}  # the ladder
    public = [*_public_folders(catalogue), "tests/conftest.py"]
    material: dict[str, bytes] = {}
    for rel in source.paths():
        path = PurePosixPath(rel)
        lesson = path.parent.as_posix() == "notebooks" and path.suffix in (".ipynb", ".md")
        if not _wanted(path):
            continue
        if lesson or rel in exercise_files or _under(rel, public):
            material[rel] = student_copy(rel, source.read(rel))[0]
    missing = sorted(exercise_files - material.keys())
    if missing:
        raise ReleaseError(f"the student material lacks {', '.join(missing)}")
    material[PYTEST_INI] = _pytest_ini(source)
    return material


def _code(text: bytes) -> str:
    """A module's code without docstrings or comments, to spot a stub that is its solution."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return text.decode("utf-8", "replace")
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str):
            body[0] = ast.Pass()  # type: ignore[index]
    return ast.dump(tree)


def _refusals(root: Path, tree: CommittedTree, catalogue: Catalogue) -> list[str]:
    problems = []
    for rel in tree.paths():
        if not rel.startswith("exercises/"):
            continue
        path = root / rel
        if not path.is_file() or path.is_symlink() or path.read_bytes() != tree.read(rel):
            problems.append(f"{rel} differs from its committed version: restore it "
                            f"(git checkout -- {rel}) or commit it")
    for ex in catalogue.exercises:
        stub, solution = f"exercises/{ex.module}", root / "solutions" / ex.module
        if stub not in tree.files:
            problems.append(f"{stub} is not committed")
        elif solution.is_file() and _code(tree.read(stub)) == _code(solution.read_bytes()):
            problems.append(f"the committed {stub} is the solution: commit the stub instead")
    return problems


@dataclass
class Release:
    """What a release shipped, from which commit, and the edits it left behind."""

    commit: str
    files: list[Path]
    answers_removed: int = 0
    not_shipped: list[str] = field(default_factory=list)  # uncommitted edits and new files


def _entries(catalogue: Catalogue) -> tuple[str, ...]:
    return (*INCLUDED, *DOCS, *_public_folders(catalogue))


def release_files(tree: CommittedTree, catalogue: Catalogue) -> list[str]:
    """The committed course files (relative paths) that go into the bundle."""
    entries = _entries(catalogue)
    return [rel for rel in tree.paths() if _under(rel, entries) and _wanted(PurePosixPath(rel))]


LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(([^)\s]+)\)")


def unlink_unshipped(rel: str, text: str, shipped: set[str]) -> str:
    """Page ``rel`` with each link to a course file the bundle does not ship replaced by
    its words: a student's page never sends them to a file that is not there. Addresses
    (``https:``), anchors and images stay as they are."""
    def target(match: re.Match[str]) -> str:
        words, address = match.group(1), match.group(2)
        path = address.split("#", 1)[0]
        if not path or re.match(r"[a-z][a-z0-9+.-]*:", path):
            return match.group(0)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
        there = resolved in shipped or any(s.startswith(resolved + "/") for s in shipped)
        return match.group(0) if there else words

    return LINK.sub(target, text)


def _write(out: Path, rel: str, data: bytes) -> None:
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def bundle_readme(tree: CommittedTree) -> bytes:
    """The bundle's README.md: :data:`BUNDLE_README` around the course README's "For
    students" section (one text for both, so the commands a student reads never differ)."""
    # Git for Windows' default (core.autocrlf) hands the README over with CRLF line ends
    course = tree.files.get("README.md", b"").decode("utf-8").replace("\r\n", "\n")
    found = re.search(rf"^{re.escape(STUDENTS_HEADING)}\n.*?(?=^## |\Z)", course, re.M | re.S)
    if found is None:
        raise ReleaseError(f"README.md has no {STUDENTS_HEADING!r} section: the bundle's "
                           "README takes the students' instructions from it")
    template = BUNDLE_README.read_text(encoding="utf-8")
    text = template.replace("{for_students}", found.group(0).strip() + "\n")
    return text.replace("{commit}", tree.commit).encode("utf-8")


def build_release(root: Path, out: Path) -> Release:
    """Write the bundle of ``root``'s last commit into ``out`` (which must not exist yet)."""
    if not (root / CATALOGUE).is_file():
        raise ReleaseError(f"{root} is not a course folder (no {CATALOGUE})")
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new folder")
    tree = CommittedTree.read_head(root)
    catalogue = load_catalogue(root)
    problems = _refusals(root, tree, catalogue)
    if problems:
        raise ReleaseError("not released, the exercises must be as committed:\n  "
                           + "\n  ".join(problems))
    readme = bundle_readme(tree)  # before anything is written: a refusal leaves no folder
    rels = release_files(tree, catalogue)
    release = Release(tree.commit, [Path(rel) for rel in rels])
    for rel in rels:
        data = tree.read(rel)
        shipped, removed = student_copy(rel, data)
        if rel.endswith(".md"):
            shipped = unlink_unshipped(rel, shipped.decode("utf-8"), set(rels)).encode()
        release.answers_removed += removed
        _write(out, rel, shipped)
        here = root / rel
        if not here.is_file() or here.read_bytes() != data:
            release.not_shipped.append(rel)
    _write(out, "README.md", readme)
    release.files.append(Path("README.md"))
    for rel, data in student_material(tree, catalogue).items():
        _write(out, f"{MATERIAL}/{rel}", data)
        release.files.append(Path(MATERIAL, rel))
    release.not_shipped += tree.untracked(_entries(catalogue))
    return release
