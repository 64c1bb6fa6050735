"""Importing the submission's module inside the sandbox, and saying why it failed.

Why a module of its own: both modes import the student's code, one once
(scenarios) and one afresh for every app (apps, see :class:`FreshImport`), and
both must tell the student the same thing when the import itself fails.

The course's ready-made helpers are off limits to a graded module
(:data:`OFF_LIMITS`): ``day25.realtime`` does presence, the broadcast and the
queue, which are what exercises 3 and 4 grade. An exercise may refuse more of
``day25`` (the catalogue's ``off_limits``): exercise 1 grades an emitter of the
student's own, so the bundled bus is refused there. :func:`forbid_off_limits`
runs before the submission does, so ``import day25.realtime``, ``from day25
import Rooms`` and ``importlib.import_module("day25.serve")`` all raise
:class:`OffLimitsImport`, whose message the student reads alone, without a
traceback, at import or wherever the import happens (``create_app()``). It is a
sentence for an honest student, not a wall: the grade comes from behaviour.
"""

from __future__ import annotations

import errno
import importlib
import importlib.abc
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from types import CodeType, ModuleType
from typing import Any

from day25.course.protocol import IMPORT_FAILED

__all__ = ["OFF_LIMITS", "FreshImport", "OffLimitsImport", "describe", "forbid_off_limits",
           "import_error", "import_once", "not_done_yet", "off_limits_in", "off_limits_message",
           "said_safely", "where_in", "your_traceback"]

#: packages no graded module may import (the bus, ``day25`` itself, stays allowed)
OFF_LIMITS = ("day25.realtime", "day25.serve")
#: what a refused module does, for the student's sentence: the part they write themselves
_DOES = {
    "day25.realtime": "presence, the broadcast and the queue",
    "day25.serve": "presence, the broadcast and the queue",
}
_BUS = "the listeners, their order and the emit"
#: the day25 names the sentence says are fine, those of them not refused
_FINE = ("EventBus", "install", "EventPriority")


#: day25's names dropped by :func:`forbid_off_limits`, with the refused module defining each
_DROPPED: dict[str, str] = {}


class OffLimitsImport(ImportError):
    """A graded module imported one of :data:`OFF_LIMITS`; the message says what to do."""


def _refused_by(name: str, packages: tuple[str, ...]) -> str | None:
    return next((p for p in packages if name == p or name.startswith(p + ".")), None)


def off_limits_message(package: str) -> str:
    """The sentence for a module that imported ``package`` or one of its names."""
    import day25

    lazy: dict[str, str] = getattr(day25, "_LAZY", {})
    names = sorted({*(n for n, m in lazy.items() if _refused_by(m, (package,))),
                    *(n for n, p in _DROPPED.items() if p == package)})
    such = f", such as {', '.join(names)}" if names else ""
    fine = ", ".join(n for n in _FINE if n in vars(day25))
    return (f"{package} is off limits in this exercise: it does {_DOES.get(package, _BUS)}, "
            f"which is what is graded, so the import was refused. Remove `import {package}` "
            f"(or `from day25 import ...` of its names{such}) and write that part in your "
            f"module; `from day25 import {fine}` is fine.")


class _OffLimitsFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: refuses the off-limits packages by name."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        self.packages = packages

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        package = _refused_by(fullname, self.packages)
        if package is not None:
            raise OffLimitsImport(off_limits_message(package), name=fullname)
        return None


def forbid_off_limits(extra: Sequence[str] = ()) -> None:
    """Make every way of importing :data:`OFF_LIMITS` and ``extra`` raise
    :class:`OffLimitsImport`.

    The zygote may have preloaded them, so they are also dropped from
    ``sys.modules`` (what the runner already holds keeps working), from ``day25``'s
    attributes, names defined in them included (``EventBus`` when ``day25.bus`` is
    refused), and from its lazily re-exported names (which then go through the
    finder again); ``from day25 import`` of a dropped name raises the same sentence.
    """
    if any(isinstance(f, _OffLimitsFinder) for f in sys.meta_path):
        return
    import day25

    packages = (*OFF_LIMITS, *extra)
    for name in [n for n in sys.modules if _refused_by(n, packages)]:
        del sys.modules[name]
    for attr, value in list(vars(day25).items()):
        home = (f"day25.{attr}" if isinstance(value, ModuleType)
                else str(getattr(value, "__module__", "")))
        if home != "day25" and (package := _refused_by(home, packages)):
            delattr(day25, attr)
            if not isinstance(value, ModuleType):
                _DROPPED[attr] = package
    lazy: dict[str, str] = getattr(day25, "_LAZY", {})
    for attr, module in lazy.items():
        if _refused_by(module, packages):
            vars(day25).pop(attr, None)
    sys.meta_path.insert(0, _OffLimitsFinder(packages))
    if _DROPPED:
        lookup = vars(day25)["__getattr__"]

        def refusing(name: str) -> Any:
            if name in _DROPPED:
                raise OffLimitsImport(off_limits_message(_DROPPED[name]), name=name)
            return lookup(name)

        vars(day25)["__getattr__"] = refusing


