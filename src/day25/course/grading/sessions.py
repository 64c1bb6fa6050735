"""Run one grading pytest session in a process forked from the warm session server.

Why: see :mod:`day25.course.grading.session_server`, the server this module is
the client of (one per grading process, started on first use). A session that
outlives its wall-clock budget is killed with its whole process group; its
output's tail comes back for the logs. With the portable runner
(:mod:`day25.course.sandbox.runner`: macOS, Windows, where there is no fork
server) a session is a plain ``python -m pytest`` with the same arguments.
A server that cannot start or stops raises a
:class:`~day25.course.sandbox.runner.RunnerError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from day25.course.protocol import SessionEnded, SessionRequest, SessionStarted
from day25.course.sandbox import processes, runner
from day25.course.sandbox.runner import RunnerError

__all__ = ["PLUGINS", "SessionOutcome", "SessionServer", "run_session", "session_env",
           "stop_all"]

OUTPUT_CAP = 64 * 1024

#: the plugins a grading session loads, by module (nothing else is auto-loaded)
PLUGINS = ("pytest_asyncio.plugin", "pytest_timeout", "_hypothesis_pytestplugin")
SERVER_MODULE = "day25.course.grading.session_server"


#: the variables a session (and the session server) keeps: what Python, pytest, hypothesis
#: and the course read. The rest of the grader's environment (tokens, keys) never enters
#: the warm server's memory, which every zygote forked from it carries.
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "COLUMNS",
                  "VIRTUAL_ENV")
KEPT_PREFIXES = ("LC_", "PYTHON", "PYTEST_", "HYPOTHESIS_", "DAY25_", "COVERAGE_")


def session_env(env: Mapping[str, str]) -> dict[str, str]:
    """The part of ``env`` a grading session may see (:data:`KEPT_VARIABLES`, prefixes)."""
    return {key: value for key, value in env.items()
            if key in KEPT_VARIABLES or key.startswith(KEPT_PREFIXES)}


@dataclass(frozen=True)
class SessionOutcome:
    """How a session ended: its exit code (``None`` when cut off) and its output's tail."""

    code: int | None
    output: str


class SessionServer:
    """The grader's handle on its session server (one per grading process, started lazily)."""

    def __init__(self) -> None:
        # No parent-death signal here: it fires when the spawning *thread* ends,
        # and graders start this from short-lived worker threads. The server
        # exits when its stdin closes instead, which a dead grader guarantees.
        # A minimal environment: every zygote forked from this server carries its
        # memory, where a submission could read the grader's variables (tokens...).
        # -P: without the working folder on sys.path, where an instructor who grades
        # from inside a student's folder would have the student's json.py imported here.
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", SERVER_MODULE], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, start_new_session=True, env=session_env(os.environ),
        )
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pids: dict[int, int] = {}
        self._codes: dict[int, int] = {}
        self._next = 0
        self._live: set[int] = set()  # sessions started and not yet waited for
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def stop(self) -> None:
        """Kill every running session (each leads its own process group) and the server."""
        with self._cond:
            for pid in self._live:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError, ValueError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()  # the server exits when its stdin closes

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self._cond:
                if "id" in msg:
                    started = cast(SessionStarted, msg)
                    self._pids[started["id"]] = started["pid"]
                else:
                    ended = cast(SessionEnded, msg)
                    self._codes[ended["pid"]] = ended["code"]
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def start(self, args: list[str], cwd: Path, env: dict[str, str], log: Path) -> int:
        """Start a session; its pid (it leads its own process group)."""
        with self._cond:
            self._next += 1
            ident = self._next
            request: SessionRequest = {"id": ident, "args": args, "cwd": str(cwd), "env": env,
                                       "log": str(log)}
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            if not self._cond.wait_for(lambda: ident in self._pids or self.closed, timeout=60):
                raise RunnerError("the grading session server did not answer")
            if ident not in self._pids:
                raise RunnerError(f"the grading session server stopped{self._why()}")
            pid = self._pids.pop(ident)
            self._live.add(pid)
            return pid

    def _why(self) -> str:
        code = self.proc.poll()
        return "" if code is None else f" (it exited with code {code})"

    def wait(self, pid: int, timeout: float) -> int | None:
        """Session ``pid``'s exit code, or None if it did not end within ``timeout`` s."""
        with self._cond:
            self._cond.wait_for(lambda: pid in self._codes or self.closed, timeout=timeout)
            code = self._codes.pop(pid, None)
            if code is not None or self.closed:
                self._live.discard(pid)
            return code


