"""A grading run killed mid-test must not leave sandboxed children running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path


def running(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False)
    return found.stdout.split()


def test_children_die_with_the_process_that_spawned_them(tmp_path: Path) -> None:
    marker = f"day25-orphan-{uuid.uuid4().hex}"
    parent = textwrap.dedent(
        f"""
        import sys, time
        from day25.course import sandbox
        child = sandbox.spawn(
            ["python", "-c", "import time; time.sleep(120)  # {marker}"], cwd={str(tmp_path)!r}
        )
        print(child.pid, flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip().isdigit()
        deadline = time.monotonic() + 20
        while not running(marker):
            assert time.monotonic() < deadline, "the sandboxed child never started"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)  # what a grader's timeout does to a hung pytest
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while running(marker):
            assert time.monotonic() < deadline, f"orphans still running: {running(marker)}"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in running(marker):
            os.kill(int(pid), signal.SIGKILL)
