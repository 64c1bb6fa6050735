"""Public checks for Exercise 4: notification_queueing.

Run them with ``day25 check notification_queueing``. They talk real HTTP and
WebSockets to your app, served in a separate process. There is one for every
kind of graded check (``@pytest.mark.category``; the table is in
``docs/exercises/notification_queueing.md``), so you can meet every rule
before grading. Passing them is a good sign, not a grade: the graded suite
checks more instances of each.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, reply_text
from day25.course.protocol import FAULT_HEADER

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


async def post(server: AppServer, user: str, title: str, **extra: Any) -> dict[str, Any]:
    async with server.http() as client:
        r = await client.post("/notifications", json={"user": user, "title": title, **extra})
    assert r.status_code == 201, (
        f"POST should answer 201, got {r.status_code}: {reply_text(r, output=server.output)}")
    reply: dict[str, Any] = r.json()
    return reply


async def backlog(server: AppServer, ws: Any) -> list[dict[str, Any]]:
    """The notification frames up to backlog_end."""
    frames: list[dict[str, Any]] = []
    while (frame := await server.recv_json(
            ws, expecting="the next notification of the backlog, or the backlog_end frame",
    )).get("type") != "backlog_end":
        assert frame.get("type") == "notification", f"Expected a notification, got {frame}"
        frames.append(frame)
    return frames


@pytest.mark.category("create")
async def test_post_creates_a_notification(app_server: Server) -> None:
    server = app_server()
    async with server.http() as client:
        r = await client.post("/notifications", json={"user": "ann", "title": "Hello"})
    assert r.status_code == 201, (
        f"POST /notifications with {{'user': 'ann', 'title': 'Hello'}} should answer 201; "
        f"got {r.status_code}: {reply_text(r)}")
    body = r.json()
    assert (
        body.get("seq") == 1 and isinstance(body.get("id"), str) and body.get("delivered") == 0
    ), f'The 201 body should be {{"id": "<a unique string>", "seq": 1, "delivered": 0}}; got {body}'
    assert server.events("notification.created"), (
        "The route should emit 'notification.created' on app.events (use day25.install(app)).")
    bo = {"user": "bo", "title": "emitted", "body": "", "level": "normal"}
    raised = await server.emit("notification.created", bo)  # by other code than the route
    async with server.connect("/notifications/bo") as tab:
        first = await server.recv_json(tab, expecting="bo's notification, emitted on app.events")
    assert not raised and first.get("title") == "emitted" and first.get("seq") == 1, (
        f"notification.created emitted on app.events with {bo} (not POSTed) is stored by your "
        f"MEDIUM listener: bo's tab gets it in its backlog; listeners raised {raised}, got {first}")


@pytest.mark.category("backlog")
async def test_backlog_in_order_then_backlog_end_then_live(app_server: Server) -> None:
    server = app_server()
    for title, level in (("first", "low"), ("second", "high")):  # seq order, not level
        await post(server, "ann", title, level=level)
    async with server.connect("/notifications/ann") as ann:
        frames = [await server.recv_json(ann, expecting=what) for what in (
            "the first of ann's two stored notifications",
            "the second of ann's two stored notifications",
            "the backlog_end frame (after ann's two stored notifications)")]
        kinds = [(f.get("type"), f.get("title"), f.get("seq")) for f in frames]
        want = [("notification", "first", 1), ("notification", "second", 2),
                ("backlog_end", None, None)]
        assert kinds == want, (
            "On connect, ann should get her two stored notifications in seq order, then "
            '{"type": "backlog_end", "count": 2}. '
            + ("They came in another order: the backlog is sent oldest first, by seq, "
               "whatever the level ('first' is low, 'second' high). "
               if sorted(map(str, kinds)) == sorted(map(str, want)) else "")
            + f"Got (type, title, seq): {kinds}, from {frames}."
        )
        assert frames[2] == {"type": "backlog_end", "count": 2}, (
            f"backlog_end says how many notifications it sent: expected "
            f'{{"type": "backlog_end", "count": 2}}, got {frames[2]}')
        await post(server, "ann", "live")
        live = await server.recv_json(ann, expecting=(
            "the live push of 'live', created while ann is connected"))
        assert live.get("type") == "notification" and live.get("title") == "live", (
            f"A notification created while ann is connected should be pushed at once; got {live}")
        await ann.send(json.dumps({"type": "ack", "ids": [f["id"] for f in frames[:2]]}))
        acked = await server.recv_json(ann, expecting="the acked reply to ann's ack of two ids")
        assert acked == {"type": "acked", "count": 2}, f"Expected an acked reply; got {acked}"
    async with server.connect("/notifications/ann") as ann:
        again = await server.recv_json(ann, expecting=(
            "the backlog's one notification, 'live' (the other two were acknowledged)"))
        assert again.get("title") == "live", (
            "After acknowledging the first two, only the unacknowledged 'live' one should come "
            f"back on the next connect; got {again}")
        end = await server.recv_json(ann, expecting="the backlog_end frame after 'live'")
        assert end == {"type": "backlog_end", "count": 1}, (
            "The backlog held one notification ('live', seq 3), so backlog_end's count is "
            f"how many it sent, 1, not the last seq: got {end}")


@pytest.mark.category("bad_input")
async def test_bad_input_is_refused_with_422(app_server: Server) -> None:
    server = app_server()
    async with server.http() as client:
        for bad, why in (({"user": "ann"}, "without a title"),
                         ({"user": "ann", "title": "   "}, "whose title is only spaces"),
                         ({"user": "ann", "title": "t", "level": "HIGH"},
                          'whose level is "HIGH" (levels are exactly "low", "normal", "high")'),
                         ({"user": "ann", "title": "t", "body": 5}, "whose body is a number"),
                         ({"user": "ann", "title": "t", "level": None},
                          'whose level is null (a default is for a missing field only)'),
                         ({"user": "ann", "title": "t", "body": None},
                          'whose body is null (a default is for a missing field only)'),
                         ({"user": "ann", "title": "t", "level": ""}, 'whose level is ""'),
                         ({"user": 123, "title": "t"}, "whose user is a number"),
                         ({"user": "ann\n", "title": "t"}, 'whose user is "ann\\n"')):
            r = await client.post("/notifications", json=bad)
            assert r.status_code == 422, (
                f"A notification {why} should get 422, got {r.status_code}: "
                f"{reply_text(r, output=server.output)}")
            assert isinstance(r.json().get("error"), str), 'A 422 body should be {"error": "..."}'
        latin1 = '{"user": "ann", "title": "caf\u00e9"}'.encode("latin-1")
        r = await client.post("/notifications", content=latin1,
                              headers={"content-type": "application/json"})
        assert r.status_code == 422, (
            f"A body in latin-1 is not UTF-8, so not JSON text: 422 (no guessing), not "
            f"{r.status_code}: {reply_text(r, output=server.output)}")
        r = await client.post("/notifications", content=b"[" * 100_000)
        assert r.status_code == 422, (
            f"100,000 nested '[' is bad JSON: 422, not {r.status_code} (json.loads raises "
            "RecursionError for it, not ValueError)"
        )
    seq = (await post(server, "ann", "  spaced  "))["seq"]
    assert seq == 1, (
        f"A refused notification stores nothing and uses up no seq: the first one that passes "
        f"has seq 1, not {seq}."
    )
    async with server.connect("/notifications/ann") as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
    assert titles == ["  spaced  "], (
        'A title is stored and delivered exactly as sent, not stripped: "  spaced  " came '
        f"back as {titles}")
    async with server.http() as client:
        r = await client.post("/notifications", json={"user": "ann", "title": "x" * 200})
    assert r.status_code == 201, (
        f"A title of exactly 200 characters is allowed (1-200): 201, not {r.status_code}"
    )
    async with server.connect("/notifications/bad%20name") as ws:
        reply = await server.recv_json(ws, expecting="the bad_request error frame a bad user gets")
        assert reply.get("code") == "bad_request", f"A bad user in the path: got {reply}"
        code, _ = await server.expect_close(ws)
        assert code == 4400, f"A bad user name in the path closes with 4400, not {code}."


@pytest.mark.category("live")
async def test_a_live_notification_reaches_every_tab(app_server: Server, second_app: Any) -> None:
    server = app_server()
    async with server.connect("/notifications/ann") as tab1, \
            server.connect("/notifications/ann") as tab2, \
            server.connect("/notifications/bob") as bob:
        for ws in (tab1, tab2, bob):
            assert await backlog(server, ws) == []
        reply = await post(server, "ann", "hello", body="world", level="high")
        assert reply["delivered"] == 2, f"ann has two tabs open: delivered is 2; got {reply}"
        for ws, tab in ((tab1, "ann's first tab"), (tab2, "ann's second tab")):
            frame = await server.recv_json(ws, expecting=f"the live push of 'hello' to {tab}")
            want = {"type": "notification", "id": reply["id"], "seq": 1, "user": "ann",
                    "title": "hello", "body": "world", "level": "high"}
            assert {k: frame.get(k) for k in want} == want, f"Expected {want}; got {frame}"
            assert frame.get("expires_at", 0) - frame.get("created_at", 0) == 86400, (
                f"expires_at is created_at + ttl_seconds; got {frame}"
            )
            created = frame.get("created_at")
            assert isinstance(created, (int, float)) and abs(created - time.time()) < 600, (
                "created_at is a Unix time in seconds, from time.time() (now about "
                f"{time.time():.0f}); got {created}")
        await server.expect_silence(bob, 0.3)
        # "Each create_app call works with its own ... live tabs": a second app in this process
        post_ann = ["POST", "/notifications", {"user": "ann", "title": "elsewhere"}]
        other = await second_app(server, None, [], 0, "second.sqlite3", http=(post_ann,))
        status, body = (other["replies"] or [[None, other]])[0]
        assert status == 201 and isinstance(body, dict) and (
            body.get("seq"), body.get("delivered")) == (1, 0), (
            "A second create_app(\"second.sqlite3\") in this app's process (a notebook cell run "
            "again) has its own live tabs and its own seq: a POST for ann to it reaches none of "
            f"ann's tabs on the first app (delivered 0), seq 1. It answered {status} {body}")
        again = await post(server, "ann", "again")
        got = await server.recv_json(tab1, expecting="the live push of 'again' to ann's first tab")
        assert (again.get("seq"), got.get("title")) == (2, "again"), (
            "A POST to a second app reaches none of the first app's tabs and takes none of its "
            "seqs: ann's next POST to the first app is seq 2, and it is her tab's next frame. "
            f"Got seq {again.get('seq')}, and her tab's next frame was {got.get('title')!r}: {got}")


@pytest.mark.category("ack")
async def test_ack_counts_only_your_pending_ids(app_server: Server) -> None:
    server = app_server()
    mine = [(await post(server, "ann", f"t{i}"))["id"] for i in range(2)]
    bobs = (await post(server, "bob", "not yours"))["id"]
    async with server.connect("/notifications/ann") as ann, \
            server.connect("/notifications/ann") as other_tab:
        await backlog(server, ann)
        await backlog(server, other_tab)
        await ann.send(json.dumps({"type": "ack", "ids": [mine[0], mine[0], bobs, "nope"]}))
        got = await server.recv_json(ann, expecting="the acked reply to ann's ack")
        assert got == {"type": "acked", "count": 1}, (
            "Only one of those ids is ann's pending notification (the same id twice counts "
            f"once; bob's id and an unknown one count 0): expected count 1, got {got}."
        )
        await post(server, "ann", "later")
        seen = await server.recv_json(other_tab, expecting=(
            "the live push of 'later' to ann's other tab, which did not send the ack"))
        assert seen.get("type") == "notification" and seen.get("title") == "later", (
            "The acked reply goes to the tab that sent the ack only: ann's other tab should "
            f"next get the live push of 'later', got {seen}."
        )
    async with server.connect("/notifications/ann") as ann:
        frames = await backlog(server, ann)
        titles = [f["title"] for f in frames]
        assert titles == ["t1", "later"], f"The acknowledged one (t0) never comes back: {titles}"
        newest = frames[-1]["id"]  # acked now: its id is still never given again
        await ann.send(json.dumps({"type": "ack", "ids": [newest]}))
        await server.recv_json(ann, expecting="the acked reply to ann's ack of 'later'")
        after = (await post(server, "cy", "after"))["id"]
        assert after not in {*mine, bobs, newest}, (
            f"Ids are unique, acknowledged ones too (clients de-duplicate by id): the "
            f"notification posted after ann acked 'later' (id {newest}) got id {after} again")
    async with server.connect("/notifications/bob") as bob:
        titles = [f["title"] for f in await backlog(server, bob)]
        assert titles == ["not yours"], f"ann cannot acknowledge bob's: got {titles}"


@pytest.mark.category("seq")
async def test_seq_counts_per_user(app_server: Server) -> None:
    server = app_server()
    replies = [await post(server, user, "x") for user in ("ann", "bob", "ann")]
    seqs = [r["seq"] for r in replies]
    assert seqs == [1, 1, 2], (
        f"seq counts per user: POSTs for ann, bob, ann get seq 1, 1, 2 (bob's first is his "
        f"seq 1); got {seqs}")
    assert len({r["id"] for r in replies}) == 3, f"ids are unique: {replies}"


@pytest.mark.category("ttl")
async def test_an_expired_notification_is_not_delivered(app_server: Server) -> None:
    server = app_server(ttl_seconds=0.3)
    await post(server, "ann", "soon gone")
    await asyncio.sleep(0.5)
    async with server.connect("/notifications/ann") as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
    assert titles == [], (
        f"With ttl_seconds=0.3, a notification 0.5 s old has expired and must not be delivered; "
        f"got {titles}")
    posted = time.time()  # "fresh" expires 0.3 s after it was stored, so not before this
    await post(server, "ann", "fresh")
    async with server.connect("/notifications/ann") as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
    if time.time() < posted + 0.3:  # the backlog was read before "fresh" could expire
        assert titles == ["fresh"], (
            f"With ttl_seconds=0.3, a notification a moment old is delivered: got {titles}")
    else:  # a slow machine: it may have expired on the way, never anything else
        assert titles in ([], ["fresh"]), f"only 'fresh' was pending: got {titles}"


@pytest.mark.category("cap")
async def test_the_cap_drops_the_oldest(app_server: Server) -> None:
    server = app_server(max_per_user=2)
    for i in range(3):
        await post(server, "ann", f"t{i}")
    async with server.connect("/notifications/ann") as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
    assert titles == ["t1", "t2"], (
        f"With max_per_user=2, the third notification drops the oldest: got {titles}"
        + (". Those are the right two, but the backlog comes oldest first, by seq."
           if sorted(titles) == ["t1", "t2"] else "")
    )


@pytest.mark.category("restart")
async def test_a_restart_keeps_the_queue_and_the_seq(app_server: Server) -> None:
    server = app_server(db_path="notes.sqlite3")
    first = await post(server, "ann", "kept")
    await post(server, "bob", "acked")
    async with server.connect("/notifications/bob") as bob:
        frames = await backlog(server, bob)
        await bob.send(json.dumps({"type": "ack", "ids": [f["id"] for f in frames]}))
        await server.recv_json(bob, expecting="the acked reply to bob's ack")
    # the new app has another ttl_seconds: "kept" expires at the expires_at it was stored
    # with (a day after it was made), not at created_at + the new app's ttl_seconds
    await asyncio.to_thread(server.restart, ttl_seconds=0.001)
    async with server.connect("/notifications/ann") as ann:
        frames = await backlog(server, ann)
    assert [(f["id"], f["title"]) for f in frames] == [(first["id"], "kept")], (
        "After a restart with the same db_path, the unacknowledged one is still there, even "
        "though the new app has ttl_seconds=0.001: a notification expires at the expires_at it "
        f"was stored with; got {frames}"
    )
    seq = (await post(server, "bob", "next"))["seq"]
    assert seq == 2, (
        "bob had seq 1 before the restart (acknowledged since), so his next is seq 2: seq "
        f"counts per user and continues after a restart; got {seq}"
    )


@pytest.mark.category("bad_frame")
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/notifications/ann") as ann:
        await backlog(server, ann)
        for bad, what in (("not JSON", "a frame that is not JSON"),
                          ("[" * 100_000, "100,000 nested '[' (parse_ack raises only ValueError)"),
                          (json.dumps({"type": "ack", "ids": "abc"}),
                           'an ack whose ids is "abc", not a list of strings')):
            await ann.send(bad)
            got = await server.recv_json(ann, expecting=f"the error frame of {what}")
            assert got.get("type") == "error" and got.get("code") == "bad_frame", (
                f'{what} gets {{"type": "error", "code": "bad_frame", ...}}; got {got}')
        await ann.send(json.dumps({"type": "ack", "ids": []}))
        got = await server.recv_json(
            ann, expecting='the acked reply to {"type": "ack", "ids": []}, after the bad frames')
        assert got == {"type": "acked", "count": 0}, f"The socket stays open; got {got}"
    errors = server.events("ws.error")
    assert errors, "A bad frame also emits ws.error on app.events."
    payload = errors[0]["args"]
    first = payload[0] if len(payload) == 1 and isinstance(payload[0], dict) else {}
    assert set(first) == {"user", "error"} and first["user"] == "ann", (
        'ws.error carries exactly {"user": U, "error": "<what was wrong>"}: ann\'s bad frame '
        f"gave {payload}")


@pytest.mark.category("dead_tab")
async def test_a_dead_tab_is_not_counted(app_server: Server) -> None:
    server = app_server(send_timeout=0.3)
    gone = {"additional_headers": {FAULT_HEADER: "raise:1"}}  # backlog_end, then sends fail
    stuck = {"additional_headers": {FAULT_HEADER: "stall:1"}}  # backlog_end, then no reading
    async with server.connect("/notifications/ann") as ok, \
            server.connect("/notifications/ann", **gone) as dead, \
            server.connect("/notifications/ann", **stuck) as stalled:
        for ws in (ok, dead, stalled):
            await backlog(server, ws)
        reply = await post(server, "ann", "one")
        assert reply["delivered"] == 1, (
            "Of ann's three tabs, the push to one failed and one stopped reading (its send "
            f"takes longer than send_timeout=0.3): delivered counts the third only; got {reply}")
        got = await server.recv_json(ok, expecting="the live push of 'one' to ann's working tab")
        assert got.get("title") == "one", f"ann's working tab gets 'one' live; got {got}"
        reply = await post(server, "ann", "two")
        assert reply["delivered"] == 1, f"The dead tabs were dropped; got {reply}"
        # counted by the server, not timed: the stalled tab was waited for once, never again
        stalls = server.faults()["stall"]
        assert stalls == 1, (
            f"The tab that stopped reading was sent to {stalls} times: a tab whose push fails "
            "or takes longer than send_timeout is dropped from the live ones, and no later push "
            "tries it (so a stalled tab costs at most one send_timeout)")


@pytest.mark.category("model")
async def test_a_mixed_session(app_server: Server) -> None:
    """Several rules at once, as the graded suite's random sessions mix them: two users whose
    names differ only by case, live pushes, the cap, and an ack of ids of every kind."""
    server = app_server(max_per_user=2)
    async with server.connect("/notifications/ann") as ann:
        assert await backlog(server, ann) == [], "ann has nothing stored yet"
        ids = []
        for title in ("t1", "t2", "t3"):
            reply = await post(server, "ann", title)
            assert reply["delivered"] == 1, f"ann has one tab open: delivered 1; got {reply}"
            frame = await server.recv_json(ann, expecting=f"the live push of {title!r}")
            assert frame.get("title") == title, f"ann's tab gets {title!r} live; got {frame}"
            ids.append(reply["id"])
        other = (await post(server, "ANN", "for ANN"))["id"]  # not ann's: her tab hears nothing
        await ann.send(json.dumps({"type": "ack", "ids": [ids[0], ids[1], other, "nope"]}))
        got = await server.recv_json(ann, expecting="the acked reply to ann's ack")
        assert got == {"type": "acked", "count": 1}, (
            "t1 was dropped by the cap of 2, ANN's id is not ann's and 'nope' is unknown: only "
            f"t2 counts; got {got}.")
    async with server.connect("/notifications/ann") as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
        assert titles == ["t3"], f"ann's backlog is what is left of her queue, t3; got {titles}"
    async with server.connect("/notifications/ANN") as big:
        titles = [f["title"] for f in await backlog(server, big)]
        assert titles == ["for ANN"], (
            "ANN (not ann: names are case-sensitive) has her own queue, holding her one "
            "notification; max_per_user counts each user's own, so ann's do not push hers out; "
            f"got {titles}")
