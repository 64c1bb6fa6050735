"""``day25 serve`` is safe by default: real server, real clients, every refusal explained.

What each bad input gets:

| input | answer |
|---|---|
| WebSocket handshake from another site's page | 403 (no socket at all) |
| POST from another site's page (JSON or ``text/plain``) | 403 |
| POST whose body is not declared JSON | 415 |
| a request to the apps without a token | 401 (HTTP) / error frame + close 4401 |
| a token for mallory on ``?user=alice`` or ``/notifications/alice`` | error frame + close 4403 |
| ``?user=`` twice | error frame + close 4400 |
| a Host that is not a loopback name (DNS rebinding) | 403 |
| ``POST /session`` for a name another session holds | 409 |
| a notification to ``ANN`` while ``Ann`` is connected | delivered to her: one queue per name |
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ..browser.conftest import request_json
from .conftest import ServeProcess, start_serve

pytestmark = pytest.mark.timeout(120)

ALLOWED = "http://allowed.example:3000"
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    db = tmp_path_factory.mktemp("security") / "notifications.sqlite3"
    process = start_serve(["--db", str(db), "--allow-origin", ALLOWED])
    yield process
    process.stop()


def ws(server: ServeProcess, path: str, origin: str | None = None) -> ClientConnection:
    return connect(f"{server.ws_url}{path}", origin=origin, proxy=None, open_timeout=10)  # type: ignore[arg-type]


def refusal(server: ServeProcess, path: str) -> tuple[dict[str, Any], int | None]:
    """The error frame and the close code of a connection the guard refuses."""
    with ws(server, path) as conn:
        frame = json.loads(conn.recv(timeout=10))
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=10)
    received = closed.value.rcvd
    return frame, received.code if received else None


def handshake_status(server: ServeProcess, path: str, origin: str) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused:
        ws(server, path, origin).close()
    response = refused.value.response
    return response.status_code, response.body.decode()


def test_a_page_on_another_site_cannot_open_either_websocket(server: ServeProcess) -> None:
    token = server.token("alice")
    for path in (f"/chat/lobby?user=alice&token={token}", f"/notifications/alice?token={token}"):
        status, body = handshake_status(server, path, EVIL)
        assert status == 403, path
        assert "cross-origin request refused" in body and "--allow-origin" in body
    # the same requests from the page's own origin, and from an allowed one, work
    for origin in (server.url, ALLOWED):
        with ws(server, f"/chat/lobby?user=alice&token={token}", origin) as chat:
            assert json.loads(chat.recv(timeout=10))["type"] == "roster"


def test_a_page_on_another_site_cannot_post(server: ServeProcess) -> None:
    token = server.token("poster")
    payload = {"user": "bob", "title": "from evil"}
    for content_type in ("application/json", "text/plain"):
        headers = {"origin": EVIL, "content-type": content_type, "authorization": f"Bearer {token}"}
        status, body = request_json(server.url, "POST", "/notifications", payload, headers)
        assert status == 403, (content_type, body)
        assert "evil.example may not use this server" in body["error"]
    status, body = request_json(server.url, "POST", "/session", {"user": "eve"}, {"origin": EVIL})
    assert status == 403  # no token for a cross-site page either
    # nothing was stored for bob
    with ws(server, f"/notifications/bob?token={server.token('bob')}") as inbox:
        assert json.loads(inbox.recv(timeout=10)) == {"type": "backlog_end", "count": 0}


def test_a_body_not_declared_json_is_refused_even_with_a_token(server: ServeProcess) -> None:
    token = server.token("poster")
    headers = {"content-type": "text/plain", "authorization": f"Bearer {token}"}
    status, body = request_json(server.url, "POST", "/notifications", {"user": "x", "title": "t"},
                                headers)
    assert status == 415
    assert body == {"error": "send JSON with Content-Type: application/json (got text/plain)"}
    same_site = {**headers, "origin": server.url}
    assert request_json(server.url, "POST", "/notifications", {}, same_site)[0] == 415


def test_an_allowed_origin_gets_cors_headers_and_others_do_not(server: ServeProcess) -> None:
    import urllib.request

    def preflight(origin: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{server.url}/notifications", method="OPTIONS",
            headers={"origin": origin, "access-control-request-method": "POST"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as err:
            return err.code, err.headers

    status, headers = preflight(ALLOWED)
    assert status == 204 and headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in headers["access-control-allow-headers"]
    status, headers = preflight(EVIL)
    assert status == 403 and headers["access-control-allow-origin"] is None


def forge(token: str) -> str:
    """The token with its signature's first character changed.

    The first character of base64 carries six whole bits, so the change always
    changes the signature. Changing the last ones does not: the last character
    of a 20-byte signature carries four bits and two ignored ones, so a token
    ending in "xw" and one ending in "xx" hold the same signature.
    """
    head, _, signature = token.rpartition(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{head}.{first}{signature[1:]}"


def test_scripts_without_a_token_get_a_clear_401_and_how_to_get_one(
    server: ServeProcess,
) -> None:
    status, body = request_json(server.url, "POST", "/notifications", {"user": "a", "title": "t"})
    assert status == 401
    assert "POST /session" in body["error"] and "Authorization: Bearer" in body["error"]
    frame, code = refusal(server, "/notifications/alice")
    assert code == 4401 and frame["code"] == "unauthorized" and "?token=" in frame["message"]
    forged = forge(server.token("alice"))
    frame, code = refusal(server, f"/chat/lobby?user=alice&token={forged}")
    assert code == 4401 and "not valid" in frame["message"]


def test_a_forged_user_is_refused_and_cannot_read_or_ack(server: ServeProcess) -> None:
    status, body = server.post("/notifications", {"user": "alice", "title": "private"})
    assert status == 201
    mallory = server.token("mallory")
    frame, code = refusal(server, f"/chat/lobby?user=alice&token={mallory}")
    assert code == 4403 and frame["code"] == "forbidden"
    assert "'alice' is not the name this session joined as ('mallory')" in frame["message"]
    frame, code = refusal(server, f"/notifications/alice?token={mallory}")
    assert code == 4403 and frame["code"] == "forbidden"
    # ?user= given twice cannot smuggle a second name past the check
    frame, code = refusal(server, f"/chat/lobby?user=mallory&user=alice&token={mallory}")
    assert code == 4400 and "more than once" in frame["message"]
    # alice still has her notification: nobody else could read or ack it
    with ws(server, f"/notifications/alice?token={server.token('alice')}") as inbox:
        first = json.loads(inbox.recv(timeout=10))
        assert first["title"] == "private" and first["id"] == body["id"]


def test_a_name_in_other_capitals_reaches_the_same_queue(server: ServeProcess) -> None:
    """Names that differ only in capitals are one name, so they are one queue: before, a
    notification to ``ZOEC`` for the connected ``ZoeC`` was queued where nobody could
    open it (``delivered: 0``, and ``ZOEC`` cannot be claimed while ``ZoeC`` holds it)."""
    with ws(server, f"/notifications/ZoeC?token={server.token('ZoeC')}") as inbox:
        assert json.loads(inbox.recv(timeout=10)) == {"type": "backlog_end", "count": 0}
        status, body = server.post("/notifications", {"user": "ZOEC", "title": "live"})
        assert status == 201 and body["delivered"] == 1, body
        assert json.loads(inbox.recv(timeout=10))["title"] == "live"
    status, body = server.post("/notifications", {"user": "zoec", "title": "queued"})
    assert status == 201 and body["delivered"] == 0, body
    with ws(server, f"/notifications/ZoeC?token={server.token('ZoeC')}") as inbox:
        backlog = [json.loads(inbox.recv(timeout=10)) for _ in range(3)]
    assert [f.get("title") for f in backlog] == ["live", "queued", None], backlog
    assert backlog[2] == {"type": "backlog_end", "count": 2}
    # a body that is not a notification is still the app's to refuse, as sent
    status, body = server.post("/notifications", {"user": "ZOEC"})
    assert status == 422 and "title" in str(body), body


def test_a_held_name_cannot_be_taken_and_names_are_checked(server: ServeProcess) -> None:
    held = server.token("holder")
    status, body = request_json(server.url, "POST", "/session", {"user": "holder"})
    assert status == 409 and "in use by another session" in body["error"]
    # the holder's own token renews it; another name's token, or a made-up one, does not
    status, body = request_json(server.url, "POST", "/session", {"user": "holder", "renew": held})
    assert status == 201 and body["user"] == "holder"
    payload = body["token"].split(".")[0]  # the name and the session id, before the signature
    assert payload == held.split(".")[0], "the same session, re-signed"
    for renew in (server.token("other"), held[:-4] + "AAAA"):
        asked = {"user": "holder", "renew": renew}
        assert request_json(server.url, "POST", "/session", asked)[0] == 409
    status, body = request_json(server.url, "POST", "/session", {"user": "holder", "renew": 7})
    assert status == 422 and body["error"] == "renew must be the session token (a string)"
    status, body = request_json(server.url, "POST", "/session", {"user": "bad name!"})
    assert status == 422
    assert body["error"] == (
        "the name must be 1-32 characters: letters A-Z a-z, digits 0-9, '_', '.' or '-'"
    )
    assert request_json(server.url, "GET", "/session")[0] == 405


def test_a_host_that_is_not_this_server_is_refused(server: ServeProcess) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 would make its page same-origin."""
    port = server.url.rsplit(":", 1)[1]
    headers = {"host": f"evil.example:{port}", "origin": f"http://evil.example:{port}"}
    status, body = request_json(server.url, "POST", "/session", {"user": "x"}, headers)
    assert status == 403 and "is not a name of this server" in body["error"]
    status, _ = request_json(server.url, "GET", "/", None, {"host": f"localhost:{port}"})
    assert status == 200


