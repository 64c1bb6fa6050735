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
