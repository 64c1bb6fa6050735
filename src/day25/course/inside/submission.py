"""Importing the submission's module inside the sandbox, and saying why it failed.

Why a module of its own: both modes import the student's code, one once
(scenarios) and one afresh for every app (apps, see :class:`FreshImport`), and
both must tell the student the same thing when the import itself fails.

The course's ready-made helpers are off limits to a graded module
(:data:`OFF_LIMITS`): ``day25.realtime`` does presence, the broadcast and the
queue, which are what exercises 3 and 4 grade. :func:`forbid_off_limits` runs
before the submission does, so ``import day25.realtime``, ``from day25 import
Rooms`` and ``importlib.import_module("day25.serve")`` all raise
:class:`OffLimitsImport`, whose message the student reads alone, without a
traceback, at import or wherever the import happens (``create_app()``). It is a
sentence for an honest student, not a wall: the grade comes from behaviour.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
import traceback
from types import CodeType, ModuleType

__all__ = ["OFF_LIMITS", "FreshImport", "OffLimitsImport", "forbid_off_limits", "import_error",
           "import_once", "off_limits_in", "off_limits_message"]

#: packages a graded module may not import (the bus, ``day25`` itself, stays allowed)
OFF_LIMITS = ("day25.realtime", "day25.serve")


class OffLimitsImport(ImportError):
    """A graded module imported one of :data:`OFF_LIMITS`; the message says what to do."""


def _off_limits(name: str) -> str | None:
    return next((p for p in OFF_LIMITS if name == p or name.startswith(p + ".")), None)


def off_limits_message(package: str) -> str:
    return (f"{package} is off limits in the graded exercises: your module must do presence, "
            "the broadcast and the queue itself (that is what is graded), so the import was "
            f"refused. Remove `import {package}` (or `from day25 import ...` of its names, such "
            "as Rooms, PresenceTracker, OfflineQueue, SQLiteStore) and write those parts in "
            "your module; `import day25` for the bus (EventBus, install, EventPriority) is fine.")


class _OffLimitsFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: refuses the off-limits packages by name."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        package = _off_limits(fullname)
        if package is not None:
            raise OffLimitsImport(off_limits_message(package), name=fullname)
        return None


def forbid_off_limits() -> None:
    """Make every way of importing :data:`OFF_LIMITS` raise :class:`OffLimitsImport`.

    The zygote may have preloaded them, so they are also dropped from
    ``sys.modules``, from ``day25``'s attributes and from its lazily re-exported
    names (which then go through the finder again).
    """
    if any(isinstance(f, _OffLimitsFinder) for f in sys.meta_path):
        return
    import day25

    for name in [n for n in sys.modules if _off_limits(n)]:
        del sys.modules[name]
    for attr in [a for a in vars(day25) if _off_limits(f"day25.{a}")]:
        delattr(day25, attr)
    lazy: dict[str, str] = getattr(day25, "_LAZY", {})
    for attr, module in lazy.items():
        if _off_limits(module):
            vars(day25).pop(attr, None)
    sys.meta_path.insert(0, _OffLimitsFinder())


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


def import_once(folder: str, module: str) -> ModuleType:
    """Import ``module`` from ``folder`` (bytecode is never written into it)."""
    forbid_off_limits()
    sys.path.insert(0, folder)
    sys.dont_write_bytecode = True
    return importlib.import_module(module)


def import_error(module: str, exc: BaseException) -> str:
    """What the student reads when importing ``module`` raised ``exc``."""
    refused = off_limits_in(exc)
    if refused is not None:
        return f"Your {module}.py was not checked: {refused}"
    tb = "".join(traceback.format_exception(exc)[-6:])
    return (
        f"Importing your {module}.py failed, so nothing in it could be checked.\n{tb.rstrip()}"
    )


class FreshImport:
    """The submission's module: compiled once, run afresh for every app."""

    def __init__(self, folder: str, module: str) -> None:
        self.folder = folder
        self.module = module
        self.path = os.path.join(folder, f"{module}.py")
        self._code: CodeType | None = None
        forbid_off_limits()
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
