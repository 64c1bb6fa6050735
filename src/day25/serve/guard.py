"""The security layer ``day25 serve`` puts in front of the exercise apps (an ASGI middleware).

Why a layer and not a change to the apps: the exercise protocols are graded as
they are, and a student's app must run unchanged. What the protocols leave
open (any page may connect; the user is whatever the URL says) is closed here,
before a request reaches the app:

1. **Origin** (:class:`~day25.serve.origins.OriginPolicy`): a browser request
   from another site is refused: 403 for HTTP and for the WebSocket handshake.
2. **Session**: ``POST /session {"user": NAME}`` returns a signed token
   (:class:`~day25.serve.sessions.Sessions`); ``{"user": NAME, "renew": TOKEN}`` renews
   an expired one of that name, keeping its session. Every request to the apps must carry
   one: ``?token=`` on a WebSocket (browsers cannot set headers there),
   ``Authorization: Bearer`` on HTTP. A WebSocket must speak for the token's user:
   ``/chat/{room}?user=U`` and ``/notifications/{U}``; if not, it is accepted,
   told why in an error frame, and closed with 4401 (no valid token) or 4403 (a
   token for someone else). The token and the header are removed before the app
   sees the request, and the query string the app sees is the one checked. A
   WebSocket to a path that is neither route is told so the same way (4404).
   With ``--broker`` the names' holds are in Redis: when it does not answer, a
   session is refused with 503 on HTTP and close 1013 (try again) on a WebSocket.
3. **JSON only**: a ``POST`` must say ``Content-Type: application/json`` (415
   otherwise), so a cross-site HTML form or a ``text/plain`` "simple request"
   cannot reach the app; bodies over ``max_body`` bytes get 413.
4. **One queue per name**: names that differ only in capitals are one name, so the
   notifications app sees every name in small letters (``/notifications/{U}`` and
   the ``user`` of ``POST /notifications``); before, a notification sent to ``ANN``
   waited in a queue that ``Ann`` could not open.

A request without an ``Origin`` header is not from a browser page: it is judged
by its token alone. Every refusal is a JSON ``{"error": ...}`` that says what to
do, and only its sender sees it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from day25.serve.origins import OriginPolicy
from day25.serve.sessions import Session, SessionRefused, Sessions, held, valid_name

__all__ = ["FORBIDDEN_CLOSE", "SESSION_PATH", "UNAUTHORIZED_CLOSE", "Guard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_PATH = "/session"
UNAUTHORIZED_CLOSE = 4401
FORBIDDEN_CLOSE = 4403
BAD_REQUEST_CLOSE = 4400
NOT_FOUND_CLOSE = 4404  # the page does not retry it
TRY_AGAIN_CLOSE = 1013  # with --broker, Redis did not answer: the page retries later
#: the protocols' two WebSocket routes, one path segment each
WEBSOCKET_ROUTE = re.compile(r"/(?:chat|notifications)/[^/]+")
JSON_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _protected(path: str) -> bool:
    """The apps' paths (exercises 3 and 4); the page and ``/status.json`` are public."""
    return path.startswith("/chat/") or path == "/notifications" or path.startswith(
        "/notifications/"
    )


