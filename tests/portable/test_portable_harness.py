"""One harness, two runners: what the portable runner changes, and what a broken runner raises.

The harness's own suites (``tests/harness``) run unchanged under the portable
runner and under simulated Windows (:func:`test_the_harness_suites_hold`); the
tests below check what is the portable runner's own: plain processes, apps on
TCP that see the same requests, and a :class:`RunnerError` (never a
``SubmissionError``) when the program that runs a submission cannot start.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from day25.course.harness import AppServer, ScenarioClient, SubmissionCrashed, inside_process
from day25.course.protocol import ScenarioResult
from day25.course.sandbox.runner import RunnerError

from .conftest import run, simulated_env

APP = '''
from nexios import NexiosApp
from nexios.websockets import WebSocket
import day25

def create_app():
    app = NexiosApp()
    day25.install(app)

    @app.get("/host")
    async def host(req, res):
        await app.events.emit("asked", req.headers.get("host"))
        return res.json({"host": req.headers.get("host")})

    @app.ws_route("/host")
    async def ws_host(ws: WebSocket):
        await ws.accept()
        await ws.send_json({"host": ws.headers.get("host")})
    return app
'''

EMITTER = '''
class PriorityEmitter:
    def __init__(self):
        self.handlers = []
    def on(self, event, handler, priority=2):
        self.handlers.append(handler)
    def off(self, event, handler):
        pass
    async def emit(self, event, *args):
        for handler in self.handlers:
            handler(*args)
'''
SCENARIO = {"ops": [{"op": "on", "event": "e", "listener": "a", "kind": "sync"},
                    {"op": "emit", "event": "e", "payload": 1}]}


@pytest.fixture
def portable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY25_RUNNER", "portable")


def _module(folder: Path, name: str, body: str) -> Path:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))
    return folder


def _scenario(folder: Path, body: str, timeout: float) -> ScenarioResult:
    with ScenarioClient(_module(folder, "priority_ordering", body), "priority_ordering",
                        timeout=timeout) as scenarios:
        return scenarios.run(SCENARIO)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("system", [None, "windows"])
def test_the_harness_suites_hold(system: str | None) -> None:
    """The harness's suites, unchanged, on the portable runner (chosen, or by simulated
    Windows). Not ``test_zygote`` (the sandboxed runner's) nor ``test_no_orphans``: with
    no kernel parent-death signal, the portable runner's processes end when the harness
    ends them (docs/guides/instructor.md)."""
    env = simulated_env(system, **({"DAY25_RUNNER": "portable"} if system is None else {}))
    proc = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/harness/test_app_server.py",
                "tests/harness/test_scenario_client.py", "tests/harness/test_app_process.py"],
               env, timeout=800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


async def test_apps_serve_on_tcp_and_see_the_same_requests(portable: None,
                                                           tmp_path: Path) -> None:
    with AppServer(_module(tmp_path, "chat_broadcasting", APP), "chat_broadcasting") as server:
        assert server.uds is None
        app = server._app
        assert app is not None and isinstance(app.port, int)
        assert isinstance(app.proc, subprocess.Popen) and app.proc.args[0] == sys.executable
        async with server.http() as client:
            response = await client.get("/host")
        assert response.json() == {"host": "localhost"}  # as over a Unix socket
        assert server.events("asked") == [{"event": "asked", "args": ["localhost"],
                                           "kwargs": {}}]
        async with server.connect("/host") as ws:
            assert await server.recv_json(ws) == {"host": "localhost"}
        first = app.port
        server.restart()  # a new process, a port of its own
        assert server._app is not None and server._app.port != first
        async with server.http() as client:
            assert (await client.get("/host")).json() == {"host": "localhost"}


def test_an_app_on_tcp_gets_no_delayed_ack_stall() -> None:
    """Without ``TCP_NODELAY`` on its accepted sockets, each response uvicorn writes in two
    pieces waits for the client's delayed ACK: a 40 ms stall on every request to an app
    of the portable runner (a student's ``day25 check`` on macOS or Windows). asyncio
    sets it only on sockets accepted from a listener made with ``IPPROTO_TCP``; checked
    without a clock, as ``tests/serve/test_latency.py`` does for ``day25 serve``."""
    from day25.course.inside.app_events import EventLog
    from day25.course.inside.apps import RunningApp

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    running = RunningApp(app, None, EventLog(), False, None)  # type: ignore[arg-type]
    assert running.socket is not None
    try:
        assert running.socket.proto == socket.IPPROTO_TCP
    finally:
        running.socket.close()


@pytest.mark.parametrize("runner", ["sandboxed", "portable"])
def test_an_inside_program_that_cannot_start_is_a_runner_error(
        runner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It dies before saying it is ready: no code of the submission ran."""
    monkeypatch.setenv("DAY25_RUNNER", runner)
    monkeypatch.setattr(inside_process, "INSIDE_MODULE", "day25.course.no_such_program")
    with pytest.raises(RunnerError, match=r"(?s)the program that runs your code exited "
                       r"with code 1 before it started.*No module named"):
        _scenario(tmp_path, EMITTER, 20)


def test_one_that_never_says_ready_is_a_runner_error(
        portable: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "stuck_program.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "lib"))
    monkeypatch.setattr(inside_process, "INSIDE_MODULE", "stuck_program")
    with pytest.raises(RunnerError, match="did not start within 2 s"):
        _scenario(tmp_path, EMITTER, 2)


def test_a_process_that_cannot_be_started_is_a_runner_error(
        portable: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    with pytest.raises(RunnerError, match="a process to run your code could not be started"):
        _scenario(tmp_path, EMITTER, 5)


def test_a_crash_of_the_code_itself_is_still_the_codes(portable: None, tmp_path: Path) -> None:
    body = "import os\nos._exit(3)\n"  # at import: after the program said it was ready
    with pytest.raises(SubmissionCrashed, match="exited with code 3"):
        _scenario(tmp_path, body, 10)


def test_scenarios_give_the_same_result_on_both_runners(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _module(tmp_path, "priority_ordering", EMITTER)
    results = []
    for runner in ("sandboxed", "portable"):
        monkeypatch.setenv("DAY25_RUNNER", runner)
        with ScenarioClient(folder, "priority_ordering") as scenarios:
            results.append(json.dumps(scenarios.run(SCENARIO), sort_keys=True))
    assert results[0] == results[1] and '"trace": [["a", 1]]' in results[0]
