"""Ctrl+C in ``day25 check`` stops everything it started and says it was interrupted.

The portable runner (macOS, Windows) runs each project's pytest session in a
process group of its own, which the terminal's Ctrl+C does not reach: the
session and the code under test once ran on after ``day25 check`` had ended,
with exit code 0 (``day25 check && ...`` carried on). Ctrl+C is also how a
student leaves ``--watch``. The sandboxed runner (this Linux) is held to the same.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.terminal import sigint_as_in_a_terminal

from ..pids import alive
from ..test_start import _descendants
from .conftest import COURSE, SYSTEMS, simulated_env

pytestmark = pytest.mark.timeout(300)

GONE_WITHIN = 4.0  # seconds; a scenario's own timeout is 10 s
#: the hanging scenario names its process (prctl PR_SET_NAME: the sandbox's /proc is not
#: its to write), so the test sees it started whatever runs it: without namespaces it is a
#: fork of the session server, with the server's command line
MARK = "day25-hangs"
HANGS = ("        import ctypes, time\n\n"
         f"        ctypes.CDLL(None).prctl(15, {MARK.encode()!r})\n"
         "        while True:\n            time.sleep(0.05)\n")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def _hangs(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip() == MARK
    except OSError:
        return False


@pytest.mark.parametrize("system", [*SYSTEMS, None], ids=[*SYSTEMS, "linux"])
def test_ctrl_c_stops_the_checks_and_exits_130(system: str | None, tmp_path: Path) -> None:
    folder = tmp_path / "exercises"
    shutil.copytree(COURSE / "solutions", folder)
    module = folder / "priority_ordering.py"
    source = module.read_text(encoding="utf-8")
    emit = "    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:\n"
    assert emit in source
    module.write_text(source.replace(emit, emit + HANGS), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "day25.cli", "check", "priority_ordering", "--path", str(folder),
         "--course", str(COURSE)],
        cwd=tmp_path, env=simulated_env(system), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own, as a terminal's foreground job
        preexec_fn=sigint_as_in_a_terminal)
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while not any(_hangs(pid) for pid in started):
            assert proc.poll() is None, "day25 check ended before the hanging scenario ran"
            assert time.monotonic() < deadline, "the scenario did not start within 120 s"
            time.sleep(0.1)
            started = _descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C sends: the foreground group
        assert proc.wait(timeout=60) == 130
        # gone at once: left alone, the hung scenario would end at its own 10 s timeout
        deadline = time.monotonic() + GONE_WITHIN
        while running := {pid for pid in started if alive(pid)}:
            assert time.monotonic() < deadline, (
                f"still running after day25 check ended: {[_cmdline(p) for p in running]}")
            time.sleep(0.2)
    finally:
        for pid in (proc.pid, *started):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=20)