class Guard:
    """``Guard(app, origins=..., sessions=...)``: the checks above, then ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        origins: OriginPolicy,
        sessions: Sessions,
        max_body: int = 64 * 1024,
    ) -> None:
        self.app = app
        self.origins = origins
        self.sessions = sessions
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # -- HTTP -------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        origin = headers.get("origin")
        cors: list[tuple[bytes, bytes]] = []
        if origin is not None and self.origins.is_allowed_cross_origin(origin):
            cors = [(b"access-control-allow-origin", origin.encode()), (b"vary", b"origin")]
        refusal = self.origins.check(scope)
        if refusal is not None:
            await _json(send, 403, {"error": refusal})
            return
        method, path = scope["method"], scope["path"]
        if method == "OPTIONS" and cors:  # a CORS preflight from an allowed origin
            await _respond(send, 204, b"", [*cors, *_PREFLIGHT])
            return
        if path != SESSION_PATH and not _protected(path):
            await self.app(scope, receive, send)
            return
        problem = _http_misuse(method, path) or self._body_problem(method, headers)
        if problem is not None:
            allow = [(b"allow", b"POST")] if problem[0] == 405 else []
            await _json(send, problem[0], {"error": problem[1]}, [*cors, *allow])
            return
        if path == SESSION_PATH:
            await self._session(method, receive, send, cors)
            return
        try:
            await self.sessions.verify(_bearer(headers.get("authorization")))
        except SessionRefused as refused:
            extra = [*cors, (b"www-authenticate", b"Bearer")] if refused.status == 401 else cors
            await _json(send, refused.status, {"error": refused.message}, extra)
            return
        scope = {**scope, "headers": _without(scope, b"authorization")}
        if path == "/notifications":
            try:
                scope, receive = await _one_queue_per_name(scope, receive, self.max_body)
            except BodyTooLarge:  # chunked, past what its Content-Length said
                await _json(send, 413, {"error": self._too_large()}, cors)
                return
            except ValueError:  # the client went away before its body arrived
                return
        await self.app(scope, receive, _with_headers(send, cors) if cors else send)

    def _body_problem(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        if method not in JSON_METHODS:
            return None
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return 415, (
                f"send JSON with Content-Type: application/json (got {content_type or 'none'})"
            )
        length = headers.get("content-length")
        if length is None or not length.isdigit():
            return 411, "send a Content-Length header with the body"
        if int(length) > self.max_body:
            return 413, self._too_large()
        return None

    def _too_large(self) -> str:
        return f"the body must be at most {self.max_body} bytes"

    async def _session(self, method: str, receive: Receive, send: Send, cors: list[Any]) -> None:
        if method != "POST":
            body = {"error": f'use POST {SESSION_PATH} with {{"user": NAME}}'}
            await _json(send, 405, body, [*cors, (b"allow", b"POST")])
            return
        try:
            data = json.loads(await _read_body(receive, self.max_body))
        except BodyTooLarge:
            await _json(send, 413, {"error": self._too_large()}, cors)
            return
        except (ValueError, RecursionError):  # bad JSON or UTF-8; [[[... past the stack
            await _json(send, 422, {"error": "the body is not valid JSON"}, cors)
            return
        asked = data if isinstance(data, dict) else {}
        try:
            token = await self.sessions.issue(asked.get("user"), asked.get("renew"))
        except SessionRefused as refused:
            await _json(send, refused.status, {"error": refused.message}, cors)
            return
        reply = {"user": asked["user"], "token": token, "expires_in": int(self.sessions.max_age)}
        await _json(send, 201, reply, cors)

    # -- WebSocket --------------------------------------------------------------
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.origins.check(scope)
        if refusal is not None:
            await _deny_handshake(scope, receive, send, refusal)
            return
        path = scope["path"]
        if WEBSOCKET_ROUTE.fullmatch(path) is None:
            await _refuse(receive, send, NOT_FOUND_CLOSE, "not_found", (
                f"no WebSocket at {path}: connect to /chat/{{room}}?user=NAME or "
                "/notifications/{user}"))
            return
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        tokens = [v for k, v in pairs if k == "token"]
        pairs = [(k, v) for k, v in pairs if k != "token"]
        if len(tokens) > 1:
            await _refuse(receive, send, BAD_REQUEST_CLOSE, "bad_request", "give ?token= once")
            return
        try:
            session = await self.sessions.verify(tokens[0] if tokens else None)
        except SessionRefused as refused:
            close = TRY_AGAIN_CLOSE if refused.status == 503 else UNAUTHORIZED_CLOSE
            await _refuse(receive, send, close, refused.code, refused.message)
            return
        problem = _speaks_for(path, pairs, session)
        if problem is not None:
            await _refuse(receive, send, *problem)
            return
        scope = {**scope, "query_string": urlencode(pairs).encode("latin-1")}
        if path.startswith("/notifications/"):  # the queue of the name, not of its spelling
            queue = "/notifications/" + quote(held(session.user))
            scope.update(path=queue, raw_path=queue.encode("ascii"))
        self.sessions.connected(session)
        try:
            await self.app(scope, receive, send)
        finally:
            self.sessions.disconnected(session)


def _http_misuse(method: str, path: str) -> tuple[int, str] | None:
    """HTTP where the protocols only have a WebSocket, or a method they do not define
    (Nexios would route it to the WebSocket handler and crash with a 500)."""
    if path.startswith("/chat/") or path.startswith("/notifications/"):
        return 426, f"{path} is a WebSocket endpoint: connect to it with ws:// (or wss://)"
    if path == "/notifications" and method != "POST":
        return 405, 'use POST /notifications with {"user": ..., "title": ...}'
    return None


def _speaks_for(
    path: str, pairs: list[tuple[str, str]], session: Session
) -> tuple[int, str, str] | None:
    """Why this WebSocket may not speak for ``session.user`` (close code, code, message)."""
    if path.startswith("/chat/"):
        users = [v for k, v in pairs if k == "user"]
        if len(users) != 1:
            what = "is missing" if not users else "is given more than once"
            return BAD_REQUEST_CLOSE, "bad_request", f"?user= {what}: give it once"
        claimed, where = users[0], "?user="
    else:
        claimed, where = path.removeprefix("/notifications/"), "the path's user"
    if claimed != session.user:
        return FORBIDDEN_CLOSE, "forbidden", (
            f"{where} {claimed!r} is not the name this session joined as ({session.user!r}): "
            "a connection may only speak for its own user"
        )
    return None


async def _refuse(receive: Receive, send: Send, close: int, code: str, message: str) -> None:
    """Accept, say why in one error frame, close: a page can show the reason (a refused
    handshake only shows "connection failed")."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    frame = {"type": "error", "code": code, "message": message}
    await send({"type": "websocket.send", "text": json.dumps(frame)})
    await send({"type": "websocket.close", "code": close})


