"""Importing the submission's module inside the sandbox, and saying why it failed.

Why a module of its own: both modes import the student's code, one once
(scenarios) and one afresh for every app (apps, see :class:`FreshImport`), and
both must tell the student the same thing when the import itself fails.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from types import CodeType, ModuleType

__all__ = ["FreshImport", "import_error", "import_once"]


def import_once(folder: str, module: str) -> ModuleType:
    """Import ``module`` from ``folder`` (bytecode is never written into it)."""
    sys.path.insert(0, folder)
    sys.dont_write_bytecode = True
    return importlib.import_module(module)


def import_error(module: str, exc: BaseException) -> str:
    """What the student reads when importing ``module`` raised ``exc``."""
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