def off_limits_in(exc: BaseException) -> OffLimitsImport | None:
    """The :class:`OffLimitsImport` behind ``exc`` (itself, or its cause or context)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, OffLimitsImport):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def import_once(folder: str, module: str, off_limits: Sequence[str] = ()) -> ModuleType:
    """Import ``module`` from ``folder`` (bytecode is never written into it)."""
    forbid_off_limits(off_limits)
    sys.path.insert(0, folder)
    sys.dont_write_bytecode = True
    return importlib.import_module(module)


def where_in(exc: BaseException, path: str | os.PathLike[str]) -> str:
    """`` (at your_file.py line N, in function: the line)``: where in the student's file
    ``path`` ``exc`` came from (its last frame there); ``""`` when none of its frames is."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {os.path.basename(path)} line {last.lineno}, in {last.name}: {last.line})"


def not_done_yet(exc: NotImplementedError, path: str | os.PathLike[str]) -> str:
    """The sentence for code of the student's file ``path`` that still raises
    ``NotImplementedError`` (a stub's function not written yet): what, and where."""
    return (f"Not done yet: {exc or 'a function'} in your {os.path.basename(path)} still "
            f"raises NotImplementedError{where_in(exc, path)}.")


def your_traceback(exc: BaseException, folder: str) -> str:
    """``exc``'s traceback as the student knows their code: only the frames of their own
    files (those in ``folder``, the grader's private copy), each file named as they name
    it (``your_module.py``), then the exception line; chained exceptions alike.

    Why: the grader's frames (``inside/apps.py``) and the copy's temporary path mean
    nothing to a student, and took the place of their own frames in a capped traceback.
    """
    prefix = os.path.join(folder, "")
    shown = traceback.TracebackException.from_exception(exc)
    todo, seen = [shown], set()
    while todo:
        part = todo.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        part.stack = traceback.StackSummary.from_list(
            [f for f in part.stack if f.filename.startswith(prefix)])
        todo += [p for p in (part.__cause__, part.__context__, *(part.exceptions or ()))
                 if p is not None]
    said = "".join(shown.format()).replace(prefix, "").rstrip()
    return f"{said}\n{OUT_OF_PROCESSES.format(limit=_process_limit())}" if _out_of_processes(
        exc) else said


#: what a student reads beside Python's words when their code ran out of processes
OUT_OF_PROCESSES = ("Your code started more threads or processes than it may run at "
                    "once{limit}; end the ones it no longer needs, or start fewer.")


def _out_of_processes(exc: BaseException) -> bool:
    """Whether ``exc`` (or one it came from) is the limit on processes being reached: a
    thread that could not start, or a fork refused with EAGAIN."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if (isinstance(e, RuntimeError) and str(e) == "can't start new thread") or (
                isinstance(e, BlockingIOError) and e.errno == errno.EAGAIN):
            return True
        todo += [e.__cause__, e.__context__]
    return False


def _process_limit() -> str:
    """`` (at most N here)`` when this process has a limit on processes, else nothing."""
    try:
        import resource  # Unix only
    except ImportError:
        return ""
    soft = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    return "" if soft == resource.RLIM_INFINITY else f" (at most {soft} here)"


def import_error(module: str, exc: BaseException, folder: str) -> str:
    """What the student reads when importing ``module`` (from ``folder``, the grader's copy)
    raised ``exc``: their own frames (:func:`your_traceback`), never the importer's."""
    refused = off_limits_in(exc)
    if refused is not None:
        return f"Your {module}.py was not checked: {refused}"
    return f"{IMPORT_FAILED.format(module=f'{module}.py')}\n{your_traceback(exc, folder)}"


class FreshImport:
    """The submission's module: compiled once, run afresh for every app."""

    def __init__(self, folder: str, module: str, off_limits: Sequence[str] = ()) -> None:
        self.folder = folder
        self.module = module
        self.path = os.path.join(folder, f"{module}.py")
        self._code: CodeType | None = None
        forbid_off_limits(off_limits)
        sys.path.insert(0, folder)
        sys.dont_write_bytecode = True

    def fresh_module(self) -> ModuleType:
        """Import the module as if for the first time (its helpers in the folder too)."""
        prefix = self.folder + os.sep
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(prefix):
                del sys.modules[name]
        if self._code is None:
            with open(self.path, "rb") as f:
                self._code = compile(f.read(), self.path, "exec")
        spec = importlib.util.spec_from_file_location(self.module, self.path)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.module] = module
        try:
            exec(self._code, module.__dict__)  # the sandboxed submission, by design
        except BaseException:
            sys.modules.pop(self.module, None)
            raise
        return module

    def create_app_error(self, exc: BaseException) -> str:
        """What the student reads when ``create_app()`` raised ``exc``: the refused import,
        the stub's "not done yet" (as the steps say it), or their own frames of it."""
        if refused := off_limits_in(exc):
            return f"create_app() in your {self.module}.py could not start: {refused}"
        if isinstance(exc, NotImplementedError):
            return not_done_yet(exc, self.path)
        return (f"create_app() in your {self.module}.py raised, so the app could not start.\n"
                f"{your_traceback(exc, self.folder)}")


def describe(exc: BaseException, module_file: str | None) -> str:
    """``Type: message (at your_file.py line N, in function: the line)``: short, for a student."""
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return text + where_in(exc, module_file) if module_file else text


def said_safely(exc: BaseException, module_file: str | None) -> str:
    """:func:`describe`, for an exception only the submission's code touched (any str())."""
    try:
        return describe(exc, module_file)[:500]
    except Exception:
        return type(exc).__name__
