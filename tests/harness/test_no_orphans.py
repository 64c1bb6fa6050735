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


# A child that forks a few grandchildren (a small fork bomb), then sleeps.
FORKER = (
    "import os, time\nfor _ in range(5):\n    if os.fork() == 0:\n        break\ntime.sleep(120)"
)


def test_children_die_with_the_process_that_spawned_them(tmp_path: Path) -> None:
    marker = f"day25-orphan-{uuid.uuid4().hex}"
    code = FORKER + f"  # {marker}"
    parent = textwrap.dedent(
        f"""
        import sys, time
        from day25.course.sandbox import processes
        child = processes.spawn(["python", "-c", {code!r}], cwd={str(tmp_path)!r})
        print(child.pid, flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip().isdigit()
        deadline = time.monotonic() + 20
        while len(running(marker)) < 6:  # the child and its forks run (bwrap's own processes
            # carry the marker in their argv too: seeing one only means the sandbox is starting)
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
        if proc.stdout is not None:
            proc.stdout.close()  # else the GC warns of it, under whichever test runs then
        for pid in running(marker):
            os.kill(int(pid), signal.SIGKILL)


def test_kill_tree_sweeps_the_whole_session(tmp_path: Path) -> None:
    from day25.course.sandbox import processes

    marker = f"day25-sweep-{uuid.uuid4().hex}"
    child = processes.spawn(["python", "-c", FORKER + f"  # {marker}"], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 20
        while len(running(marker)) < 6:  # the child and its five forks
            assert time.monotonic() < deadline, f"only {running(marker)} started"
            time.sleep(0.1)
        processes.kill_tree(child)
        deadline = time.monotonic() + 10
        while running(marker):
            assert time.monotonic() < deadline, f"left running: {running(marker)}"
            time.sleep(0.1)
    finally:
        for pid in running(marker):
            os.kill(int(pid), signal.SIGKILL)