def test_a_server_on_another_loopback_address_answers_at_that_address(tmp_path: Any) -> None:
    """An outside test started `--host 127.0.0.2`: its page was refused (403, "open it as
    localhost or 127.0.0.1", where nothing listened). An IP address the server listens on
    is a name of it; names stay refused (DNS rebinding)."""
    served = start_serve(["--host", "127.0.0.2", "--db", str(tmp_path / "db.sqlite3")])
    try:
        port = served.url.rsplit(":", 1)[1]
        url = f"http://127.0.0.2:{port}"
        assert f"on {url}/" in served.output[0]  # what the server says it listens on
        status, _ = request_json(url, "GET", "/")
        assert status == 200
        own = {"origin": url}
        status, body = request_json(url, "POST", "/session", {"user": "lo2"}, own)
        assert status == 201, body
        evil = {"host": f"evil.example:{port}", "origin": f"http://evil.example:{port}"}
        status, body = request_json(url, "POST", "/session", {"user": "x"}, evil)
        assert status == 403 and "is not a name of this server" in body["error"]
    finally:
        served.stop()


def test_the_app_never_sees_the_token(tmp_path: Any) -> None:
    """The token is removed from the query string before the app reads it."""
    impl = tmp_path / "impl"
    impl.mkdir()
    (impl / "chat_broadcasting.py").write_text(SPY_CHAT)
    (impl / "notification_queueing.py").write_text(SPY_CHAT.replace("/chat/{room}", "/nope"))
    process = start_serve(["--impl", str(impl), "--db", str(tmp_path / "db.sqlite3")])
    try:
        token = process.token("ann")
        with ws(process, f"/chat/x?user=ann&token={token}") as spy:
            seen = json.loads(spy.recv(timeout=10))
        assert seen == {"query": "user=ann", "authorization": None}
    finally:
        process.stop()