_server: SessionServer | None = None
_server_lock = threading.Lock()
_plain: set[subprocess.Popen[bytes]] = set()  # the portable runner's running sessions
_stopping = threading.Event()


def _get_server() -> SessionServer:
    global _server
    with _server_lock:
        _refuse_if_stopping()
        if _server is None or _server.closed or _server.proc.poll() is not None:
            _server = SessionServer()
        return _server


def _refuse_if_stopping() -> None:
    if _stopping.is_set():
        raise RunnerError("grading was interrupted")


def stop_all() -> None:
    """Ctrl-C: kill every running session and start no other in this process (it is
    ending), so ``day25 grade`` ends now.

    Why: each session leads a process group of its own (so a timeout can kill all of
    it), which also puts it out of reach of the terminal's Ctrl-C; without this, the
    grader waited for every running session to end by itself, up to its timeout."""
    _stopping.set()
    with _server_lock:
        if _server is not None:
            _server.stop()
        for proc in list(_plain):
            processes.kill_tree(proc)


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as src:
            size = src.seek(0, os.SEEK_END)
            src.seek(max(0, size - OUTPUT_CAP))
            return src.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_session(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path, timeout: float
) -> SessionOutcome:
    """``pytest.main(args)`` in a forked process; killed (with its group) after ``timeout`` s.

    The session's ``TMPDIR`` is ``log``'s folder's ``tmp/``: the caller removes it.
    """
    plugin_args = [arg for name in PLUGINS for arg in ("-p", name)]
    # its temp files (the zygote's folder, pytest's tmp_path) live next to its log, so
    # the caller's cleanup removes them even when the session had to be killed
    scratch = log.parent / "tmp"
    scratch.mkdir(mode=0o700, exist_ok=True)
    kept = dict(env) if runner.portable() else session_env(env)  # Windows needs all of it
    environ = {**kept, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "TMPDIR": str(scratch)}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if runner.portable():
        return _run_plain([*plugin_args, *args], cwd=cwd, env=environ, log=log, timeout=timeout)
    server = _get_server()
    started = time.monotonic()
    pid = server.start([*plugin_args, *args], cwd, environ, log)
    code = server.wait(pid, max(0.0, timeout - (time.monotonic() - started)))
    if code is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        server.wait(pid, 10)  # reaped by the server
    return SessionOutcome(code, _tail(log))


def _run_plain(args: list[str], *, cwd: Path, env: dict[str, str], log: Path,
               timeout: float) -> SessionOutcome:
    """The portable runner's session: ``python -m pytest`` in a subprocess of its own."""
    with log.open("wb") as out:
        with _server_lock:
            _refuse_if_stopping()
            try:
                proc = subprocess.Popen([sys.executable, "-P", "-m", "pytest", *args], cwd=cwd,
                                        env=env, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, **processes.own_group())
            except OSError as exc:
                raise RunnerError(f"the test session could not start: {exc}") from exc
            _plain.add(proc)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            processes.kill_tree(proc)
            code = None
        except BaseException:
            # Ctrl+C: the session has a process group of its own, which the terminal's
            # signal does not reach, so it would run on after `day25 check` ended
            processes.kill_tree(proc)
            raise
        finally:
            _plain.discard(proc)
    return SessionOutcome(code, _tail(log))
