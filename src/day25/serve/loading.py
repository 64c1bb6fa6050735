"""Load an implementation's two app factories from files, with errors a student can act on.

Which exercises serve the page's two parts, and from which module files, is
the catalogue's to say (``serve = "chat"`` / ``"notifications"`` in
``exercises/catalogue.toml``). Why by path and not by import name:
``solutions/`` and ``exercises/`` hold modules with the same names, so they
cannot both be importable packages. Loading a file under a private module name
keeps the two apart and never touches ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from day25.course.catalogue import Catalogue, CatalogueError, Exercise, find_course_root
from day25.course.catalogue import load_catalogue as _load_catalogue

__all__ = [  # and CHAT, NOTIFICATIONS: see __getattr__
    "ImplementationError",
    "LoadedApps",
    "NotImplementedYet",
    "load_apps",
    "resolve_impl",
]

#: the page's parts, as the catalogue's ``serve`` field names them
PARTS = {"CHAT": "chat", "NOTIFICATIONS": "notifications"}


class ImplementationError(Exception):
    """The chosen implementation cannot be served (missing dir or module, crash on import)."""


@dataclass(frozen=True)
class NotImplementedYet:
    """An exercise whose stub still raises ``NotImplementedError``."""

    exercise: str
    function: str
    detail: str = ""

    @property
    def message(self) -> str:
        where = f"{self.exercise}.{self.function}()"
        text = f"exercise {self.exercise!r} is not implemented yet: {where} raises"
        text += " NotImplementedError"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class LoadedApps:
    """The ASGI apps of one implementation; ``None`` where the stub is not implemented."""

    impl_dir: Path
    chat: Any = None
    notifications: Any = None
    missing: dict[str, NotImplementedYet] = field(default_factory=dict)


def _catalogue() -> Catalogue:
    try:
        return _load_catalogue()
    except CatalogueError as exc:
        raise ImplementationError(
            f"{exc}: run `day25 serve` inside the course folder (the one holding exercises/)"
        ) from exc


def _serving(part: str) -> Exercise:
    try:
        return _catalogue().serving(part)
    except CatalogueError as exc:
        raise ImplementationError(str(exc)) from exc


def __getattr__(name: str) -> str:
    """``CHAT`` and ``NOTIFICATIONS``: the ids of the exercises serving those parts."""
    if name in PARTS:
        return _serving(PARTS[name]).id
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_impl(impl: str | None, start: Path | None = None) -> Path:
    """Turn ``--impl`` (``demo``, the default; ``solutions``, ``exercises`` or a path)
    into a directory."""
    if impl in (None, "demo"):
        from day25.serve.demo import DEMO_DIR

        return DEMO_DIR
    if impl not in ("solutions", "exercises"):
        path = Path(impl).expanduser()
        if not path.is_dir():
            modules = " and ".join(_serving(part).module for part in PARTS.values())
            raise ImplementationError(
                f"--impl {impl}: no such directory (expected a folder holding {modules})"
            )
        return path.resolve()
    try:
        root: Path | None = find_course_root(start)
    except CatalogueError:
        root = None
    if root is None:
        raise ImplementationError(
            "no course folder found: run `day25 serve` inside the course folder "
            "(the one holding exercises/), or pass --impl PATH"
        )
    path = root / impl
    if not path.is_dir():
        raise ImplementationError(f"--impl {impl}: {path} does not exist")
    return path


def data_folder(start: Path | None = None) -> Path:
    """Where ``day25 serve`` keeps its data by default: ``.day25/`` in the course folder or
    student workspace around ``start`` (the current folder), else in ``start`` itself.

    Why there and not in the home folder: a student's work, its database included,
    stays in the folder they work in (and is deleted with it); the course's
    ``.gitignore`` keeps it out of git.
    """
    here = (start or Path.cwd()).resolve()
    try:
        return find_course_root(here) / ".day25"
    except CatalogueError:
        return here / ".day25"


def _import_file(impl_dir: Path, exercise: Exercise) -> ModuleType:
    path = impl_dir / exercise.module
    if not path.is_file():
        raise ImplementationError(
            f"{impl_dir} has no module {exercise.module} (exercise {exercise.id!r})")
    name = f"_day25_serve_impl.{exercise.module_name}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImplementationError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except NotImplementedError:
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        raise ImplementationError(f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _raising_function(exc: BaseException, module_name: str) -> str:
    """The innermost function of the exercise's own file in the traceback: the stub to write."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if Path(f.filename).stem == module_name]
    return (own or frames or [traceback.FrameSummary("?", 0, "create_app")])[-1].name


def _build(impl_dir: Path, exercise: Exercise, kwargs: dict[str, Any], apps: LoadedApps) -> Any:
    try:
        module = _import_file(impl_dir, exercise)
        factory = getattr(module, "create_app", None)
        if not callable(factory):
            raise ImplementationError(f"{impl_dir / exercise.module} has no create_app() function")
        return factory(**kwargs)
    except NotImplementedError as exc:
        function = _raising_function(exc, exercise.module_name)
        apps.missing[exercise.id] = NotImplementedYet(exercise.id, function, str(exc))
        return None
    except ImplementationError:
        raise
    except Exception as exc:
        raise ImplementationError(
            f"{exercise.module_name}.create_app() failed: {type(exc).__name__}: {exc}"
        ) from exc


def load_apps(
    impl_dir: Path, db_path: Path, *, broker: str | None = None, **queue_options: Any
) -> LoadedApps:
    """Build both apps; a stub that raises ``NotImplementedError`` is recorded, not fatal.
    ``queue_options`` (``ttl_seconds``, ``max_per_user``) go to the notification app;
    ``broker`` (``day25 serve --broker``) to both."""
    apps = LoadedApps(impl_dir=impl_dir)
    shared: dict[str, Any] = {} if broker is None else {"broker": broker}
    apps.chat = _build(impl_dir, _serving(PARTS["CHAT"]), dict(shared), apps)
    kwargs = {"db_path": str(db_path), **queue_options, **shared}
    apps.notifications = _build(impl_dir, _serving(PARTS["NOTIFICATIONS"]), kwargs, apps)
    return apps
