"""The scripts in ``benchmarks/``, loaded as modules so that tests can call their parts.

Why: a benchmark is a command (``python benchmarks/NAME.py``), not a package module,
yet its tests want its functions. Registered in ``sys.modules`` before it runs, as an
import would be: a dataclass in it looks its own module up there.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_command(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as the module ``name``."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec and spec.loader, name
    command = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = command
    spec.loader.exec_module(command)
    return command
