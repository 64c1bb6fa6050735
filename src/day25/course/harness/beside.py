"""Load a graded suite's helper module from the file beside a test module.

Why by path: the grader runs a suite's folder outside any package
(``--import-mode=importlib``, no ``__init__.py``), so a test module cannot say
``from .chat_frames import join``. Each test module of a suite asks for its
helpers by name instead, and every test module of the session gets the same
module object: a helper runs once, and its state (a model, a counter) is
shared as it would be through a normal import.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["load_beside"]


def load_beside(test_file: str, name: str) -> ModuleType:
    """The module ``<name>.py`` in the folder of ``test_file`` (pass ``__file__``)."""
    path = Path(test_file).resolve().with_name(f"{name}.py")
    if not path.is_file():
        raise FileNotFoundError(f"no helper module {name!r} beside {test_file}: {path}")
    folder = hashlib.sha256(str(path.parent).encode()).hexdigest()[:12]
    key = f"day25_suite_{folder}_{name}"  # one per file, whichever test module asks first
    module = sys.modules.get(key)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(key, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module  # before running it, as import does: a helper may import itself
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    return module
