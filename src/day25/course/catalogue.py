"""The exercise catalogue: ``exercises/catalogue.toml`` as typed, checked data.

Why one file: the grader, the student check, the harness, ``day25 serve``, the
notebooks and the docs all need the same ids, modules, points, suites and
hints; reading them from one place keeps them from drifting apart. Nothing in
the package names an exercise: it asks the catalogue.

Two kinds of entries, one type (:class:`Exercise`): the graded projects
(``[[exercise]]``: :attr:`Catalogue.exercises`, all the grader ever sees) and
the ladder's steps (``[[step]]``: :attr:`Catalogue.steps`), small ungraded
exercises of one idea each that ``day25 check`` walks before the projects
(:meth:`Catalogue.ladder`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CATALOGUE",
    "COURSE_ROOT_ENV",
    "Catalogue",
    "CatalogueError",
    "Exercise",
    "Kind",
    "Suite",
    "find_course_root",
    "load_catalogue",
]

CATALOGUE = Path("exercises") / "catalogue.toml"
#: set by the grader for its sessions and sandboxed processes: an installed
#: (non-editable) package does not live inside the course folder
COURSE_ROOT_ENV = "DAY25_COURSE_ROOT"

Suite = Literal["public", "hidden"]
Kind = Literal["project", "step"]


class CatalogueError(ValueError):
    """The catalogue is missing or malformed; the message names the entry and field."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: the module a student writes, the suites that check it, its hints.

    Two kinds share this type (``kind``): a graded *project* and an ungraded ladder
    *step* (0 points). Where only projects can be meant, they are the exercises, as
    students know them: ``[[exercise]]`` in the catalogue file and
    :attr:`Catalogue.exercises`, all the grader and the gradebook ever see; the steps
    are ``[[step]]`` and :attr:`Catalogue.steps`. ``day25 check`` walks both.

    Paths (``notebook``, ``public_tests``, ``hidden_tests``) are relative to the
    course folder.
    """

    id: str
    title: str
    module: str  # the file a submission holds, e.g. "<id>.py"
    points: int
    hints: tuple[str, ...] = ()
    order: int = 0
    notebook: str = ""
    public_tests: str = ""  # what `day25 check` runs
    hidden_tests: str = ""  # what grades
    subject: str = ""  # scenarios act on this: a class of the module, or "bus" (see protocol)
    serve: str = ""  # the part of the `day25 serve` page this exercise's app serves
    kind: Kind = "project"  # "step": a ladder step (ungraded; its public check is a file)
    leads_to: str = ""  # a step: the project whose idea it practises
    off_limits: tuple[str, ...] = ()  # modules refused to this exercise's module (its own part)

    @property
    def module_name(self) -> str:
        """The module's import name: ``module`` without ``.py``."""
        return self.module.removesuffix(".py")

    def hint(self, n: int) -> str:
        """Hint ``n`` (1-based); hints are revealed one at a time."""
        if not 1 <= n <= len(self.hints):
            raise IndexError(f"{self.id} has hints 1..{len(self.hints)}, not {n}")
        return self.hints[n - 1]

    def tests(self, suite: Suite) -> str:
        """The path of this exercise's ``public`` or ``hidden`` suite: a test file, or a
        folder of test modules and the helper modules beside them."""
        path = self.public_tests if suite == "public" else self.hidden_tests
        if not path:
            raise CatalogueError(f"exercise {self.id!r} names no {suite} test suite")
        return path

    def suite_files(self, root: Path, suite: Suite) -> list[Path]:
        """Every file that decides what ``suite`` says, under the course folder ``root``:
        the suite's own Python files (a file, or each one in its folder, sorted), then
        each ``conftest.py`` from the suite's folder up to ``root``. Empty when the
        suite is missing, so ``not suite_files(...)`` is the check that it is there.

        Why the conftests: they hold fixtures and models the tests compare against, so
        a change there changes grades as surely as a change to a test does.
        """
        path = root / self.tests(suite)
        if path.is_file():
            own = [path]
        elif path.is_dir():
            own = sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        else:
            return []
        folder = path if path.is_dir() else path.parent
        shared = [f / "conftest.py" for f in (folder, *folder.parents)
                  if f.is_relative_to(root) and (f / "conftest.py").is_file()]
        return [*own, *(c for c in shared if c not in own)]


@dataclass(frozen=True)
class Catalogue:
    root: Path
    exercises: tuple[Exercise, ...]  # the graded projects, in order
    steps: tuple[Exercise, ...] = ()  # the ladder's steps, in order (0 points)
    review_modules: tuple[str, ...] = ()  # [review] modules: what an honest solution imports

    def ladder(self) -> list[Exercise]:
        """What ``day25 check`` walks: the steps, then the projects."""
        return [*self.steps, *self.exercises]

    def item(self, item_id: str) -> Exercise:
        """A step or a project, by id."""
        for e in self.ladder():
            if e.id == item_id:
                return e
        known = ", ".join(e.id for e in self.ladder())
        raise KeyError(f"no exercise or step {item_id!r}; the catalogue has {known}")

    @property
    def total_points(self) -> int:
        return sum(e.points for e in self.exercises)

    def get(self, exercise_id: str) -> Exercise:
        for e in self.exercises:
            if e.id == exercise_id:
                return e
        known = ", ".join(e.id for e in self.exercises)
        raise KeyError(f"no exercise {exercise_id!r}; the catalogue has {known}")

    def ids(self) -> list[str]:
        return [e.id for e in self.exercises]

    def serving(self, part: str) -> Exercise:
        """The exercise whose app serves ``part`` of the ``day25 serve`` page."""
        for e in self.exercises:
            if e.serve == part:
                return e
        raise CatalogueError(f"{self.root / CATALOGUE}: no exercise has serve = {part!r}")


