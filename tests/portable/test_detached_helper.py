"""A student's module that starts a detached helper process: ``day25 check`` still
ends when the checks do, on macOS and Windows.

The helper (a server the module starts at import, say) leads a session of its own
and inherits the inside process's pipes. The portable runner has no sweep that
reaches such a process, so it outlives the inside process and holds its pipes.
Closing them used to wait for it: ``day25 check`` of a correct module took the
helper's whole life (150 s measured) and then failed its last test on pytest's
timeout. The check must now pass while the helper still runs: nothing of it is the
student's to wait for.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from tests.pids import alive

from .conftest import COURSE, SYSTEMS, day25, simulated_env

pytestmark = pytest.mark.timeout(600)

HELPER = '''
import subprocess, sys
_helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                           start_new_session=True)  # its pipes: the inside process's own
with open({pids!r}, "a") as _pids:
    _pids.write(f"{{_helper.pid}}\\n")
'''


@pytest.mark.parametrize("system", SYSTEMS)
def test_check_does_not_wait_for_a_helper_the_module_detached(system: str,
                                                              tmp_path: Path) -> None:
    pids = tmp_path / "helpers"
    solution = (COURSE / "solutions" / "priority_ordering.py").read_text(encoding="utf-8")
    future = "from __future__ import annotations\n"
    head, rest = solution.split(future, 1)
    mine = tmp_path / "exercises"
    mine.mkdir()
    (mine / "priority_ordering.py").write_text(
        head + future + HELPER.format(pids=str(pids)) + rest, encoding="utf-8")
    try:
        proc = day25("check", "priority_ordering", "--path", mine, env=simulated_env(system))
        started = [int(pid) for pid in pids.read_text().split()]
        assert proc.returncode == 0, proc.stdout
        assert "FAIL" not in proc.stdout and "1/1 exercises pass" in proc.stdout
        # the check ended while the helpers ran on: it did not wait for them
        assert started and all(alive(pid) for pid in started), started
    finally:
        for pid in (int(p) for p in pids.read_text().split()) if pids.exists() else ():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
