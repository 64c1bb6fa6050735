"""What the notifications app receives through the guard's one-queue-per-name rewrite.

Found by a red team of the rewrite (names in small letters for the notifications app):

| body sent to ``POST /notifications`` | the app receives |
|---|---|
| ``user`` with capitals | the same JSON, ``user`` in small letters, never past the limit |
| ``user`` in small letters already | the bytes as sent |
| not UTF-8 (UTF-16), or a lone surrogate | as sent: the app refuses it, as without a guard |
| a chunked body past the limit, whatever its Content-Length | nothing: 413 to the sender |

Before: a 42 KB body of accented text reached the app as 126 KB (``json.dumps`` escapes
non-ASCII), a UTF-16 body reached it as UTF-8 (accepted where the app refuses it), and
a chunked body past the limit got a plain-text 500.
"""

from __future__ import annotations

import json
from typing import Any

from day25.serve.guard import Guard
from day25.serve.origins import OriginPolicy
from day25.serve.sessions import Sessions

LIMIT = 64 * 1024


class Recording:
    """An app that keeps the body it was given and answers 201."""

    def __init__(self) -> None:
        self.body: bytes | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.body = (await receive())["body"]
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def post(body: bytes, *, chunks: int = 1, length: int | None = None
               ) -> tuple[int, bytes | None]:
    """The status the sender gets, and the body the app received (None: not called)."""
    app = Recording()
    sessions = Sessions()
    guard = Guard(app, origins=OriginPolicy([], loopback=True, bound="127.0.0.1"),
                  sessions=sessions)
    token = await sessions.issue("sender")
    size = -(-len(body) // chunks)
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
                for i, part in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"127.0.0.1:8025"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body) if length is None else length).encode()),
               (b"authorization", f"Bearer {token}".encode())]
    scope = {"type": "http", "method": "POST", "path": "/notifications", "query_string": b"",
             "headers": headers}
    await guard(scope, receive, send)
    return sent[0]["status"], app.body


async def test_a_name_with_capitals_is_rewritten_and_never_past_the_limit() -> None:
    body = json.dumps({"user": "ANN", "title": "t", "pad": "é" * 21_000},
                      ensure_ascii=False).encode()
    status, got = await post(body)
    assert status == 201 and got is not None
    assert len(got) <= len(body) <= LIMIT
    assert json.loads(got) == {"user": "ann", "title": "t", "pad": "é" * 21_000}


async def test_a_body_with_nothing_to_rewrite_is_passed_on_as_sent() -> None:
    for body in (b'{"user":  "ann", "title": "\\u0074"}',  # already small letters
                 json.dumps({"user": "ANN", "title": "t"}).encode("utf-16"),  # not UTF-8
                 b'{"user": "ANN", "title": "\\ud800"}'[:-1],  # not JSON
                 b'{"user": "ANN", "title": "\\ud800"}'):  # a lone surrogate: the app's 422
        status, got = await post(body)
        assert (status, got) == (201, body)


async def test_a_chunked_body_past_the_limit_is_a_413_whatever_its_length_said() -> None:
    body = json.dumps({"user": "ANN", "title": "t", "pad": "x" * LIMIT}).encode()
    status, got = await post(body, chunks=4, length=10)
    assert (status, got) == (413, None)
