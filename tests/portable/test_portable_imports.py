"""Nothing Linux-only at import time: every module of ``day25`` imports on simulated Windows.

Windows has no ``resource``, ``fcntl``, ``pwd`` or ``grp`` module, no ``fork``,
no process groups and no Unix sockets; a module that needs one must ask for it
where it is used, on the sandboxed runner's path only. One simulated interpreter
imports every module in turn and names each that fails: the simulation refuses
those modules to day25's code whatever was imported before (it asks who imports),
and a failed import leaves nothing behind in ``sys.modules``, so a module that
imports a failing one fails too, by name. (Import cycles, the other reason a
module could import in one order and not another, are import-linter's contracts.)
"""

from __future__ import annotations

import pkgutil

import pytest

import day25

from .conftest import run, simulated_env

MODULES = sorted(m.name for m in pkgutil.walk_packages(day25.__path__, "day25."))


def test_every_module_imports_on_windows() -> None:
    script = ("import importlib, sys\n"
              "failed = []\n"
              "for name in sys.argv[1:]:\n"
              "    try:\n"
              "        importlib.import_module(name)\n"
              "    except Exception as exc:\n"
              "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
              "print('\\n'.join(failed) or 'all imported')\n")
    proc = run(["-c", script, *MODULES], simulated_env("windows"), timeout=600)
    assert proc.stdout.strip() == "all imported", proc.stdout + proc.stderr
    assert len(MODULES) > 60


@pytest.mark.parametrize("module", ["resource", "fcntl", "pwd"])
def test_the_simulation_would_catch_one(module: str) -> None:
    """The check above can fail: a day25 module importing one of them does not import."""
    script = f"exec(compile('import {module}', 'x.py', 'exec'), {{'__name__': 'day25.x'}})"
    proc = run(["-c", script], simulated_env("windows"))
    assert proc.returncode == 1, proc.stderr
    assert f"No module named '{module}' (simulated Windows)" in proc.stderr
