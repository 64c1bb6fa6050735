"""Whether a process a test started still runs.

Why one helper: ``os.kill(pid, 0)`` also succeeds on a zombie, a process that has ended
and only waits for its parent to reap it, so a test asking "did it end?" with it alone
would wait for nothing or assert that something still runs when it has ended.
"""

from __future__ import annotations

from pathlib import Path


def alive(pid: int) -> bool:
    """True while ``pid`` runs: a process that is gone, or a zombie, is not alive."""
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"
