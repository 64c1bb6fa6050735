"""Graded suite for Exercise 4: notification_queueing (25 points).

Talks real HTTP and WebSockets to the submission's app served by the harness in
a child process; never imports the submission. Every receive has a timeout.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer
from day25.course.protocol import FAULT_HEADER

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]
FIELDS = {"type", "id", "seq", "user", "title", "body", "level", "created_at", "expires_at"}


async def post(server: AppServer, user: str, title: str, **extra: Any) -> dict[str, Any]:
    async with server.http() as client:
        r = await client.post("/notifications", json={"user": user, "title": title, **extra})
    assert r.status_code == 201, (
        f"POST /notifications should answer 201, got {r.status_code}: {r.text}"
    )
    reply: dict[str, Any] = r.json()
    assert set(reply) >= {"id", "seq", "delivered"}, f"201 body needs id, seq, delivered: {reply}"
    return reply


async def backlog(server: AppServer, ws: Any) -> list[dict[str, Any]]:
    """Every notification frame up to backlog_end, checking the count."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await server.recv_json(ws)
        if frame.get("type") == "backlog_end":
            assert frame.get("count") == len(frames), (
                f"backlog_end count should be {len(frames)} (the notifications sent before it), "
                f"got {frame}"
            )
            return frames
        assert frame.get("type") == "notification", f"expected a notification, got {frame}"
        frames.append(frame)


async def ack(server: AppServer, ws: Any, ids: list[str]) -> None:
    await ws.send(json.dumps({"type": "ack", "ids": ids}))
    reply = await server.recv_json(ws)
    assert reply.get("type") == "acked", f"an ack should be answered with type acked, got {reply}"


def where(user: str) -> str:
    return f"/notifications/{user}"


@pytest.mark.points(1)
@pytest.mark.category("create")
async def test_post_answers_201_with_unique_id_and_seq(app_server: Server) -> None:
    server = app_server()
    replies = [await post(server, "ann", f"t{i}") for i in range(3)]
    assert [r["seq"] for r in replies] == [1, 2, 3], f"seq should count 1, 2, 3: {replies}"
    ids = [r["id"] for r in replies]
    assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 3
    assert [r["delivered"] for r in replies] == [0, 0, 0], "nobody was connected"
    created = await server.wait_for_event("notification.created", count=3)
    assert created[0]["args"][0]["user"] == "ann" and created[0]["args"][0]["title"] == "t0"


@pytest.mark.points(2)
@pytest.mark.category("live")
async def test_live_notification_reaches_every_tab_of_the_user(app_server: Server) -> None:
    server = app_server()
    async with (
        server.connect(where("ann")) as tab1,
        server.connect(where("ann")) as tab2,
        server.connect(where("bob")) as bob,
    ):
        for ws in (tab1, tab2, bob):
            assert await backlog(server, ws) == []
        reply = await post(server, "ann", "hello", body="world", level="high")
        assert reply["delivered"] == 2, f"ann has two open tabs, delivered should be 2: {reply}"
        for ws in (tab1, tab2):
            frame = await server.recv_json(ws)
            assert set(frame) == FIELDS, f"a notification frame has exactly {sorted(FIELDS)}"
            assert frame["type"] == "notification" and frame["id"] == reply["id"]
            assert (frame["seq"], frame["user"], frame["title"], frame["body"], frame["level"]) == (
                1,
                "ann",
                "hello",
                "world",
                "high",
            ), f"unexpected notification {frame}"
            assert frame["expires_at"] > frame["created_at"]
        await server.expect_silence(bob, 0.3)
        reply = await post(server, "ann", "defaults")
        frame = await server.recv_json(tab1)
        assert (frame["body"], frame["level"]) == ("", "normal"), (
            "body defaults to '', level to normal"
        )


