"""``day25 start``: open the student's workspace in JupyterLab (``--no-lab``: only make it).

Why a command: students should not have to know where the notebooks live or how
to point Jupyter at them; one line installs the course and this opens it. It
opens a workspace (:mod:`day25.course.student.workspace`), never the course
folder, whose file browser would list the solutions. Many students work in VS Code
or another editor with its own notebooks: ``--no-lab`` makes or updates the same
workspace and says which Python the notebooks' kernel must be.

Why it forwards signals: ``day25 start`` is JupyterLab's parent. A SIGTERM or SIGHUP
(a closed terminal, ``kill``, a process manager) reaches only this process, and
JupyterLab used to keep serving. Now each stops JupyterLab gracefully (its
kernels too), and if this process dies anyway, Linux sends JupyterLab a SIGTERM.
On POSIX, JupyterLab runs in a process group of its own, so a terminal's Ctrl+C
reaches only this process too, and stops JupyterLab the same way.
Windows has no SIGHUP and refuses a ``preexec_fn``; there only the signals it has
are forwarded (SIGTERM, and SIGBREAK from Ctrl+Break).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, TypeAlias

from day25.course.student.workspace import Workspace, open_workspace

__all__ = ["jupyter_command", "run_lab", "start"]

_PR_SET_PDEATHSIG = 1
Handler: TypeAlias = "Callable[[int, FrameType | None], Any] | int | None"
STOP_GRACE = 30.0  # seconds JupyterLab may take to stop its kernels before it is killed


def jupyter_command(folder: Path, *, port: int | None, open_browser: bool,
                    first: str = "") -> list[str]:
    """JupyterLab serving ``folder`` only, opening ``first`` (a path inside it)."""
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if port is not None:
        command.append(f"--port={port}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root; Jupyter refuses otherwise
    if first:
        command.append(f"--LabApp.default_url=/lab/tree/{first}")
    command += [f"--LabApp.labextensions_path={path}" for path in _labextensions_path()]
    return command


def _labextensions_path() -> list[str]:
    """Jupyter's lab-extension folders plus the base Python's, in a venv that sees the
    base Python's packages (``--system-site-packages``); else nothing to change.

    Why: such a venv imports ipywidgets from the base Python, but Jupyter looks for lab
    extensions under the venv's prefix, not the base's, so JupyterLab loaded no widget
    manager and the exercise notebooks' hint button could not be drawn. The base's folder
    comes last: an extension the venv has itself wins.
    """
    if sys.prefix == sys.base_prefix:
        return []
    base_site = sysconfig.get_paths(vars={"base": sys.base_prefix,
                                          "platbase": sys.base_prefix})["purelib"]
    seen = {os.path.normcase(os.path.abspath(p)) for p in sys.path if p}
    if os.path.normcase(os.path.abspath(base_site)) not in seen:
        return []
    extensions = os.path.join(sys.base_prefix, "share", "jupyter", "labextensions")
    if not os.path.isdir(extensions):
        return []
    from jupyter_core.paths import jupyter_path

    paths = jupyter_path("labextensions")
    if any(os.path.normcase(os.path.abspath(p)) == os.path.normcase(extensions) for p in paths):
        return []
    return [*paths, extensions]


def _stop_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    if sys.platform.startswith("linux"):  # only Linux has the parent-death signal
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


#: the signals that stop JupyterLab through this process, those this system has
_FORWARDED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGBREAK")
                   if hasattr(signal, name))


def run_lab(command: list[str], cwd: Path) -> int:
    """Run ``command`` (JupyterLab) until it ends; SIGTERM, SIGHUP and Ctrl+C stop it."""
    # A preexec_fn runs between fork and exec (no threads run yet: safe); a system
    # without fork (Windows) refuses one.
    # A process group of its own (POSIX): a terminal's Ctrl+C reaches only this process,
    # which stops JupyterLab as any other signal does. Reached by the Ctrl+C itself,
    # JupyterLab asked "Shut down? (y/[n])" in a terminal, and elsewhere (stdin not a
    # terminal: an IDE's run button, a script) stopped without shutting its kernels down
    # or removing its runtime files (``jupyter server list`` named a dead server).
    posix = hasattr(os, "fork")
    proc = subprocess.Popen(command, cwd=cwd, env=os.environ.copy(),
                            preexec_fn=_stop_with_parent if posix else None,
                            process_group=0 if posix else None)
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if proc.poll() is None:
            proc.terminate()

    previous: dict[int, Handler] = {}
    try:
        for sig in _FORWARDED:
            previous[sig] = signal.signal(sig, stop)
        while True:
            try:
                code = proc.wait()
                return 0 if stopping else code
            except KeyboardInterrupt:
                # Ctrl+C: on Windows Jupyter got it too and would ask "Shutdown? (y/[n])"
                stop(signal.SIGINT, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _made(ws: Workspace) -> list[str]:
    lines = [f"Your Day 25 workspace: {ws.path}",
             "  lessons in notebooks/, exercises in exercises/ (your work stays here)"]
    if ws.added:
        lines.append(f"  added {len(ws.added)} file(s) from the course")
    if ws.updated:
        lines.append(f"  updated {len(ws.updated)} file(s) you had not changed")
    if ws.kept:
        lines.append(f"  kept your version of {len(ws.kept)} file(s): {', '.join(ws.kept[:5])}"
                     + (" ..." if len(ws.kept) > 5 else ""))
    return lines


def _summary(ws: Workspace) -> str:
    return "\n".join([*_made(ws),
                      "Check your exercises in a second terminal (Ctrl+C here stops JupyterLab):",
                      f"  cd {quoted(ws.path)}", "  day25 check"])


def _in_your_editor(ws: Workspace) -> str:
    """What to do without JupyterLab: the notebooks' kernel must be the Python that has
    day25, which an editor does not guess (VS Code offers every Python it finds)."""
    return "\n".join([
        *_made(ws),
        "Open that folder in your editor (VS Code: File > Open Folder, with its Python and",
        "Jupyter extensions). For the notebooks' kernel, choose this Python, which has day25:",
        f"  {sys.executable}",
        "Check your exercises in a terminal:",
        f"  cd {quoted(ws.path)}", "  day25 check"])


def quoted(path: Path) -> str:
    """``path`` as this system's shell reads it back: spaces and accents in a user's name
    are common (``C:\\Users\\Zoë Müller\\OneDrive``)."""
    if os.name == "nt":
        return f'"{path}"' if any(c in str(path) for c in " &()^%!;,'") else str(path)
    return shlex.quote(str(path))


def start(course: Path | None = None, *, folder: Path | None = None, port: int | None = None,
          open_browser: bool = True, lab: bool = True) -> int:
    """Prepare the workspace, then run JupyterLab on it until it is stopped; its exit code.
    Without ``lab``, only prepare it, for a student who works in another editor."""
    ws = open_workspace(course, folder)
    if not lab:
        print(_in_your_editor(ws), flush=True)
        return 0
    print(_summary(ws), flush=True)
    command = jupyter_command(ws.path, port=port, open_browser=open_browser,
                              first=ws.first_lesson())
    return run_lab(command, ws.path)
