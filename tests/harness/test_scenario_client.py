"""ScenarioClient: a crash or hang costs one call, a fresh child serves the next,
and nothing the submission prints or writes can pose as the runner's reply."""

from __future__ import annotations

import asyncio
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from day25.course.harness import (
    ScenarioClient,
    SubmissionCrashed,
    SubmissionError,
    SubmissionTimeout,
    first_difference,
    inside_process,
)

EMITTER = '''
import inspect, json, os, sys

FAKE = json.dumps({"id": 1, "ok": True, "result": {"ops": []}}) + "\\n"
print(FAKE, end="")                      # prints go to the log, not the channel
os.write(1, FAKE.encode())
for fd in range(3, 30):                  # even writing to every descriptor is ignored
    try:
        os.write(fd, b"garbage\\n" + FAKE.encode())
    except OSError:
        pass

class PriorityEmitter:
    def __init__(self):
        self.handlers = []

    def on(self, event, handler, priority=2):
        self.handlers.append(handler)
        return handler

    def off(self, event, handler):
        pass

    async def emit(self, event, payload=None, **kwargs):
        if payload == "crash":
            os._exit(7)
        if payload == "hang":
            while True:
                pass
        if payload == "boom":
            raise ValueError("boom from the submission")
        print(FAKE, end="")
        for h in self.handlers:
            result = h(payload, **kwargs)
            if inspect.isawaitable(result):
                await result
'''

OPS = [{"op": "on", "event": "e", "listener": "a"}, {"op": "emit", "event": "e", "payload": 1}]


def emit(payload: object) -> dict[str, object]:
    return {"ops": [*OPS[:1], {"op": "emit", "event": "e", "payload": payload}]}


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[ScenarioClient]:
    (tmp_path / "priority_ordering.py").write_text(textwrap.dedent(EMITTER))
    made = ScenarioClient(tmp_path, "priority_ordering", timeout=2)
    yield made
    made.close()


def test_garbage_and_spoofed_replies_are_ignored(runner: ScenarioClient) -> None:
    result = runner.run({"ops": OPS})
    assert result["ops"][1] == {"op": "emit", "trace": [["a", 1]], "error": None}
    assert '"ok": true' in runner.output  # the printed fake reply landed in the log


def test_an_exception_in_student_code_is_an_entry_not_a_crash(runner: ScenarioClient) -> None:
    result = runner.run(emit("boom"))
    assert result["ops"][1]["error"].startswith("ValueError: boom from the submission")
    assert "priority_ordering.py line" in result["ops"][1]["error"]
    assert runner.processes_started == 1


def test_a_crash_costs_one_call_and_a_fresh_child_serves_the_next(runner: ScenarioClient) -> None:
    with pytest.raises(SubmissionCrashed, match="exited with code 7"):
        runner.run(emit("crash"))
    assert runner.run({"ops": OPS})["ops"][1]["trace"] == [["a", 1]]
    assert runner.processes_started == 2


def test_a_hang_times_out_and_a_fresh_child_serves_the_next(runner: ScenarioClient) -> None:
    with pytest.raises(SubmissionTimeout, match="within 2 s"):
        runner.run(emit("hang"))
    assert runner.run({"ops": OPS})["ops"][1]["trace"] == [["a", 1]]
    assert runner.processes_started == 2


def test_sys_exit_at_import_is_a_readable_error(tmp_path: Path) -> None:
    (tmp_path / "once_semantics.py").write_text("import sys\nsys.exit(0)\n")
    with ScenarioClient(tmp_path, "once_semantics", timeout=5) as runner, \
            pytest.raises(SubmissionError, match=r"Importing your once_semantics.py failed"):
        runner.run({"ops": []})