@pytest.mark.points(2)
@pytest.mark.category("backlog")
async def test_backlog_arrives_in_seq_order_then_backlog_end(app_server: Server) -> None:
    server = app_server()
    for i in range(12):
        await post(server, "ann", f"t{i}")
    async with server.connect(where("ann")) as ann:
        frames = await backlog(server, ann)
    assert [f["seq"] for f in frames] == list(range(1, 13)), "the backlog must be in seq order"
    assert [f["title"] for f in frames] == [f"t{i}" for i in range(12)]
    assert len({f["id"] for f in frames}) == 12


@pytest.mark.points(2)
@pytest.mark.category("backlog")
async def test_backlog_before_any_live_notification(app_server: Server) -> None:
    server = app_server()
    for i in range(20):
        await post(server, "ann", f"old{i}")

    async def more() -> None:
        for i in range(5):
            await post(server, "ann", f"new{i}")

    async with server.connect(where("ann")) as ann:
        sender = asyncio.create_task(more())
        frames = await backlog(server, ann)
        await asyncio.wait_for(sender, 10)
        seen = {f["seq"] for f in frames}
        seqs = [f["seq"] for f in frames]
        assert seqs == sorted(set(seqs)), f"the backlog must be in seq order: {seqs}"
        live: list[int] = []
        while len(seen | set(live)) < 25:
            frame = await server.recv_json(ann)
            live.append(frame["seq"])
        assert all(s > max(seqs) for s in live), (
            f"after backlog_end only newer notifications may arrive; backlog {seqs}, live {live}"
        )
        assert live == sorted(live), f"live notifications in seq order: {live}"


@pytest.mark.points(2)
@pytest.mark.category("ack")
async def test_ack_stops_redelivery_and_unacked_come_back(app_server: Server) -> None:
    server = app_server()
    for i in range(3):
        await post(server, "ann", f"t{i}")
    async with server.connect(where("ann")) as ann:
        first = await backlog(server, ann)
        await ack(server, ann, [first[0]["id"], first[2]["id"]])
        live = await post(server, "ann", "live, not acked")
        assert (await server.recv_json(ann))["id"] == live["id"]
    async with server.connect(where("ann")) as ann:
        again = await backlog(server, ann)
    assert [f["title"] for f in again] == ["t1", "live, not acked"], (
        "acknowledged notifications must never come back; unacknowledged ones (from the backlog "
        f"or delivered live) must be redelivered: got {[f['title'] for f in again]}"
    )
    assert again[0]["id"] == first[1]["id"], "a redelivered notification keeps its id"


@pytest.mark.points(1)
@pytest.mark.category("seq")
async def test_seq_is_per_user_and_ids_are_unique(app_server: Server) -> None:
    server = app_server()
    replies = [await post(server, user, "x") for user in ("ann", "bob", "ann", "bob", "cy")]
    assert [r["seq"] for r in replies] == [1, 1, 2, 2, 1]
    assert len({r["id"] for r in replies}) == 5


@pytest.mark.points(2)
@pytest.mark.category("ttl")
async def test_expired_notifications_are_never_delivered(app_server: Server) -> None:
    server = app_server(ttl_seconds=0.5)
    await post(server, "ann", "soon gone")
    await asyncio.sleep(0.7)
    async with server.connect(where("ann")) as ann:
        assert await backlog(server, ann) == [], (
            "with ttl_seconds=0.5 a notification 0.7 s old must not be delivered"
        )
    fresh = await post(server, "ann", "fresh")
    async with server.connect(where("ann")) as ann:
        frames = await backlog(server, ann)
    assert [f["title"] for f in frames] == ["fresh"], (
        f"with ttl_seconds=0.5 a notification 0.7 s old must not be delivered: {frames}"
    )
    assert frames[0]["id"] == fresh["id"]
    assert abs(frames[0]["expires_at"] - frames[0]["created_at"] - 0.5) < 0.01