def find_course_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The course folder: the nearest folder at or above ``start`` holding the catalogue.

    Without ``start``: ``$DAY25_COURSE_ROOT`` when set (the grader's sessions and
    sandboxed processes), else the current folder or one above it, else the
    checkout this package is installed from (an editable install), so the
    commands work from any folder right after the quick start.
    """
    if start is None and os.environ.get(COURSE_ROOT_ENV):
        return Path(os.environ[COURSE_ROOT_ENV]).resolve()
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOGUE).is_file():
            return folder
    checkout = Path(__file__).resolve().parents[3]
    if start is None and (checkout / CATALOGUE).is_file():
        return checkout
    raise CatalogueError(f"no {CATALOGUE} in {here} or any folder above it")


def _field(entry: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = entry.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CatalogueError(f"{where}: field {name!r} must be {kind.__name__}, got {value!r}")
    return value


def _optional(entry: dict[str, Any], name: str, where: str) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str):
        raise CatalogueError(f"{where}: field {name!r} must be str, got {value!r}")
    return value


def _exercise(entry: Any, where: str) -> Exercise:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a table, got {entry!r}")
    hints = entry.get("hints")
    if not isinstance(hints, list) or not hints or not all(isinstance(h, str) for h in hints):
        raise CatalogueError(f"{where}: 'hints' must be a non-empty list of strings")
    return Exercise(
        id=_field(entry, "id", str, where),
        title=_field(entry, "title", str, where),
        module=_field(entry, "module", str, where),
        points=_field(entry, "points", int, where),
        hints=tuple(hints),
        order=_field(entry, "order", int, where),
        notebook=_field(entry, "notebook", str, where),
        public_tests=_field(entry, "public_tests", str, where),
        hidden_tests=_field(entry, "hidden_tests", str, where),
        subject=_optional(entry, "subject", where),
        serve=_optional(entry, "serve", where),
        off_limits=_modules(entry, "off_limits", where),
    )


def _modules(entry: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(
            isinstance(m, str) and m.startswith("day25.") for m in value):
        raise CatalogueError(f"{where}: {name!r} must be a list of day25 module names, "
                             f"got {value!r}")
    return tuple(value)


def _step(entry: Any, where: str) -> Exercise:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a table, got {entry!r}")
    hints = entry.get("hints")
    if not isinstance(hints, list) or not hints or not all(isinstance(h, str) for h in hints):
        raise CatalogueError(f"{where}: 'hints' must be a non-empty list of strings")
    points = _field(entry, "points", int, where)
    if points != 0:
        raise CatalogueError(f"{where}: a step is ungraded practice: 'points' must be 0")
    return Exercise(
        id=_field(entry, "id", str, where),
        title=_field(entry, "title", str, where),
        module=_field(entry, "module", str, where),
        points=points,
        hints=tuple(hints),
        order=_field(entry, "order", int, where),
        public_tests=_field(entry, "check", str, where),
        kind="step",
        leads_to=_field(entry, "leads_to", str, where),
    )


def load_catalogue(root: str | os.PathLike[str] | None = None) -> Catalogue:
    """Read and check the catalogue of the course at (or above) ``root``."""
    course = find_course_root(root)
    path = course / CATALOGUE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc
    entries = data.get("exercise")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{path}: expected [[exercise]] tables")
    exercises = [_exercise(e, f"{path} exercise #{i + 1}") for i, e in enumerate(entries)]
    steps = [_step(e, f"{path} step #{i + 1}") for i, e in enumerate(data.get("step", []))]
    ids = [e.id for e in (*exercises, *steps)]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{path}: duplicate ids in {ids}")
    projects = set(ids[:len(exercises)])
    for step in steps:
        if step.leads_to not in projects:
            raise CatalogueError(f"{path}: step {step.id!r} leads to {step.leads_to!r}, "
                                 "which is not an exercise")
    return Catalogue(course, tuple(sorted(exercises, key=lambda e: e.order)),
                     tuple(sorted(steps, key=lambda e: e.order)),
                     _review_modules(data.get("review", {}), f"{path} [review]"))


def _review_modules(table: Any, where: str) -> tuple[str, ...]:
    """``[review] modules``: dotted module names (a package allows its submodules)."""
    modules = table.get("modules", []) if isinstance(table, dict) else None
    if not isinstance(modules, list) or not all(
            isinstance(m, str) and m and all(p.isidentifier() for p in m.split("."))
            for m in modules):
        raise CatalogueError(f"{where}: 'modules' must be a list of module names, "
                             f"got {modules!r}")
    return tuple(modules)
