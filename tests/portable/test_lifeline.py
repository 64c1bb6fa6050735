"""An inside process of the portable runner ends with the process that started it.

On macOS and Windows nothing asks the system to end a child with its parent, and an
inside process leads a group of its own: a submission looping at its top level
outlived a grading session that was killed (Ctrl-C in ``day25 check``), spinning
for ever. Here a "session" starts one, as the harness does, and is killed with
SIGKILL while the submission loops at import.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.pids import alive

from .conftest import simulated_env

SESSION = '''
import sys, time
from day25.course.harness.inside_process import InsideProcess
from day25.course.protocol import SCENARIOS, InsideArgs

args = InsideArgs(SCENARIOS, sys.argv[1], "priority_ordering", "PriorityEmitter")
inside = InsideProcess(args.argv(), cwd=sys.argv[1])
inside.send({"scenario": []})  # the first request imports the module: it never ends
print(inside.proc.pid, flush=True)
time.sleep(600)
'''


@pytest.mark.parametrize("system", [None, "macos", "windows"])
def test_an_inside_process_stuck_at_import_ends_with_its_session(tmp_path: Path,
                                                                 system: str | None) -> None:
    (tmp_path / "priority_ordering.py").write_text("while True:\n    pass\n")
    env = simulated_env(system, DAY25_RUNNER="portable")
    session = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SESSION), str(tmp_path)],
                               env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert session.stdout is not None
        pid = int(session.stdout.readline())
        time.sleep(1.0)  # importing by now: the loop runs
        assert alive(pid), "the inside process should still be looping at import"
        session.send_signal(signal.SIGKILL)
        session.wait(10)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pid), "the inside process outlived the session that started it"
    finally:
        session.kill()
        session.wait()
        if session.stdout is not None:
            session.stdout.close()  # else the GC warns of it, under whichever test runs then
        if "pid" in locals() and alive(pid):
            os.kill(pid, signal.SIGKILL)
