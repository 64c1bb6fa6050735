"""The lesson's own code, verbatim, runs on a NexiosApp once day25 is installed.

Each block below is copied from the lesson (``day25-lesson.txt``, a copy of the
seed text; the first test proves every block is in it, line for line). Blocks of
one section run in order, in one namespace, in a fresh interpreter (so Nexios is
pristine), with top-level ``await`` as in the lesson. The only line the test adds
is ``day25.install(app)``, right after the lesson creates ``app``; handlers the
lesson leaves undefined (``handler1..3``) are provided, recording their calls.
"""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: awaiting what is not awaitable, in Python 3.11-3.13's words and in 3.14's
NOT_AWAITABLE = r"can't be used in 'await' expression|object can't be awaited"

LESSON = Path(__file__).with_name("day25-lesson.txt")

SECTIONS: dict[str, list[str]] = {
    "Basic Event Usage": [
        """
from nexios import NexiosApp

app = NexiosApp()

@app.events.on("user.created")
async def handle_user_created(user):
    print(f"User created: {user['name']}")

# Trigger the event
await app.events.emit("user.created", {"name": "Bob"})
"""
    ],
    "Event Listeners": [
        """
@app.events.on("data.received")
async def handle_data(data):
    print(f"Processing data: {data}")
""",
        """
# Define handler
async def temporary_handler(data):
    print(f"Processing data: {data}")

# Add handler
app.events.on("data.received", temporary_handler)

# Remove specific handler
app.events.off("data.received", temporary_handler)

# Remove all handlers for an event
app.events.off("data.received")
""",
    ],
    "Priority Listeners": [
        """
from nexios.events import EventPriority

# Different priority levels
app.events.on("data.received", handler1, priority=EventPriority.LOW)
app.events.on("data.received", handler2, priority=EventPriority.MEDIUM)
app.events.on("data.received", handler3, priority=EventPriority.HIGH)
"""
    ],
    "One-time Listeners": [
        """
@app.events.once('first.login')
async def first_login(user):
    print(f"🎉 Welcome {user}")

await app.events.emit('first.login', 'Alice')  # Fires
await app.events.emit('first.login', 'Alice')  # Doesn't fire
"""
    ],
    "Event Namespaces": [
        """
# Create a namespace
ui_events = app.events.namespace('ui')

@ui_events.on('button.click')  # Listens to 'ui:button.click'
async def handle_click(btn):
    print(f"{btn} clicked!")

# Both work:
await ui_events.emit('button.click', 'submit')
await app.events.emit('ui:button.click', 'submit')
"""
    ],
}

# Runs in the child: execute the blocks, then report what happened as JSON.
DRIVER = textwrap.dedent(
    """
    import ast, asyncio, contextlib, io, json, sys
    import day25
    from nexios import NexiosApp

    blocks, probe = json.loads(sys.stdin.read())
    calls = []
    def recording(name):
        async def handler(*args):
            calls.append(name)
        return handler
    ns = {"__name__": "lesson", "handler1": recording("handler1"),
          "handler2": recording("handler2"), "handler3": recording("handler3")}
    if "app = NexiosApp()" not in blocks[0]:
        ns["app"] = NexiosApp()            # later sections continue the lesson's app
        day25.install(ns["app"])

    async def main():
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for block in blocks:
                head, sep, tail = block.partition("app = NexiosApp()\\n")
                for part in ([head + sep, tail] if sep else [block]):
                    code = compile(part, "<lesson>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                    result = eval(code, ns)
                    if asyncio.iscoroutine(result):
                        await result
                    if sep and part is not tail:
                        day25.install(ns["app"])   # the one added line
            flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            extra = eval(compile(probe, "<probe>", "exec", flags=flags), ns)
            if asyncio.iscoroutine(extra):
                await extra
        events = ns["app"].events
        return {"stdout": out.getvalue(), "calls": calls,
                "is_bus": isinstance(events, day25.EventBus),
                "names": sorted(events.event_names())}

    print(json.dumps(asyncio.run(main())))
    """
)

PROBES = {
    "Basic Event Usage": "",
    "Event Listeners": "await app.events.emit('data.received', 'after removal')",
    "Priority Listeners": "await app.events.emit('data.received', 1)",
    "One-time Listeners": "",
    "Event Namespaces": "",
}


def run_section(name: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps([SECTIONS[name], PROBES[name]]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"the lesson's {name!r} blocks failed:\n{proc.stderr}"
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def normalized(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines() if line.strip()]


@pytest.mark.parametrize("section", SECTIONS)
def test_blocks_are_copied_verbatim_from_the_lesson(section: str) -> None:
    lesson = normalized(LESSON.read_text(encoding="utf-8"))
    start = lesson.index(section)
    for block in SECTIONS[section]:
        lines = normalized(block)
        found = any(
            lesson[i : i + len(lines)] == lines for i in range(start, len(lesson) - len(lines) + 1)
        )
        assert found, f"block not in the lesson's {section!r} section:\n{block}"


def test_basic_event_usage() -> None:
    result = run_section("Basic Event Usage")
    assert result["is_bus"] is True
    assert result["stdout"] == "User created: Bob\n"


def test_event_listeners_subscription_and_removal() -> None:
    result = run_section("Event Listeners")
    # off(event) removed every handler, so the probe emit printed nothing
    assert result["stdout"] == ""
    assert result["names"] == []


def test_priority_listeners_run_high_medium_low() -> None:
    result = run_section("Priority Listeners")
    assert result["calls"] == ["handler3", "handler2", "handler1"]


def test_one_time_listener_fires_once() -> None:
    result = run_section("One-time Listeners")
    assert result["stdout"] == "🎉 Welcome Alice\n"


def test_event_namespaces_both_ways_work() -> None:
    result = run_section("Event Namespaces")
    assert result["stdout"] == "submit clicked!\nsubmit clicked!\n"
    assert result["names"] == ["ui:button.click"]


def test_without_day25_the_lesson_fails_on_real_nexios() -> None:
    """The control: the same first block on plain Nexios 3.12 does not run."""
    code = compile(
        SECTIONS["Basic Event Usage"][0], "<lesson>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )

    async def run() -> None:
        result = eval(code, {"__name__": "lesson"})
        await result

    with pytest.raises(TypeError, match=NOT_AWAITABLE):
        asyncio.run(run())
