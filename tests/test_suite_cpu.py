"""``benchmarks/suite_cpu.py``: the kernel's process accounting, read right.

The command is a measurement (it runs the test line folder by folder), so here it reads
made-up ``acct_v3`` records and measures one small module for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.commands import load_command

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ROOT / "benchmarks" / "suite_cpu.py"


suite_cpu = load_command("suite_cpu")


def record(command: str, utime: int, stime: int, version: int = 3) -> bytes:
    """One ``struct acct_v3``: flag, version, tty, exit code, uid, gid, pid, ppid, start,
    elapsed, then eight comp_t (user and system time first) and the command name."""
    return suite_cpu.RECORD.pack(0, version, 0, 0, 0, 0, 1234, 1, 0, 1.0,
                                 utime, stime, 0, 0, 0, 0, 0, 0, command.encode())


def test_cpu_times_are_decoded_from_comp_t() -> None:
    big = (1 << 13) | 0x1FFF  # mantissa 8191, base-8 exponent 1: 65,528 ticks
    found = suite_cpu.read_accounting(record("python", 150, 25) + record("bwrap", big, 0))
    assert found == [("python", 1.75), ("bwrap", 655.28)]


def test_a_process_counts_under_the_kind_of_its_last_thread() -> None:
    assert [suite_cpu.kind(c) for c in ("python3.11", "ZMQbg/IO/0", "day25", "pytest",
                                        "ThreadPoolForeg", "HangWatcher", "chromium",
                                        "node", "redis-server", "bwrap", "git")] == [
        "python", "python", "python", "python", "browser", "browser", "browser",
        "node", "redis", "sandbox", "other"]


def test_a_file_that_is_not_acct_v3_is_refused() -> None:
    with pytest.raises(ValueError, match="version 2"):
        suite_cpu.read_accounting(record("python", 1, 1, version=2))
    with pytest.raises(ValueError, match="whole 64-byte"):
        suite_cpu.read_accounting(record("python", 1, 1)[:-1])


@pytest.mark.xdist_group("doc-benchmarks")  # one process-accounting run at a time
@pytest.mark.timeout(120)
def test_a_real_run_counts_the_pytest_it_ran() -> None:
    proc = subprocess.run([sys.executable, str(COMMAND), "--workers", "1", "--json",
                           "tests/test_trace.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=110)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [run] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert run["paths"] == ["tests/test_trace.py"] and " passed" in run["pytest"], run
    # pytest, its xdist worker and the interpreters they start: most of the run's CPU, and
    # more than three interpreters' start-up even on a fast machine (a whole second on the
    # machine of 2026-12-04, 0.9 s on the faster one of 2026-12-05: a floor, not a timing)
    assert run["processes"] >= 3, run
    assert run["kinds"]["python"] >= max(0.3, run["cpu"] / 2), run


def test_without_accton_it_says_what_to_install() -> None:
    proc = subprocess.run([sys.executable, str(COMMAND), "tests/test_trace.py"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={"PATH": "/nowhere"})
    assert proc.returncode == 1 and proc.stderr.strip() == (
        "accton is missing: apt-get install acct (bash .ci/system-deps does)"), proc.stderr
