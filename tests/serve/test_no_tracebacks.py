"""No 4xx or 5xx answer of ``day25 serve`` carries a traceback, a source path or a secret.

Nexios apps run in debug mode unless told otherwise; their error middleware then
answers a crash with the traceback as text, or with ``Accept: text/html`` a
~100 KB debug page (source, locals, versions). ``day25 serve`` turns debug off
and replaces every 5xx body of an app with one fixed sentence; the traceback
goes to the server's log, where the student who runs it looks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ..browser.conftest import request_json
from .conftest import ServeProcess, start_serve

pytestmark = pytest.mark.timeout(120)

SECRET = "s3cret-detail-in-the-exception"
LEAKS = ("Traceback", 'File "', SECRET, ".py", "nexios_version", "<html")
CRASHING_NOTIFICATIONS = f'''
import traceback

from nexios import NexiosApp


def create_app(db_path="n.sqlite3", *, ttl_seconds=86400.0, max_per_user=100):
    app = NexiosApp()

    @app.post("/notifications")
    async def crash(req, res):
        if (await req.json).get("leak"):  # an app that sends its traceback itself
            try:
                raise KeyError("{SECRET}")
            except KeyError:
                return res.text(traceback.format_exc(), status_code=503)
        raise ValueError("{SECRET}")

    return app
'''
CRASHING_CHAT = f'''
from nexios import NexiosApp


def create_app():
    app = NexiosApp()

    @app.ws_route("/chat/{{room}}")
    async def crash(ws):
        await ws.accept()
        raise RuntimeError("{SECRET}")

    return app
'''


@pytest.fixture(scope="module")
def crashing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    impl = tmp_path_factory.mktemp("crashing")
    (impl / "notification_queueing.py").write_text(CRASHING_NOTIFICATIONS)
    (impl / "chat_broadcasting.py").write_text(CRASHING_CHAT)
    process = start_serve(["--impl", str(impl), "--db", str(impl / "db.sqlite3")])
    yield process
    process.stop()


def assert_clean(status: int, body: object, what: str) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    leaked = [leak for leak in LEAKS if leak in text]
    assert not leaked, f"{what}: {status} answer leaks {leaked}: {text[:500]}"


def test_a_crashing_handler_answers_500_without_its_traceback(crashing: ServeProcess) -> None:
    for accept in ("application/json", "text/html", "*/*"):
        status, body = crashing.post("/notifications", {"user": "a", "title": "t"},
                                     headers={"accept": accept})
        assert status == 500, body
        assert body == {"error": "internal server error: the app raised; see the server's log"}
    status, body = crashing.post("/notifications", {"leak": True})
    assert status == 503  # an app that sends a traceback itself: the body is replaced too
    assert_clean(status, body, "POST /notifications (an app sending its traceback)")
    for _ in range(50):  # the details are in the server's log, for the one who runs it
        if SECRET in "".join(crashing.output):
            break
        time.sleep(0.1)
    assert SECRET in "".join(crashing.output) and "Traceback" in "".join(crashing.output)


def test_a_crashing_websocket_handler_closes_without_details(crashing: ServeProcess) -> None:
    path = f"/chat/lobby?user=ann&token={crashing.token('ann')}"
    with (
        connect(f"{crashing.ws_url}{path}", proxy=None, open_timeout=10) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    assert_clean(1011, closed.value.rcvd.reason, "the WebSocket close reason")


def test_no_4xx_answer_carries_a_traceback(served: ServeProcess, tmp_path: Path) -> None:
    token = served.token("sweeper")
    auth = {"authorization": f"Bearer {token}"}
    requests: list[tuple[str, str, object, dict[str, str]]] = [
        ("GET", "/nowhere", None, {}),
        ("GET", "/static/../pyproject.toml", None, {}),
        ("PUT", "/", None, {}),
        ("GET", "/notifications", None, auth),
        ("DELETE", "/notifications/x", None, auth),
        ("GET", "/chat/lobby?user=a", None, auth),
        ("POST", "/notifications", {"user": "bad name", "title": "t"}, auth),
        ("POST", "/notifications", [1, 2], auth),
        ("POST", "/notifications", {"user": "a", "title": "t"}, {}),
        ("POST", "/notifications", {"user": "a", "title": "t"}, {**auth, "origin": "http://x.example"}),
        ("POST", "/notifications", {"user": "a", "title": "x" * 70_000}, auth),
        ("POST", "/session", {"user": "sweeper"}, {}),
        ("POST", "/session", "not an object", {}),
        ("GET", "/session", None, {}),
    ]
    for method, path, payload, headers in requests:
        for accept in ("application/json", "text/html"):
            status, body = request_json(served.url, method, path, payload,
                                        {**headers, "accept": accept})
            assert 400 <= status < 500, (method, path, status, body)
            assert_clean(status, body, f"{method} {path}")