def test_a_top_level_that_never_ends_is_named_as_such(tmp_path: Path) -> None:
    """The audit: ``while True: pass`` at the top of the module was told as a scenario that
    did not finish ("a listener that never returns"), blaming the scenario."""
    (tmp_path / "once_semantics.py").write_text("while True:\n    pass\n")
    with ScenarioClient(tmp_path, "once_semantics", timeout=2) as runner, \
            pytest.raises(SubmissionTimeout) as hung:
        runner.run({"ops": []})
    assert re.fullmatch(  # where, as a traceback says it (the watcher: either line)
        r"Importing your once_semantics.py failed, so nothing in it could be checked.\n"
        r"Your code was last seen here \(most recent call last\):\n"
        r'  File "once_semantics.py", line [12], in <module>\n'
        r"    (while True:|pass)\n"
        r"its top level did not finish within 2 s: an endless loop at import \(outside any "
        r"function\)\?", str(hung.value)), str(hung.value)


def test_a_submission_given_as_its_file_is_told_to_give_the_folder(tmp_path: Path) -> None:
    """``--submission`` (and every client) takes the folder that holds the module; the
    module's own path gets a sentence naming the folder, not "no once_semantics.py in
    .../once_semantics.py"."""
    module = tmp_path / "once_semantics.py"
    module.write_text("x = 1\n")
    for given, says in ((module, f"is a file: give the folder that holds it, {tmp_path} "),
                        (tmp_path / "nowhere", "There is no once_semantics.py in ")):
        with pytest.raises(SubmissionError) as raised, \
                ScenarioClient(given, "once_semantics", timeout=5) as runner:
            runner.run({"ops": []})
        assert says in str(raised.value)


def test_a_missing_class_is_a_setup_error(tmp_path: Path) -> None:
    (tmp_path / "priority_ordering.py").write_text("x = 1\n")
    with ScenarioClient(tmp_path, "priority_ordering", timeout=5) as runner:
        result = runner.run({"ops": OPS})
    assert "PriorityEmitter" in result["setup_error"]


def test_the_checker_bus_refuses_bus_once(tmp_path: Path) -> None:
    (tmp_path / "once_semantics.py").write_text(
        "def once(bus, event, handler=None, *, priority=2):\n"
        "    return bus.once(event, handler, priority=priority)\n")
    ops = [{"op": "once", "event": "e", "listener": "a"}]
    with ScenarioClient(tmp_path, "once_semantics", timeout=5) as runner:
        result = runner.run({"ops": ops})
    assert "bus.once() is off limits" in result["ops"][0]["error"]


@pytest.mark.parametrize("register", [
    "bus._add(event, handler, priority, once=True)",
    "bus._registry.add(event, handler, int(priority), True)",
])
def test_the_checker_bus_refuses_its_once_listeners_by_any_way(tmp_path: Path,
                                                                register: str) -> None:
    (tmp_path / "once_semantics.py").write_text(
        "def once(bus, event, handler=None, *, priority=2):\n"
        f"    {register}\n"
        "    return handler\n")
    ops = [{"op": "once", "event": "e", "listener": "a"}, {"op": "emit", "event": "e"}]
    with ScenarioClient(tmp_path, "once_semantics", timeout=5) as runner:
        result = runner.run({"ops": ops})
    assert "once-listeners by any other way" in result["ops"][0]["error"]
    assert result["ops"][1]["trace"] == []  # nothing was registered behind the refusal


EAGER = """
class PriorityEmitter:
    def __init__(self):
        self.handlers = []
    def on(self, event, handler, priority=2):
        self.handlers.append(handler)
        return handler
    def off(self, event, handler):
        return handler in self.handlers
    def emit(self, event, *args, **kwargs):  # not async def: runs the listeners at once
        for handler in self.handlers:
            handler(*args, **kwargs)
        async def done():
            return None
        return done()
"""


def test_an_emit_that_runs_listeners_before_it_is_awaited_is_reported(tmp_path: Path) -> None:
    (tmp_path / "priority_ordering.py").write_text(EAGER)
    ops = [{"op": "on", "event": "e", "listener": "a"}, {"op": "on", "event": "e",
                                                          "listener": "b", "kind": "async"},
           {"op": "emit", "event": "e", "payload": 1}, {"op": "off", "event": "e",
                                                         "listener": "a"}]
    with ScenarioClient(tmp_path, "priority_ordering", timeout=5) as runner:
        result = runner.run({"ops": ops})
    assert result["ops"][2]["early"] == ["a"]  # the sync one ran before the await
    assert result["ops"][3]["value"] == "True"  # off's return value, which must be None


