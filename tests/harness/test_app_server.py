"""AppServer: a real uvicorn child; crashes, hangs and restarts cost one call."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from day25.course.harness import (
    AppServer,
    SubmissionCrashed,
    SubmissionError,
    SubmissionSettled,
    SubmissionTimeout,
)
from day25.course.sandbox.zygote import Zygote

APP = '''
import os, time
from nexios import NexiosApp
from nexios.websockets import WebSocket
import day25

print("printed by the submission")

def block():  # a probe's blocking call: where the loop stopped
    time.sleep(60)

def create_app(greeting="hi", db_path="state.txt"):
    app = NexiosApp()
    day25.install(app)
    count = int(open(db_path).read()) if os.path.exists(db_path) else 0
    open(db_path, "w").write(str(count + 1))

    @app.get("/hello")
    async def hello(req, res):
        await app.events.emit("said.hello", {"greeting": greeting})
        return res.json({"greeting": greeting, "starts": count + 1})

    @app.ws_route("/echo")
    async def echo(ws: WebSocket):
        await ws.accept()
        while True:
            msg = await ws.receive_json()
            if msg.get("block"):
                time.sleep(60)
            if msg.get("die"):
                os._exit(3)
            if msg.get("close"):
                await ws.close(4400)
                return
            if msg.get("deep"):  # JSON nested past the stack: json.loads raises RecursionError
                await ws.send_text("[" * 30000)
                continue
            await ws.send_json({"echo": msg})
    return app
'''


def write(tmp_path: Path, body: str, name: str = "chat_broadcasting") -> Path:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    return tmp_path


async def test_http_websocket_events_and_restart(tmp_path: Path) -> None:
    server = AppServer(write(tmp_path, APP), "chat_broadcasting", factory_kwargs={"greeting": "yo"})
    with server:
        async with server.http() as client:
            r = await client.get("/hello")
        assert r.json() == {"greeting": "yo", "starts": 1}
        assert server.events("said.hello") == [
            {"event": "said.hello", "args": [{"greeting": "yo"}], "kwargs": {}}
        ]
        async with server.connect("/echo") as ws:
            await ws.send('{"a": 1}')
            assert await server.recv_json(ws) == {"echo": {"a": 1}}
            await ws.send('{"close": 1}')
            assert await server.expect_close(ws) == (4400, "")
        assert "printed by the submission" in server.output  # prints land in the log
        server.restart()  # same kwargs, same work directory: the state file survives
        async with server.http() as client:
            assert (await client.get("/hello")).json()["starts"] == 2
        assert len(server.events()) == 1  # a new process has a new log
        assert server.processes_started == 2
        server.restart(greeting="hey")  # another setting, the same data: both show
        async with server.http() as client:
            assert (await client.get("/hello")).json() == {"greeting": "hey", "starts": 3}
        with pytest.raises(TypeError, match="not JSON serializable"):
            server.restart(greeting=object())  # fails here, not inside the app process


async def test_a_crash_costs_one_call_and_a_fresh_child_serves_the_next(tmp_path: Path) -> None:
    with AppServer(write(tmp_path, APP), "chat_broadcasting", timeout=2) as server:
        async with server.connect("/echo") as ws:
            await ws.send('{"die": 1}')
            with pytest.raises(SubmissionCrashed, match="exited"):
                await server.recv_json(ws)
        async with server.connect("/echo") as ws:
            await ws.send('{"a": 2}')
            assert await server.recv_json(ws) == {"echo": {"a": 2}}
        assert server.processes_started == 2


async def test_a_frame_nested_past_the_stack_is_named_not_a_crash_of_the_grader(
    tmp_path: Path,
) -> None:
    with AppServer(write(tmp_path, APP), "chat_broadcasting", timeout=2) as server:
        async with server.connect("/echo") as ws:
            await ws.send('{"deep": 1}')
            with pytest.raises(SubmissionError, match=r"a frame that is not JSON text: '\[\[\["):
                await server.recv_json(ws)


async def test_a_blocked_event_loop_is_reported_and_replaced(tmp_path: Path) -> None:
    with AppServer(write(tmp_path, APP), "chat_broadcasting", timeout=1) as server:
        async with server.connect("/echo") as ws:
            await ws.send('{"block": 1}')
            with pytest.raises(SubmissionTimeout, match="event loop is blocked") as blocked:
                await server.recv_json(ws)
        async with server.connect("/echo") as ws:
            await ws.send('{"a": 3}')
            assert await server.recv_json(ws) == {"echo": {"a": 3}}
    # where the loop's thread was blocked: the student's frames only, as a traceback says it
    sleep = textwrap.dedent(APP).splitlines().index("                time.sleep(60)") + 1
    assert ("\nIt was blocked here (most recent call last):\n"
            f'  File "chat_broadcasting.py", line {sleep}, in echo\n'
            "    time.sleep(60)\n") in str(blocked.value), str(blocked.value)


async def test_a_probe_out_of_time_says_whether_the_loop_was_blocked_and_where(
    tmp_path: Path,
) -> None:
    """A student's test (stop 58): a probe stuck on an SQLite lock that another connection
    held read "did not finish probing within 5 s: an endless loop ...?", and nothing of where."""
    with AppServer(write(tmp_path, APP), "chat_broadcasting", timeout=1) as server:
        waits = ("import asyncio\nasync def probe(module):\n    try:\n"
                 "        await asyncio.Event().wait()\n    finally:\n        module.ENDED = 1")
        with pytest.raises(SubmissionTimeout, match="did not finish probing within 1 s: a "
                           "listener or a task it waits for that never ends") as waiting:
            await server.probe(waits)
        assert "blocked" not in str(waiting.value)  # its loop answered: nothing blocks it
        ended = "def probe(module):\n    return getattr(module, 'ENDED', 0)"
        assert await server.probe(ended) == 1  # cancelled: it does not run on beside the next
        with pytest.raises(SubmissionTimeout, match="event loop is blocked") as blocked:
            await server.probe("def probe(module):\n    module.block()")
        assert ', in block\n    time.sleep(60)\n' in str(blocked.value), str(blocked.value)
        async with server.connect("/echo") as ws:  # the next check starts the app afresh
            await ws.send('{"a": 4}')
            assert await server.recv_json(ws) == {"echo": {"a": 4}}


def test_create_app_raising_is_a_clear_error(tmp_path: Path) -> None:
    body = "def create_app():\n    raise NotImplementedError('TODO: build the app')\n"
    server = AppServer(write(tmp_path, body), "chat_broadcasting")
    try:
        with pytest.raises(SubmissionError, match=r"Not done yet: TODO: build the app in your "
                           r"chat_broadcasting.py still raises NotImplementedError \(at "
                           r"chat_broadcasting.py line 2, in create_app: raise"):
            server.start()
    finally:
        server.stop()


def test_an_import_error_is_a_clear_error(tmp_path: Path) -> None:
    server = AppServer(write(tmp_path, "import no_such_module_here\n"), "chat_broadcasting")
    try:
        with pytest.raises(SubmissionError, match=r"Importing your chat_broadcasting.py failed"):
            server.start()
    finally:
        server.stop()


def test_a_top_level_that_never_ends_is_named_as_such(tmp_path: Path) -> None:
    server = AppServer(write(tmp_path, "while True:\n    pass\n"), "chat_broadcasting",
                       startup_timeout=2)
    try:
        with pytest.raises(SubmissionTimeout, match=r"Importing your chat_broadcasting.py failed"
                           r"(.|\n)*its top level did not finish within 2 s"):
            server.start()
    finally:
        server.stop()


def test_a_missing_module_is_named(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match=r"no chat_broadcasting.py"):
        AppServer(tmp_path, "chat_broadcasting")


def test_events_without_a_day25_bus_say_what_to_do(tmp_path: Path) -> None:
    body = "from nexios import NexiosApp\ndef create_app():\n    return NexiosApp()\n"
    with AppServer(write(tmp_path, body), "chat_broadcasting") as server:
        with pytest.raises(SubmissionError, match=r"day25\.install"):
            server.events()
        with pytest.raises(SubmissionError, match=r"day25\.install"):
            asyncio.run(server.emit("room.message", {}))


LISTENING = '''
from nexios import NexiosApp
import day25

def create_app():
    app = NexiosApp()
    day25.install(app)
    heard = []

    @app.events.on("room.message")
    def relay(payload):
        heard.append(payload["text"])
        app.events.fire("relayed", list(heard))

    @app.events.on("room.message")
    def picky(payload):
        if payload["text"] == "bad":
            error = ValueError("no bad words")
            app.events.fire("ws.error", {"error": error})
            raise error

    return app
'''


async def test_the_grader_emits_on_app_events_as_the_app_would(tmp_path: Path) -> None:
    with AppServer(write(tmp_path, LISTENING), "chat_broadcasting") as server:
        assert await server.emit("room.message", {"text": "hi"}) == []
        assert await server.emit("room.message", {"text": "bad"}) == [
            "ValueError: no bad words"]  # what the app's listeners raised, for the message
        relayed = await server.wait_for_event("relayed", count=2)
        assert [e["args"] for e in relayed] == [[["hi"]], [["hi", "bad"]]]
        # a check's probe runs on the app's module, in the app process
        assert await server.probe("def probe(module):\n    return module.__name__") == \
            "chat_broadcasting"
        with pytest.raises(SubmissionError, match="the probe raised ZeroDivisionError"):
            await server.probe("def probe(module):\n    return 1 / 0")
        # a value JSON cannot hold is recorded as what it is, never as a string
        [error] = await server.wait_for_event("ws.error")
        assert error["args"] == [
            {"error": {"not JSON": "ValueError", "repr": "ValueError('no bad words')"}}]


LATE = '''
import asyncio
from nexios import NexiosApp
import day25

def create_app():
    app = NexiosApp()
    day25.install(app)

    @app.get("/later")
    async def later(req, res):
        async def emit_soon():
            await asyncio.sleep(0.1)  # still work to come: a timer due soon
            await app.events.emit("said.later")
        app.state.task = asyncio.get_running_loop().create_task(emit_soon())
        return res.json({})

    @app.get("/never")
    async def never(req, res):
        return res.json({})
    return app
'''


async def test_an_event_that_never_comes_is_decided_when_the_app_settles(tmp_path: Path) -> None:
    """A missing emit costs a fraction of a second, not the timeout; one still to come
    (a timer due soon) is waited for."""
    import time

    with AppServer(write(tmp_path, LATE), "chat_broadcasting", timeout=20) as server:
        async with server.http() as client:
            await client.get("/later")
            assert len(await server.wait_for_event("said.later")) == 1
            await client.get("/never")
        started = time.monotonic()
        with pytest.raises(SubmissionSettled,
                           match=r"emitted it 1 time.*nothing left to do") as missing:
            await server.wait_for_event("said.later", count=2)
        assert not isinstance(missing.value, SubmissionTimeout), "an app that settled did not hang"
        assert time.monotonic() - started < 10, "decided by the timeout, not by settling"


RAISES = '''
from nexios import NexiosApp
from nexios.websockets import WebSocket
import day25

def create_app():
    app = NexiosApp()
    day25.install(app)

    @app.ws_route("/boom")
    async def boom(ws: WebSocket):
        await ws.accept()
        await ws.receive_text()
        1 / 0
    return app
'''


@pytest.fixture
def readable_tmp(tmp_path: Path) -> Path:
    tmp_path.chmod(0o755)  # the sandboxed app process reads the submission as another uid
    return tmp_path


async def test_what_the_app_logs_reaches_the_output_in_every_runner(
    readable_tmp: Path, zygote: Zygote | None
) -> None:
    """nexios logs through a queue and a thread started at import; in an app process
    forked from the warm zygote (the session's, as a grading session has; ``None``
    under the portable runner) that thread is gone. The log must still show the
    traceback, as it does under the portable runner: a check of the log may not grade
    the same code two ways."""
    with AppServer(write(readable_tmp, RAISES), "chat_broadcasting", zygote=zygote) as server:
        async with server.connect("/boom") as ws:
            await ws.send("go")
            await server.expect_close(ws)
        await server.settled()
        assert "ZeroDivisionError" in server.output and "Traceback" in server.output, (
            server.output[-800:])
