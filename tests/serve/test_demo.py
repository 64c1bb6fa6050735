"""The demo ``day25 serve`` runs by default speaks the exercises' protocols.

The proof is the exercises' own public checks, run against the demo folder the
way a student's folder is checked (``--submission``), in a child pytest.
"""

from __future__ import annotations

from pathlib import Path

from day25.serve.demo import DEMO_DIR
from day25.serve.loading import resolve_impl

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_is_the_default_and_solutions_still_resolve() -> None:
    assert resolve_impl(None) == DEMO_DIR == resolve_impl("demo")
    assert {p.name for p in DEMO_DIR.glob("*.py")} >= {
        "chat_broadcasting.py",
        "notification_queueing.py",
    }
    assert resolve_impl("solutions", start=ROOT) == ROOT / "solutions"


def test_the_demo_speaks_the_exercises_protocols(tmp_path: Path) -> None:
    """The demo is not a submission (it is built on day25.realtime, which graded modules may
    not import), so the exercises' harness refuses it; this walks both protocols with real
    clients instead: roster, join, seq, pong, a bad frame; 201, backlog, backlog_end, ack."""
    import json

    import httpx
    from websockets.sync.client import connect

    from .conftest import start_serve

    server = start_serve(["--db", str(tmp_path / "demo.sqlite3")])
    try:
        def chat(user: str):  # type: ignore[no-untyped-def]
            return connect(f"{server.ws_url}/chat/lobby?user={user}&token={server.token(user)}",
                           proxy=None, open_timeout=10)

        def recv(ws) -> dict:  # type: ignore[no-untyped-def,type-arg]
            return json.loads(ws.recv(timeout=10))

        with chat("ann") as ann:
            assert recv(ann) == {"type": "roster", "room": "lobby", "users": ["ann"]}
            assert recv(ann) == {"type": "join", "room": "lobby", "user": "ann"}
            with chat("bob") as bob:
                assert recv(bob) == {"type": "roster", "room": "lobby", "users": ["ann", "bob"]}
                assert recv(bob) == recv(ann) == {"type": "join", "room": "lobby", "user": "bob"}
                bob.send(json.dumps({"type": "message", "text": "hi"}))
                expected = {"type": "message", "room": "lobby", "user": "bob", "text": "hi",
                            "seq": 1}
                assert recv(bob) == expected
                assert recv(ann) == expected
                bob.send(json.dumps({"type": "ping"}))
                assert recv(bob) == {"type": "pong"}
                bob.send("not json")
                assert recv(bob)["code"] == "bad_frame"
                bob.send(json.dumps({"type": "x" * 60_000}))  # quoted short, as the page asks
                error = recv(bob)
                short = error["code"] == "bad_frame" and len(error["message"]) < 200
                assert short, str(error)[:200]
            assert recv(ann) == {"type": "leave", "room": "lobby", "user": "bob"}

        token = server.token("cy")
        bearer = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=bearer) as http:
            created = http.post("/notifications", json={"user": "cy", "title": "t"})
            assert created.status_code == 201 and created.json()["seq"] == 1
        with connect(f"{server.ws_url}/notifications/cy?token={token}", proxy=None) as inbox:
            note = recv(inbox)
            assert note["type"] == "notification" and note["id"] == created.json()["id"]
            assert recv(inbox) == {"type": "backlog_end", "count": 1}
            inbox.send(json.dumps({"type": "ack", "ids": [note["id"]]}))
            assert recv(inbox) == {"type": "acked", "count": 1}
    finally:
        server.stop()


def test_solutions_and_a_folder_are_still_served_behind_the_guard(tmp_path: Path) -> None:
    import json

    from websockets.sync.client import connect

    from .conftest import start_serve

    for impl, folder in (("solutions", ROOT / "solutions"), (str(DEMO_DIR), DEMO_DIR)):
        server = start_serve(["--impl", impl, "--db", str(tmp_path / f"{folder.name}.sqlite3")])
        try:
            assert f"day25 serve: {folder} on http://" in server.output[0]
            path = f"/chat/lobby?user=ann&token={server.token('ann')}"
            with connect(f"{server.ws_url}{path}", proxy=None, open_timeout=10) as chat:
                assert json.loads(chat.recv(timeout=10))["type"] == "roster"
            with connect(f"{server.ws_url}/chat/lobby?user=ann", proxy=None) as chat:
                assert json.loads(chat.recv(timeout=10))["code"] == "unauthorized"
        finally:
            server.stop()