SHAPES = """
import inspect
class PriorityEmitter:
    def __init__(self):
        self.handlers = []
    def on(self, event, handler, priority=2):
        self.handlers.append((handler, priority))
        return handler
    def off(self, event, handler):
        self.handlers = [(h, p) for h, p in self.handlers if h != handler]
    async def emit(self, event, *args, **kwargs):
        for handler, _ in sorted(self.handlers, key=lambda hp: -hp[1]):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
"""


def test_listener_shapes_and_a_virtual_clock(tmp_path: Path) -> None:
    """Awaitable objects, unhashable and decorated listeners, a positional priority,
    and a listener that sleeps 100 s on a clock that skips the wait."""
    (tmp_path / "priority_ordering.py").write_text(SHAPES)
    ops = [{"op": "on", "event": "e", "listener": "obj", "kind": "returns_awaitable_object",
            "delay": 2},
           {"op": "on", "event": "e", "listener": "eq", "unhashable": True, "wrapped": True},
           {"op": "on", "event": "e", "listener": "slow", "kind": "async", "sleep": 100},
           {"op": "on", "event": "e", "listener": "top", "priority": 9, "style": "positional"},
           {"op": "emit", "event": "e", "payload": 1},
           {"op": "off", "event": "e", "listener": "eq"}, {"op": "emit", "event": "e",
                                                           "payload": 2}]
    with ScenarioClient(tmp_path, "priority_ordering", timeout=5) as runner:
        result = runner.run({"ops": ops, "clock": "virtual"})
    assert [op["error"] for op in result["ops"]] == [None] * len(ops)
    assert result["ops"][4]["trace"] == [["top", 1], ["obj", 1], ["eq", 1], ["slow", 1]]
    assert result["ops"][6]["trace"] == [["top", 2], ["obj", 2], ["slow", 2]]


def test_the_virtual_clock_skips_waits_in_the_order_real_time_would_give() -> None:
    from day25.course.inside.virtual_clock import VirtualClockLoop

    async def race() -> tuple[float, bool]:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.sleep(100), 1.0)
            timed_out = False
        except TimeoutError:
            timed_out = True
        await asyncio.sleep(5)
        return loop.time(), timed_out

    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        now, timed_out = runner.run(race())
    assert timed_out and now == pytest.approx(6.0)  # 1 s to the timeout, then 5 s more


def test_an_unknown_clock_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "priority_ordering.py").write_text(SHAPES)
    with ScenarioClient(tmp_path, "priority_ordering", timeout=5) as runner, \
            pytest.raises(SubmissionError, match="unknown scenario clock 'fast'"):
        runner.run({"ops": [], "clock": "fast"})


BUS_REFUSED = "day25.bus is off limits in this exercise"
WRAPPER = """
class PriorityEmitter:
    def __init__(self):
        self.bus = {make}
    def on(self, event, handler, priority=2):
        return self.bus.on(event, handler, priority=priority)
    def off(self, event, handler):
        self.bus.off(event, handler)
    async def emit(self, event, *args, **kwargs):
        await self.bus.emit(event, *args, **kwargs)
"""


@pytest.mark.parametrize(("imports", "make", "refused"), [
    ("from day25 import EventBus", "EventBus()", BUS_REFUSED),
    ("from day25.bus import EventBus", "EventBus()", BUS_REFUSED),
    ("import importlib", "importlib.import_module('day25.bus').EventBus()", BUS_REFUSED),
    ("from day25 import Namespace", "Namespace(None, 'x')",
     "day25.namespace is off limits in this exercise"),
    ("import day25.registry", "None", "day25.registry is off limits in this exercise"),
])
def test_exercise_1_refuses_the_bundled_bus(tmp_path: Path, imports: str, make: str,
                                            refused: str) -> None:
    """A PriorityEmitter wrapped around day25's bus scored 21 of 25; its own is graded."""
    (tmp_path / "priority_ordering.py").write_text(imports + WRAPPER.format(make=make))
    ops = [{"op": "on", "event": "e", "listener": "a"}, {"op": "emit", "event": "e"}]
    with ScenarioClient(tmp_path, "priority_ordering", timeout=5) as runner:
        try:
            result = runner.run({"ops": ops})
        except SubmissionError as exc:  # refused at import: nothing of it was checked
            message = str(exc)
        else:  # refused when __init__ ran: each scenario says so
            message = str(result.get("setup_error"))
    assert refused in message, message
    assert "`from day25 import EventPriority` is fine" in message


