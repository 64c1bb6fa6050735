"""AppProcess: one process serves a fresh app per test, and nothing carries over.

What a test must be able to rely on, however many apps the host served before:
module state (the exercise's and its helpers') starts afresh, relative paths
land in that app's own folder, and whatever an app leaves behind (a thread, a
task that will not stop) costs a new process rather than leaking into the next.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from day25.course.harness import AppServer
from day25.course.harness.app_process import AppProcess
from day25.course.harness.errors import SubmissionError

APP = '''
import asyncio, os, sys, threading
from nexios import NexiosApp
import day25
import helper

CALLS = []  # module state: must be empty in every fresh app

def create_app(mode="plain"):
    if mode == "stub":
        raise NotImplementedError("create_app")
    if mode == "helper":
        helper.parse("oops")
    CALLS.append(1)
    helper.SEEN.append(1)
    app = NexiosApp()
    day25.install(app)
    starts = int(open("starts.txt").read()) + 1 if os.path.exists("starts.txt") else 1
    open("starts.txt", "w").write(str(starts))
    if mode == "thread":
        threading.Thread(target=threading.Event().wait, daemon=True).start()

    @app.on_startup
    async def background():
        async def spin():
            while True:
                await asyncio.sleep(0.01)
        async def stubborn():
            while True:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    pass
        if mode == "spin":
            app.spinner = asyncio.get_running_loop().create_task(spin())
        if mode == "stubborn":
            app.stubborn = asyncio.get_running_loop().create_task(stubborn())

    @app.get("/state")
    async def state(req, res):
        return res.json({"calls": len(CALLS), "helper": len(helper.SEEN), "starts": starts,
                         "pid": sys.__dict__.setdefault("process_token", os.urandom(8).hex())})
    return app
'''


@pytest.fixture
def host(tmp_path: Path) -> Iterator[AppProcess]:
    (tmp_path / "chat_broadcasting.py").write_text(textwrap.dedent(APP))
    (tmp_path / "helper.py").write_text("SEEN = []\ndef parse(text):\n    return float(text)\n")
    with AppProcess(tmp_path, "chat_broadcasting") as made:
        yield made


async def state(server: AppServer) -> dict[str, Any]:
    async with server.http() as client:
        reply = await client.get("/state")
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def serve(tmp_path: Path, host: AppProcess, **kwargs: str) -> AppServer:
    return AppServer(tmp_path, "chat_broadcasting", factory_kwargs=kwargs, app_process=host).start()


async def test_every_app_gets_fresh_modules_and_its_own_folder(tmp_path: Path,
                                                               host: AppProcess) -> None:
    pids = set()
    for _ in range(3):
        server = serve(tmp_path, host)
        got = await state(server)
        assert (got["calls"], got["helper"], got["starts"]) == (1, 1, 1), got
        pids.add(got["pid"])
        server.stop()
    assert len(pids) == 1 and host.processes_started == 1  # one process served all three


def test_a_create_app_that_raises_is_told_in_the_students_own_terms(tmp_path: Path,
                                                                     host: AppProcess) -> None:
    """The audit: a stub's create_app() showed the grader's frame (inside/apps.py) and the
    copy's temporary path. A stub gets the steps' "not done yet" sentence; any other error
    its traceback through the student's files only, named as they name them."""
    with pytest.raises(SubmissionError) as stub:
        serve(tmp_path, host, mode="stub")
    assert str(stub.value) == (
        "Not done yet: create_app in your chat_broadcasting.py still raises NotImplementedError "
        "(at chat_broadcasting.py line 11, in create_app: "
        "raise NotImplementedError(\"create_app\")).")
    with pytest.raises(SubmissionError) as crash:
        serve(tmp_path, host, mode="helper")
    lines = str(crash.value).splitlines()
    assert lines[:3] == ["create_app() in your chat_broadcasting.py raised, so the app could not "
                         "start.", "Traceback (most recent call last):",
                         '  File "chat_broadcasting.py", line 13, in create_app']
    assert '  File "helper.py", line 3, in parse' in lines
    assert lines[-1] == "ValueError: could not convert string to float: 'oops'"
    assert not [line for line in lines if "apps.py" in line or "/" in line], lines


