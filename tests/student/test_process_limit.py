"""Code that starts more threads or processes than the sandbox lets it run at once is told
so in words, beside the line that did it, not only with Python's ``can't start new thread``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
STORM = """
import threading, time
for _ in range(5000):  # every thread sleeps on: the limit on processes is reached
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
"""
SENTENCE = ("Your code started more threads or processes than it may run at once (at most "
            "{limit} here); end the ones it no longer needs, or start fewer.")


def test_a_thread_storm_at_import_is_named_in_words(tmp_path: Path) -> None:
    mine = tmp_path / "exercises"
    mine.mkdir()
    solution = (COURSE / "solutions" / "priority_ordering.py").read_text(encoding="utf-8")
    (mine / "priority_ordering.py").write_text(solution + STORM, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "check", "priority_ordering",
                           "--path", str(mine), "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=300, cwd=COURSE, env=ENV)
    said = " ".join(proc.stdout.split())
    assert proc.returncode == 1, proc.stdout
    assert "RuntimeError: can't start new thread" in said, proc.stdout
    assert "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()" in said
    assert SENTENCE.format(limit=256) in said, proc.stdout
