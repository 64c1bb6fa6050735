"""Load an implementation's two app factories from files, with errors a student can act on.

Why by path and not by import name: ``solutions/`` and ``exercises/`` hold
modules with the same names (``chat_broadcasting.py``), so they cannot both be
importable packages. Loading a file under a private module name keeps the two
apart and never touches ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "CHAT",
    "NOTIFICATIONS",
    "ImplementationError",
    "LoadedApps",
    "NotImplementedYet",
    "course_root",
    "load_apps",
    "resolve_impl",
]

CHAT = "chat_broadcasting"
NOTIFICATIONS = "notification_queueing"


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


def course_root(start: Path | None = None) -> Path | None:
    """The nearest directory, from ``start`` (the cwd) upwards, holding ``exercises/`` or
    ``solutions/``; else the source checkout this package was installed from, if any."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "solutions").is_dir() or (candidate / "exercises").is_dir():
            return candidate
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "exercises").is_dir():
        return checkout
    return None


def resolve_impl(impl: str | None, start: Path | None = None) -> Path:
    """Turn ``--impl`` (``demo``, the default; ``solutions``, ``exercises`` or a path)
    into a directory."""
    if impl in (None, "demo"):
        from day25.serve.demo import DEMO_DIR

        return DEMO_DIR
    if impl not in ("solutions", "exercises"):
        path = Path(impl).expanduser()
        if not path.is_dir():
            raise ImplementationError(
                f"--impl {impl}: no such directory (expected a folder holding "
                f"{CHAT}.py and {NOTIFICATIONS}.py)"
            )
        return path.resolve()
    root = course_root(start)
    if root is None:
        raise ImplementationError(
            "no course folder found: run `day25 serve` inside the course folder "
            "(the one holding exercises/), or pass --impl PATH"
        )
    path = root / impl
    if not path.is_dir():
        raise ImplementationError(f"--impl {impl}: {path} does not exist")
    return path


def _import_file(impl_dir: Path, exercise: str) -> ModuleType:
    path = impl_dir / f"{exercise}.py"
    if not path.is_file():
        raise ImplementationError(f"{impl_dir} has no module {exercise}.py (exercise {exercise!r})")
    name = f"_day25_serve_impl.{exercise}"
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


def _raising_function(exc: BaseException, exercise: str) -> str:
    """The innermost function of the exercise's own file in the traceback: the stub to write."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if Path(f.filename).stem == exercise]
    return (own or frames or [traceback.FrameSummary("?", 0, "create_app")])[-1].name


def _build(impl_dir: Path, exercise: str, kwargs: dict[str, Any], apps: LoadedApps) -> Any:
    try:
        module = _import_file(impl_dir, exercise)
        factory = getattr(module, "create_app", None)
        if not callable(factory):
            raise ImplementationError(f"{impl_dir / exercise}.py has no create_app() function")
        return factory(**kwargs)
    except NotImplementedError as exc:
        function = _raising_function(exc, exercise)
        apps.missing[exercise] = NotImplementedYet(exercise, function, str(exc))
        return None
    except ImplementationError:
        raise
    except Exception as exc:
        raise ImplementationError(
            f"{exercise}.create_app() failed: {type(exc).__name__}: {exc}"
        ) from exc


def load_apps(impl_dir: Path, db_path: Path, **queue_options: Any) -> LoadedApps:
    """Build both apps; a stub that raises ``NotImplementedError`` is recorded, not fatal.
    ``queue_options`` (``ttl_seconds``, ``max_per_user``) go to the notification app."""
    apps = LoadedApps(impl_dir=impl_dir)
    apps.chat = _build(impl_dir, CHAT, {}, apps)
    kwargs = {"db_path": str(db_path), **queue_options}
    apps.notifications = _build(impl_dir, NOTIFICATIONS, kwargs, apps)
    return apps
