"""What the bus logs when a listener raises (``day25.failures``).

* It comes after what the program printed before the failure. The log goes to stderr,
  which is written at once, while stdout waits in a buffer (a pipe's, or Jupyter's):
  lesson 7's check printed "the bus logs each refusal (red, below)" and the red log
  came out above it.
* Its traceback starts at the listener's code, not in the bus or the ``Recorder``'s
  wrapper: lessons 3, 7 and 8 show these logs, and a student read lines of course
  code they never wrote. The exception the emit returns keeps its whole traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from day25 import EventBus, Recorder
from day25.failures import from_the_listener

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
DAY25 = str(Path(sys.modules["day25"].__file__ or "").parent)


def test_the_log_of_a_failure_comes_after_what_was_printed_before_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe buffers
    run = subprocess.run([sys.executable, "-c", PROGRAM], stdout=subprocess.PIPE, env=env,
                         stderr=subprocess.STDOUT, text=True, timeout=60, check=True)
    out = run.stdout
    assert out.index("logged below") < out.index("listener refuse for event") < out.index(
        "done"), out


def validate(order: object) -> None:
    raise ValueError("no items")


async def ship(order: object) -> None:
    await asyncio.sleep(0)
    raise RuntimeError("no stock")


@pytest.mark.parametrize("recorded", [False, True], ids=["plain", "recorded"])
async def test_the_logged_traceback_starts_at_the_listener(
        recorded: bool, caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    if recorded:
        Recorder().on(bus, "order", validate)
        Recorder().on(bus, "order", ship)
    else:
        bus.on("order", validate)
        bus.on("order", ship)
    with caplog.at_level(logging.ERROR, logger="day25.events"):
        result = await bus.emit("order", {})
    logged = [r for r in caplog.records if r.name == "day25.events"]
    assert [r.exc_info[1] for r in logged if r.exc_info] == list(result.errors)
    for record in logged:
        text = caplog.handler.formatter.formatException(record.exc_info)  # type: ignore[arg-type,union-attr]
        frames = [line for line in text.splitlines() if line.lstrip().startswith("File ")]
        assert frames and __file__ in frames[0], text
        assert not any(DAY25 in line for line in frames), text
    for error in result.errors:  # what the emit returns is not trimmed
        files = [f.filename for f in traceback.extract_tb(error.__traceback__)]
        assert files[0].startswith(DAY25) and files[-1] == __file__, files


def test_a_failure_inside_day25_keeps_every_frame() -> None:
    with pytest.raises(TypeError) as raised:
        EventBus().on("", print)  # day25 refuses an empty event name, in its own code
    inside = raised.value.__traceback__.tb_next  # type: ignore[union-attr]  # from bus.py on
    assert inside is not None and inside.tb_frame.f_code.co_filename.startswith(DAY25)
    assert from_the_listener(inside) is inside
