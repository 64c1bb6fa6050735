"""Processes found by the name they gave themselves (``comm``, any 15 bytes)."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def named(name: bytes) -> list[int]:
    """The host's pids whose ``comm`` is ``name`` (read as bytes: a name may be no text)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if Path(entry.path, "comm").read_bytes().rstrip(b"\n") == name:
                    found.append(int(entry.name))
    return found


def kill_named(name: bytes) -> None:
    for pid in named(name):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