async def test_a_stray_thread_retires_the_host(tmp_path: Path, host: AppProcess) -> None:
    first = serve(tmp_path, host, mode="thread")
    before = (await state(first))["pid"]
    first.stop()
    second = serve(tmp_path, host)
    got = await state(second)
    second.stop()
    assert got["pid"] != before and host.processes_started == 2


async def test_a_dropped_app_takes_its_tasks_along(tmp_path: Path, host: AppProcess) -> None:
    first = serve(tmp_path, host, mode="spin")
    assert not await first.settled(limit=0.3)  # its task keeps the loop busy
    first.stop()
    second = serve(tmp_path, host)
    assert await second.settled(limit=2.0)  # nothing of the first app runs any more
    assert host.processes_started == 1
    second.stop()


async def test_a_task_that_ignores_cancellation_costs_a_new_process(tmp_path: Path,
                                                                    host: AppProcess) -> None:
    first = serve(tmp_path, host, mode="stubborn")
    before = (await state(first))["pid"]
    first.stop()  # the app's loop cannot finish: the host is killed instead
    second = serve(tmp_path, host)
    assert (await state(second))["pid"] != before
    second.stop()


async def test_restart_is_a_new_process_with_the_same_folder(tmp_path: Path,
                                                             host: AppProcess) -> None:
    server = serve(tmp_path, host)
    before = await state(server)
    server.restart()
    after = await state(server)
    server.stop()
    assert after["pid"] != before["pid"] and after["starts"] == 2 and after["calls"] == 1


async def test_a_start_after_a_kill_serves_a_new_process_before_the_exit_is_reported(
        tmp_path: Path, host: AppProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed app process is gone for the grader at once: on a loaded machine its exit
    may be reported after the kill returned, and ``start`` must not take the old app for a
    live one then (the next request would reach a dead process and cost an honest app the
    test: hidden notification_queueing kills its app and starts it again)."""
    server = serve(tmp_path, host)
    before = await state(server)
    app = server._app
    assert app is not None
    monkeypatch.setattr(app.process, "alive", lambda: True)  # its exit not reported yet
    host.kill()  # like kill -9, as the hidden suite does
    server.start()
    after = await state(server)
    server.stop()
    assert after["pid"] != before["pid"]


async def test_a_malformed_request_gets_an_error_and_the_app_keeps_serving(
        tmp_path: Path, host: AppProcess) -> None:
    server = serve(tmp_path, host)
    before = await state(server)
    app = server._app
    assert app is not None
    for bad, says in (({"cmd": "settle", "limit": "soon"}, "bad request: ValueError"),
                      ({"cmd": "warp"}, "unknown command 'warp'")):
        reply = app.request(bad, timeout=5, what="a malformed request")
        assert reply["ok"] is False and says in reply["error"], reply
    stranger = app.process.request({"cmd": "events", "app": "x"}, timeout=5, what="no such app")
    assert stranger["ok"] is False and "no app 'x' is running" in stranger["error"]
    after = await state(server)  # same app, same process: nothing was lost
    assert after["pid"] == before["pid"] and host.processes_started == 1
    server.stop()


def test_concurrent_requests_each_get_their_own_reply(tmp_path: Path,
                                                      host: AppProcess) -> None:
    """ci86: two checks of one test asked at once (``asyncio.gather`` of two
    ``expect_silence``), and the thread waiting for the second reply took the first and
    dropped it; the first waited out its 9 s, and the app was called hung only on a
    loaded machine. Here the first reply is surely in when the second waiter starts."""
    import threading
    import time

    server = serve(tmp_path, host)
    app = server._running()
    first = app.process.send({"cmd": "faults", "app": app.app_id})
    second = app.process.send({"cmd": "faults", "app": app.app_id})
    time.sleep(0.5)  # both replies are in by now, the first one ahead
    got: dict[str, Any] = {}
    waiter = threading.Thread(target=lambda: got.update(
        second=app.process.wait_for(second, 5, "answering the second")))
    waiter.start()
    waiter.join()
    got["first"] = app.process.wait_for(first, 5, "answering the first")
    assert got["first"]["id"] == first and got["second"]["id"] == second