def test_exercise_1_may_still_import_the_priorities(tmp_path: Path) -> None:
    (tmp_path / "priority_ordering.py").write_text(
        "import day25\nfrom day25 import EventPriority, coerce_priority\n"
        "class PriorityEmitter:\n"
        "    def __init__(self):\n"
        "        self.level = coerce_priority(day25.EventPriority.HIGH)\n"
        "    def on(self, event, handler, priority=EventPriority.MEDIUM):\n"
        "        return handler\n")
    ops = [{"op": "on", "event": "e", "listener": "a"}]
    with ScenarioClient(tmp_path, "priority_ordering", timeout=5) as runner:
        result = runner.run({"ops": ops})
    assert "setup_error" not in result and result["ops"][0].get("error") is None, result


def test_what_was_printed_before_a_reply_is_in_the_output_when_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Output and replies travel on different pipes: a reply must not overtake the
    output printed before it, however busy the machine (a check of the log would
    otherwise depend on timing). The output's reader is made slow, as on a loaded
    machine; four pipe-fuls, the last line unterminated."""
    add = inside_process._Tail.add

    def slow_add(self: inside_process._Tail, chunk: bytes) -> None:
        time.sleep(0.02)
        add(self, chunk)

    monkeypatch.setattr(inside_process._Tail, "add", slow_add)
    (tmp_path / "priority_ordering.py").write_text(textwrap.dedent('''
        class PriorityEmitter:
            def __init__(self):
                self.handlers = []

            def on(self, event, handler, priority=2):
                self.handlers.append(handler)
                return handler

            async def emit(self, event, payload=None, **kwargs):
                print("x" * 65536 * 4)
                print(f"the end of emit {payload}", end="")
                for h in self.handlers:
                    h(payload)
    '''))
    with ScenarioClient(tmp_path, "priority_ordering", timeout=10) as runner:
        for i in range(20):
            runner.run(emit(i))
            assert runner.output.endswith(f"the end of emit {i}"), runner.output[-60:]


def test_an_emit_that_never_ends_is_stopped_by_its_call_count_not_the_timeout(
    tmp_path: Path,
) -> None:
    """Iterating the live list: a listener that registers itself again is met again
    and again. The run stops it at CALLS_PER_OP calls, with a message, in well under the
    timeout, and the scenario's next operations still run."""
    (tmp_path / "priority_ordering.py").write_text(textwrap.dedent('''
        class PriorityEmitter:
            def __init__(self):
                self.handlers = []

            def on(self, event, handler, priority=2):
                self.handlers.append(handler)
                return handler

            def off(self, event, handler):
                self.handlers = [h for h in self.handlers if h != handler]

            async def emit(self, event, payload=None, **kwargs):
                for h in self.handlers:  # no snapshot
                    try:
                        h(payload)
                    except Exception:
                        pass  # collecting errors must not hide the endless loop
    '''))
    ops = [{"op": "on", "event": "e", "listener": "self",
            "then": [{"op": "on", "event": "e", "listener": "self"}]},
           {"op": "emit", "event": "e", "payload": 1},
           {"op": "off", "event": "e", "listener": "self"}]
    with ScenarioClient(tmp_path, "priority_ordering", timeout=60) as runner:
        started = time.monotonic()
        result = runner.run({"ops": ops})
        took = time.monotonic() - started
    emitted = result["ops"][1]
    assert emitted["error"].startswith("stopped after 1,000 listener calls in one operation")
    assert "(at priority_ordering.py line 16, in emit: h(payload))" in emitted["error"]
    told = first_difference(ops, [{"trace": []}] * 3, result)
    assert told is not None and "At step 2 your code was stopped after 1,000" in told, told
    assert len(emitted["trace"]) == 1_000
    assert result["ops"][2] == {"op": "off", "trace": [], "error": None}
    assert took < 30, f"{took:.1f} s: decided by the timeout, not by the call count"