@pytest.mark.points(2)
@pytest.mark.category("cap")
async def test_cap_drops_the_oldest(app_server: Server) -> None:
    server = app_server(max_per_user=3)
    for i in range(5):
        await post(server, "ann", f"t{i}")
    await post(server, "bob", "bob's own")
    async with server.connect(where("ann")) as ann:
        frames = await backlog(server, ann)
    assert [(f["seq"], f["title"]) for f in frames] == [(3, "t2"), (4, "t3"), (5, "t4")], (
        "with max_per_user=3 the overflow rule drops the oldest: expected seq 3, 4, 5, got "
        f"{[(f['seq'], f['title']) for f in frames]}"
    )
    async with server.connect(where("bob")) as bob:
        assert [f["title"] for f in await backlog(server, bob)] == ["bob's own"]


@pytest.mark.points(3)
@pytest.mark.category("restart")
async def test_restart_loses_nothing_unacknowledged(app_server: Server) -> None:
    server = app_server(db_path="notes.sqlite3")
    for i in range(3):
        await post(server, "ann", f"t{i}")
    async with server.connect(where("ann")) as ann:
        frames = await backlog(server, ann)
        await ack(server, ann, [frames[0]["id"]])
    await asyncio.to_thread(server.restart)
    async with server.connect(where("ann")) as ann:
        after = await backlog(server, ann)
    assert [(f["seq"], f["title"]) for f in after] == [(2, "t1"), (3, "t2")], (
        "after a restart with the same db_path, unacknowledged notifications must still be there"
    )
    assert (await post(server, "ann", "t3"))["seq"] == 4, "seq continues after a restart"
    async with server.connect(where("ann")) as ann:
        await ack(server, ann, [f["id"] for f in await backlog(server, ann)])
    await asyncio.to_thread(server.restart)
    assert (await post(server, "ann", "t4"))["seq"] == 5, (
        "seq continues after a restart even when every notification was acknowledged"
    )


BAD_BODIES: list[Any] = [
    b"{not json",
    b"[1, 2]",
    {"title": "no user"},
    {"user": "ann"},
    {"user": "ann", "title": ""},
    {"user": "ann", "title": " \t\n "},
    {"user": "ann", "title": "x" * 201},
    {"user": "ann", "title": 42},
    {"user": "a n", "title": "bad user"},
    {"user": "ann", "title": "x", "level": "urgent"},
    {"user": "ann", "title": "x", "body": 7},
]


@pytest.mark.points(2)
@pytest.mark.category("bad_input")
async def test_bad_input_gets_422_and_stores_nothing(app_server: Server) -> None:
    server = app_server()
    async with server.http() as client:
        for bad in BAD_BODIES:
            if isinstance(bad, bytes):
                r = await client.post(
                    "/notifications", content=bad, headers={"content-type": "application/json"}
                )
            else:
                r = await client.post("/notifications", json=bad)
            assert r.status_code == 422, f"POST {bad!r} should answer 422, got {r.status_code}"
            body = r.json()
            assert isinstance(body.get("error"), str) and body["error"], (
                f"a 422 should say what is wrong in 'error': {body}"
            )
    async with server.connect(where("ann")) as ann:
        assert await backlog(server, ann) == [], "a refused notification must not be stored"
    assert (await post(server, "ann", "ok"))["seq"] == 1, "a refused one must not use up a seq"
    async with server.connect("/notifications/bad%20name") as ws:
        reply = await server.recv_json(ws)
        assert reply.get("code") == "bad_request"
        code, _ = await server.expect_close(ws)
        assert code == 4400, f"a bad user name in the path closes with 4400, not {code}"


@pytest.mark.points(1)
@pytest.mark.category("bad_frame")
async def test_malformed_frames_get_an_error_and_the_connection_stays(app_server: Server) -> None:
    server = app_server()
    await post(server, "ann", "t0")
    bad_frames: list[str | bytes] = [
        "nope",
        "[]",
        json.dumps({"type": "ack"}),
        json.dumps({"type": "ack", "ids": [1]}),
        json.dumps({"type": "shout"}),
        b"\x01",
    ]
    async with server.connect(where("ann")) as ann:
        frames = await backlog(server, ann)
        for bad in bad_frames:
            await ann.send(bad)
            reply = await server.recv_json(ann)
            assert reply.get("type") == "error" and reply.get("code") == "bad_frame", (
                f"{bad!r} should get an error frame with code bad_frame, got {reply}"
            )
        await ack(server, ann, [frames[0]["id"]])
    errors = await server.wait_for_event("ws.error", count=len(bad_frames))
    assert len(errors) == len(bad_frames)
    async with server.connect(where("ann")) as ann:
        assert await backlog(server, ann) == [], "the ack after the bad frames still worked"


