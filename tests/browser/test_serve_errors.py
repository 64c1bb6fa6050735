"""What ``day25 serve`` says for each bad start, and that a restart keeps queued notifications.

These run the real command as a subprocess (no browser needed) and talk real HTTP
and WebSocket to it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from websockets.sync.client import connect

from day25.serve.demo import DEMO_DIR

from .conftest import ROOT, day25_command, start_serve

pytestmark = pytest.mark.timeout(120)

STUB_CREATE_APP = '''
def create_app(*args, **kwargs):
    raise NotImplementedError("write create_app")
'''
STUB_HANDLERS = '''
from nexios import NexiosApp


def create_app(db_path="n.sqlite3", *, ttl_seconds=86400.0, max_per_user=100):
    app = NexiosApp()

    @app.post("/notifications")
    async def post(request, response):
        return await store_notification(request)

    @app.ws_route("/notifications/{user}")
    async def inbox(ws):
        await send_backlog(ws)

    return app


async def store_notification(request):
    raise NotImplementedError("validate, store, deliver")


async def send_backlog(ws):
    raise NotImplementedError
'''


def run_serve(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """A ``day25 serve`` that is expected to refuse to start: it must exit by itself."""
    return subprocess.run(
        [*day25_command(), "serve", "--host", "127.0.0.1", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )


def test_port_taken_is_one_clear_sentence(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_serve("--port", str(port), "--db", str(tmp_path / "db.sqlite3"))
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_implementation_folder_and_module(tmp_path: Path) -> None:
    result = run_serve("--impl", str(tmp_path / "nowhere"), "--port", "0")
    assert result.returncode == 2
    assert "nowhere: no such directory" in result.stderr

    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(DEMO_DIR / "chat_broadcasting.py", half)
    result = run_serve("--impl", str(half), "--port", "0", "--db", str(tmp_path / "db.sqlite3"))
    assert result.returncode == 2
    assert "has no module notification_queueing.py" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_implemented_names_both_exercises(tmp_path: Path) -> None:
    for exercise in ("chat_broadcasting", "notification_queueing"):
        (tmp_path / f"{exercise}.py").write_text(STUB_CREATE_APP)
    result = run_serve("--impl", str(tmp_path), "--port", "0", "--db", str(tmp_path / "db"))
    assert result.returncode == 2
    for exercise in ("chat_broadcasting", "notification_queueing"):
        assert f"{exercise}.create_app() raises NotImplementedError" in result.stderr
    assert "Traceback" not in result.stderr


def test_stub_at_first_use_becomes_a_clear_error_and_chat_still_works(tmp_path: Path) -> None:
    impl = tmp_path / "impl"
    impl.mkdir()
    shutil.copy(DEMO_DIR / "chat_broadcasting.py", impl)
    (impl / "notification_queueing.py").write_text(STUB_HANDLERS)
    server = start_serve(["--impl", str(impl), "--db", str(tmp_path / "db.sqlite3")])
    try:
        status, body = server.post("/notifications", {"user": "bob", "title": "hi"})
        assert status == 501
        assert body["error"] == (
            "exercise 'notification_queueing' is not implemented yet: "
            "notification_queueing.store_notification() raises NotImplementedError "
            "(validate, store, deliver)"
        )
        bob, ann = server.token("bob"), server.token("ann")
        with connect(f"{server.ws_url}/notifications/bob?token={bob}", open_timeout=10) as inbox:
            frame = json.loads(inbox.recv(timeout=10))
            assert frame["code"] == "not_implemented"
            assert "notification_queueing.send_backlog()" in frame["message"]
        with connect(f"{server.ws_url}/chat/lobby?user=ann&token={ann}", open_timeout=10) as chat:
            assert json.loads(chat.recv(timeout=10))["type"] == "roster"
    finally:
        server.stop()


def test_restart_keeps_queued_notifications_in_order(tmp_path: Path) -> None:
    db = tmp_path / "queue.sqlite3"
    server = start_serve(["--db", str(db)])
    try:
        sent = [server.post("/notifications", {"user": "zed", "title": f"n{i}"})[1]
                for i in range(3)]
    finally:
        server.stop()
    assert [s["seq"] for s in sent] == [1, 2, 3]

    server = start_serve(["--db", str(db)])  # a new server: the old tokens are void
    try:
        path = f"/notifications/zed?token={server.token('zed')}"
        with connect(f"{server.ws_url}{path}", open_timeout=10) as inbox:
            frames = [json.loads(inbox.recv(timeout=10)) for _ in range(4)]
        assert [f.get("title") for f in frames[:3]] == ["n0", "n1", "n2"]
        assert [f["id"] for f in frames[:3]] == [s["id"] for s in sent]
        assert frames[3] == {"type": "backlog_end", "count": 3}
        assert server.post("/notifications", {"user": "zed", "title": "n3"})[1]["seq"] == 4
    finally:
        server.stop()


def test_the_real_exercise_stubs_are_named_with_their_function(tmp_path: Path) -> None:
    result = run_serve("--impl", "exercises", "--port", "0", "--db", str(tmp_path / "db"))
    assert result.returncode == 2
    assert "chat_broadcasting.create_app() raises NotImplementedError" in result.stderr
    assert "notification_queueing.create_app() raises NotImplementedError" in result.stderr