NESTED = "[" * 30_000  # under the 64 KiB frame limit; json.loads raises RecursionError


def test_json_nested_past_the_stack_is_bad_input_for_its_sender_alone(served) -> None:  # type: ignore[no-untyped-def]
    """The exercises' protocols: a frame ``json.loads`` refuses with RecursionError is a
    ``bad_frame`` for its sender, whose connection stays open (its room sees no leave);
    a body like it is a 422, on the app's routes and on the guard's ``POST /session``."""
    import json

    from websockets.sync.client import connect

    from ..browser.conftest import request_json

    def recv(ws) -> dict:  # type: ignore[no-untyped-def,type-arg]
        return json.loads(ws.recv(timeout=10))

    def chat(user: str):  # type: ignore[no-untyped-def]
        return connect(f"{served.ws_url}/chat/deep?user={user}&token={served.token(user)}",
                       proxy=None, open_timeout=10)

    with chat("dee") as dee:
        assert recv(dee)["type"] == "roster" and recv(dee)["type"] == "join"
        with chat("eve") as eve:
            assert recv(eve)["type"] == "roster" and recv(eve)["type"] == "join"
            assert recv(dee) == {"type": "join", "room": "deep", "user": "eve"}
            for frame in (NESTED, '{"type": "ping", "x": ' + NESTED):
                eve.send(frame)
                error = recv(eve)
                assert error["type"] == "error" and error["code"] == "bad_frame", error
            eve.send(json.dumps({"type": "ping"}))
            assert recv(eve) == {"type": "pong"}  # still connected
            eve.send(json.dumps({"type": "message", "text": "still here"}))
            assert recv(dee)["text"] == "still here"  # dee heard no leave in between

    token = served.token("fay")
    inbox_url = f"{served.ws_url}/notifications/fay?token={token}"
    with connect(inbox_url, proxy=None, open_timeout=10) as inbox:
        assert recv(inbox) == {"type": "backlog_end", "count": 0}
        inbox.send('{"type": "ack", "ids": ' + NESTED)
        assert recv(inbox)["code"] == "bad_frame"
        inbox.send(json.dumps({"type": "ack", "ids": []}))
        assert recv(inbox) == {"type": "acked", "count": 0}

    auth = {"authorization": f"Bearer {token}"}
    for path, headers in (("/notifications", auth), ("/session", {})):
        status, body = request_json(served.url, "POST", path, NESTED.encode(), headers)
        assert status == 422 and body == {"error": "the body is not valid JSON"}, (path, body)
    assert request_json(served.url, "GET", "/status.json")[0] == 200  # the server lives on



def test_a_tab_gone_in_the_middle_of_its_backlog_costs_the_log_nothing(tmp_path: Path) -> None:
    """Nothing is lost and the log stays quiet: an outside test aborted three tabs with
    100 queued notifications, and asyncio logged 190 lines of "socket.send() raised
    exception." (the backlog went on into the dead socket); the next tab gets it all."""
    import asyncio
    import json

    import websockets

    from .conftest import start_serve

    server = start_serve(["--db", str(tmp_path / "demo.sqlite3")])
    try:
        token = server.token("fay")
        for i in range(100):
            status, _ = server.post("/notifications", {"user": "fay", "title": f"t{i}"},
                                    as_user="fay")
            assert status == 201

        async def abort_then_read() -> list[dict]:  # type: ignore[type-arg]
            url = f"{server.ws_url}/notifications/fay?token={token}"
            for _ in range(3):
                gone = await websockets.connect(url, proxy=None)
                gone.transport.abort()
                await asyncio.sleep(0.3)
            async with websockets.connect(url, proxy=None) as tab:
                frames = [json.loads(await tab.recv()) for _ in range(101)]
            return frames

        frames = asyncio.run(abort_then_read())
        assert [f.get("title") for f in frames[:100]] == [f"t{i}" for i in range(100)]
        assert frames[100] == {"type": "backlog_end", "count": 100}
    finally:
        log = server.stop()
    assert "socket.send() raised" not in log, log[-500:]