async def acked(server: AppServer, ws: Any, ids: list[str]) -> int:
    await ws.send(json.dumps({"type": "ack", "ids": ids}))
    reply = await server.recv_json(ws)
    assert set(reply) == {"type", "count"} and reply["type"] == "acked", (
        f"an ack is answered with exactly {{'type': 'acked', 'count': N}}, got {reply}"
    )
    count: int = reply["count"]
    return count


@pytest.mark.points(2)
@pytest.mark.category("ack")
async def test_ack_counts_only_the_users_pending_ids(app_server: Server) -> None:
    server = app_server()
    mine = [(await post(server, "ann", f"t{i}"))["id"] for i in range(3)]
    bobs = [(await post(server, "bob", f"b{i}"))["id"] for i in range(2)]
    async with server.connect(where("ann")) as ann:
        await backlog(server, ann)
        assert await acked(server, ann, []) == 0, "an empty ack counts 0"
        assert await acked(server, ann, [bobs[0], "unknown", mine[1], mine[1]]) == 1, (
            "only ann's own pending ids count, each once"
        )
        assert await acked(server, ann, [mine[1]]) == 0, "an id acknowledged before counts 0"
        assert await acked(server, ann, [mine[0], mine[2], bobs[1]]) == 2
    async with server.connect(where("ann")) as ann:
        assert await backlog(server, ann) == [], "every one of ann's was acknowledged"
    async with server.connect(where("bob")) as bob:
        titles = [f["title"] for f in await backlog(server, bob)]
    assert titles == ["b0", "b1"], f"ann's acks must not touch bob's notifications: {titles}"


@pytest.mark.points(1)
@pytest.mark.category("cap")
async def test_the_cap_counts_unacknowledged_notifications(app_server: Server) -> None:
    server = app_server(max_per_user=3)
    for i in range(3):
        await post(server, "ann", f"t{i}")
    async with server.connect(where("ann")) as ann:
        frames = await backlog(server, ann)
        await ack(server, ann, [frames[2]["id"]])
    for i in range(3, 5):
        await post(server, "ann", f"t{i}")
    async with server.connect(where("ann")) as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
    assert titles == ["t1", "t3", "t4"], (
        "max_per_user=3 counts the unacknowledged ones: after acking t2, t3 fits and t4 drops "
        f"only the oldest (t0); got {titles}"
    )


@pytest.mark.points(2)
@pytest.mark.category("dead_tab")
async def test_dead_and_stalled_tabs_are_dropped_and_not_counted(app_server: Server) -> None:
    server = app_server(send_timeout=0.2)
    faults = [{"additional_headers": {FAULT_HEADER: f}} for f in ("raise:1", "stall:1")]
    async with server.connect(where("ann")) as ok, \
            server.connect(where("ann"), **faults[0]) as gone, \
            server.connect(where("ann"), **faults[1]) as stalled:
        for ws in (ok, gone, stalled):
            assert await backlog(server, ws) == []
        first = await post(server, "ann", "one")
        assert first["delivered"] == 1, f"two of ann's three tabs failed: {first}"
        assert (await server.recv_json(ok))["id"] == first["id"]
        second = await post(server, "ann", "two")
        assert second["delivered"] == 1, f"the failed tabs were dropped: {second}"
        assert (await server.recv_json(ok))["id"] == second["id"]
    async with server.connect(where("ann")) as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
    assert titles == ["one", "two"], f"a failed push loses nothing: {titles}"
