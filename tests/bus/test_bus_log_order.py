"""A listener's failure is logged after what the program printed before it.

Why: the bus logs the failure to stderr, which is written at once, while stdout waits in
a buffer (a pipe's, or Jupyter's). Lesson 7's check printed "the bus logs each refusal
(red, below)" and the red log came out above it.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROGRAM = """
import asyncio
from day25 import EventBus

def refuse(payload):
    raise ValueError("refused")

bus = EventBus()
bus.on("note", refuse)
print("next, a refusal: logged below")
asyncio.run(bus.emit("note", {}))
print("done")
"""


def test_the_log_of_a_failure_comes_after_what_was_printed_before_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe buffers
    run = subprocess.run([sys.executable, "-c", PROGRAM], stdout=subprocess.PIPE, env=env,
                         stderr=subprocess.STDOUT, text=True, timeout=60, check=True)
    out = run.stdout
    assert out.index("logged below") < out.index("listener refuse for event") < out.index(
        "done"), out