SPY_CHAT = '''
from nexios import NexiosApp


def create_app(*args, **kwargs):
    app = NexiosApp()

    @app.ws_route("/chat/{room}")
    async def spy(ws):
        await ws.accept()
        headers = dict(ws.scope["headers"])
        await ws.send_json({"query": ws.scope["query_string"].decode(),
                            "authorization": headers.get(b"authorization")})
        await ws.close()

    return app
'''


def test_a_websocket_path_with_no_route_is_told_so_not_a_bare_403(server: ServeProcess) -> None:
    """An audit opened /nowhere, /chat/ and /chat/a/b: each got a bare 403 (a close sent
    before the accept), so the page's "no route: do not retry" handling never ran."""
    token = server.token("rover")
    for path in ("/nowhere", "/chat/", "/chat/a/b", "/notifications/rover/x", "/notifications"):
        frame, code = refusal(server, f"{path}?user=rover&token={token}")
        assert code == 4404, (path, code)
        assert frame["type"] == "error" and frame["code"] == "not_found", (path, frame)
        assert "/chat/{room}" in frame["message"] and "/notifications/{user}" in frame["message"]
    with ws(server, f"/chat/lobby?user=rover&token={token}") as chat:  # a route still works
        assert json.loads(chat.recv(timeout=10))["type"] == "roster"
