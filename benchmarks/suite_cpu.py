"""Where the test suite's CPU goes, counted by the kernel: every process, reaped or not.

Run: ``python benchmarks/suite_cpu.py [--workers N] [--json] [PATH ...]`` (as root)

Runs the README's test line (``pytest -n N --dist loadgroup``) on each PATH in turn
(default: every folder of ``tests/`` and, as one more run, its top-level modules) with
the kernel's process accounting on (``accton``, from Debian's ``acct``; .ci/system-deps
installs it). The kernel writes one record for every process that ends, whatever its
parent did, so the sum is what the run cost the machine. ``getrusage`` and
``/usr/bin/time`` count only what their children reap, and a test run leaves much
unreaped: the browsers Playwright starts, the processes of a sandbox whose PID 1 is
killed, servers stopped by signal. On 2026-12-04 they saw 945 of 1,718 core-seconds.

Prints, per PATH: the wall time, the core-seconds of the processes that ended during
the run, split by kind (``KINDS``: a process is named after its last thread, so a
browser shows up as ``ThreadPoolForeg`` or ``HangWatcher``), and how busy the machine
was (``/proc/stat``). ``--json`` prints every figure as its last line. Anything else
running on the machine is counted too: run it on an otherwise idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = struct.Struct("<BBHIIIIIIf8H16s")  # struct acct_v3 (<linux/acct.h>), 64 bytes
TICKS = 100  # AHZ: acct_v3 counts CPU time in hundredths of a second
# A process is recorded under the name of its last thread to end: Chromium's processes end
# on one of their pool threads, a Jupyter kernel on pyzmq's.
KINDS = {
    "python": ("python", "pytest", "day25", "ZMQbg/", "jupyter", "ipykernel", "mkdocs"),
    "browser": ("chromium", "chrome", "ThreadPool", "HangWatcher", "Chrome_", "Perfetto",
                "SignalInspector", "ANGLE", "CrBrowser", "VizCompositor", "Compositor",
                "MemoryInfra", "NetworkService", "GpuWatchdog", "BrowserWatchdog"),
    "node": ("node",),
    "redis": ("redis", "bio_", "jemalloc"),
    "sandbox": ("bwrap", "setpriv"),
}


def comp_t(value: int) -> int:
    """A ``comp_t``: 13 bits of mantissa, 3 of base-8 exponent."""
    return (value & 0x1FFF) << (3 * (value >> 13))


def kind(command: str) -> str:
    for name, prefixes in KINDS.items():
        if command.startswith(prefixes):
            return name
    return "other"


def read_accounting(data: bytes) -> list[tuple[str, float]]:
    """Every record of an ``acct_v3`` file: (command, CPU seconds, user and system)."""
    if len(data) % RECORD.size:
        raise ValueError(f"{len(data)} bytes: not whole {RECORD.size}-byte acct_v3 records")
    found = []
    for fields in RECORD.iter_unpack(data):
        if fields[1] != 3:
            raise ValueError(f"acct record version {fields[1]}: this reads version 3 only")
        command = fields[18].split(b"\0", 1)[0].decode("utf-8", "replace")
        found.append((command, (comp_t(fields[10]) + comp_t(fields[11])) / TICKS))
    return found


def busy_and_idle() -> tuple[float, float]:
    """Core-seconds the machine spent busy and idle since boot (``/proc/stat``)."""
    first = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0]
    ticks = [int(t) for t in first.split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    hertz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks[:8]) - idle) / hertz, idle / hertz


@dataclass
class Run:
    """One pytest run under process accounting."""

    paths: list[str]
    wall: float
    kinds: dict[str, float]  # core-seconds by KINDS, largest first
    commands: dict[str, float]  # core-seconds by the ten costliest command names
    processes: int
    machine_busy: float  # core-seconds, /proc/stat
    machine_idle: float
    pytest: str  # pytest's last line
    returncode: int

    @property
    def cpu(self) -> float:
        return round(sum(self.kinds.values()), 1)


def measure(paths: list[str], workers: str) -> Run:
    """One pytest run of ``paths`` with process accounting on."""
    with tempfile.TemporaryDirectory(prefix="day25-suite-cpu-") as tmp:
        log = Path(tmp) / "pacct"
        log.touch()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        busy0, idle0 = busy_and_idle()
        started = time.monotonic()
        subprocess.run(["accton", str(log)], check=True, capture_output=True)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-n", workers, "--dist", "loadgroup", "-q",
                 "-p", "no:cacheprovider", *paths], cwd=ROOT, env=env, capture_output=True,
                text=True, check=False)
        finally:
            subprocess.run(["accton", "off"], check=True, capture_output=True)
        wall = time.monotonic() - started
        busy1, idle1 = busy_and_idle()
        records = read_accounting(log.read_bytes())
    by_kind: dict[str, float] = {}
    by_command: dict[str, float] = {}
    for command, seconds in records:
        by_kind[kind(command)] = by_kind.get(kind(command), 0.0) + seconds
        by_command[command] = by_command.get(command, 0.0) + seconds
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    return Run(paths, round(wall, 1), largest(by_kind), largest(by_command, 10),
               len(records), round(busy1 - busy0, 1), round(idle1 - idle0, 1), last,
               proc.returncode)


def largest(seconds: dict[str, float], keep: int | None = None) -> dict[str, float]:
    ranked = sorted(seconds.items(), key=lambda item: -item[1])[:keep]
    return {name: round(value, 1) for name, value in ranked}


def default_runs() -> list[list[str]]:
    """Each folder of tests/ that holds tests, then tests/'s own modules together."""
    tests = ROOT / "tests"
    folders = [[str(p.relative_to(ROOT))] for p in sorted(tests.iterdir())
               if p.is_dir() and any(p.rglob("test_*.py"))]
    return [*folders, [str(p.relative_to(ROOT)) for p in sorted(tests.glob("test_*.py"))]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="test paths, one run each (default: tests/)")
    parser.add_argument("--workers", default="auto", help="pytest -n (default: auto)")
    parser.add_argument("--json", action="store_true", help="every figure as JSON, last")
    args = parser.parse_args()
    if shutil.which("accton") is None:
        raise SystemExit("accton is missing: apt-get install acct (bash .ci/system-deps does)")
    if os.geteuid() != 0:
        raise SystemExit("process accounting (accton) needs root")
    runs = []
    for paths in [[p] for p in args.paths] or default_runs():
        run = measure(paths, args.workers)
        runs.append(run)
        name = paths[0] if len(paths) == 1 else f"tests/test_*.py ({len(paths)} modules)"
        kinds = ", ".join(f"{k} {v:g}" for k, v in run.kinds.items())
        print(f"{name}: {run.wall:g} s, {run.cpu:g} core-s in {run.processes} processes "
              f"({kinds}); the machine busy {run.machine_busy:g} core-s, idle "
              f"{run.machine_idle:g}; pytest: {run.pytest}", flush=True)
    print(f"in all: {sum(r.cpu for r in runs):.0f} core-s in "
          f"{sum(r.wall for r in runs):.0f} s of runs")
    if args.json:
        print(json.dumps([{**asdict(r), "cpu": r.cpu} for r in runs]))
    raise SystemExit(max(r.returncode for r in runs))


if __name__ == "__main__":
    main()
