"""Public checks for exercise 4, notification_queueing.

Run them with ``day25 check notification_queueing`` or
``python -m pytest tests/public/test_notification_queueing.py --submission exercises``.
They talk real HTTP and WebSockets to your app, served in a separate process.
Passing them is a good sign, not a grade: the graded suite checks more (TTL,
the cap, restarts, acknowledgements, bad input).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


@pytest.mark.points(1)
async def test_post_creates_a_notification(app_server: Server) -> None:
    server = app_server()
    async with server.http() as client:
        r = await client.post("/notifications", json={"user": "ann", "title": "Hello"})
    assert r.status_code == 201, (
        f"POST /notifications with {{'user': 'ann', 'title': 'Hello'}} should answer 201; "
        f"got {r.status_code}: {r.text[:300]}"
    )
    body = r.json()
    assert (
        body.get("seq") == 1 and isinstance(body.get("id"), str) and body.get("delivered") == 0
    ), f'The 201 body should be {{"id": "<a unique string>", "seq": 1, "delivered": 0}}; got {body}'
    assert server.events("notification.created"), (
        "The route should emit 'notification.created' on app.events (use day25.install(app))."
    )


@pytest.mark.points(1)
async def test_backlog_in_order_then_backlog_end_then_live(app_server: Server) -> None:
    server = app_server()
    async with server.http() as client:
        for title in ("first", "second"):
            r = await client.post("/notifications", json={"user": "ann", "title": title})
            assert r.status_code == 201, f"POST should answer 201, got {r.status_code}: {r.text}"
    async with server.connect("/notifications/ann") as ann:
        frames = [await server.recv_json(ann) for _ in range(3)]
        kinds = [(f.get("type"), f.get("title"), f.get("seq")) for f in frames]
        assert kinds == [
            ("notification", "first", 1),
            ("notification", "second", 2),
            ("backlog_end", None, None),
        ], (
            "On connect, ann should get her two stored notifications in seq order, then "
            f'{{"type": "backlog_end", "count": 2}}. Got {frames}.'
        )
        async with server.http() as client:
            await client.post("/notifications", json={"user": "ann", "title": "live"})
        live = await server.recv_json(ann)
        assert live.get("type") == "notification" and live.get("title") == "live", (
            f"A notification created while ann is connected should be pushed at once; got {live}"
        )
        await ann.send(json.dumps({"type": "ack", "ids": [f["id"] for f in frames[:2]]}))
        acked = await server.recv_json(ann)
        assert acked == {"type": "acked", "count": 2}, f"Expected an acked reply; got {acked}"
    async with server.connect("/notifications/ann") as ann:
        again = await server.recv_json(ann)
        assert again.get("title") == "live", (
            "After acknowledging the first two, only the unacknowledged 'live' one should come "
            f"back on the next connect; got {again}"
        )


@pytest.mark.points(1)
async def test_bad_input_is_refused_with_422(app_server: Server) -> None:
    server = app_server()
    async with server.http() as client:
        r = await client.post("/notifications", json={"user": "ann"})
    assert r.status_code == 422, (
        f"A notification without a title should get 422, got {r.status_code}: {r.text[:300]}"
    )
    assert isinstance(r.json().get("error"), str), 'A 422 body should be {"error": "..."}'