async def _deny_handshake(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    """Refuse the handshake itself with 403: a cross-site page never gets a socket."""
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        body = json.dumps({"error": reason}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def _one_queue_per_name(scope: Scope, receive: Receive, limit: int
                              ) -> tuple[Scope, Receive]:
    """``POST /notifications`` as the app sees it: its ``user`` in small letters. Only a
    body whose user has capitals is written again (UTF-8, as compact as JSON allows); any
    other body, one that is not such JSON in UTF-8 among them, is passed on as sent, for
    the app to judge. :class:`BodyTooLarge` past ``limit``; ValueError if the client went
    away."""
    body = await _read_body(receive, limit)
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        data = None
    user = data.get("user") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(user, str) and valid_name(user) and (
            user != held(user)):
        with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate: the app refuses it
            again = json.dumps({**data, "user": held(user)}, ensure_ascii=False,
                               separators=(",", ":")).encode("utf-8")
            body = again if len(again) <= limit else body
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: the client's disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [*_without(scope, b"content-length"), (b"content-length", str(len(body)).encode())]
    return {**scope, "headers": headers}, replay


class BodyTooLarge(ValueError):
    """A body past the limit, which a chunked request's Content-Length did not bound."""


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ValueError("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge("the body is too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _bearer(value: str | None) -> str | None:
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").lower()
        found.setdefault(key, value.decode("latin-1"))
    return found


def _without(scope: Scope, name: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in scope.get("headers", []) if k.lower() != name]


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


_PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, POST"),
    (b"access-control-allow-headers", b"authorization, content-type"),
    (b"access-control-max-age", b"600"),
]


async def _json(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await _respond(send, status, json.dumps(body).encode(), [
        (b"content-type", b"application/json"), *(headers or [])
    ])


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    length = str(len(body)).encode()
    headers = [*headers, (b"content-length", length), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
