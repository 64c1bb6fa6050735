"""Graded suite for Exercise 4: notification_queueing (25 points), what a POST answers.

A valid POST /notifications answers 201 with exactly {id, seq, delivered}: ids unique,
seq counting 1, 2, 3 per user (user names match exactly), never shared, also when
POSTs reach the store at the same moment (held at a door in the app, not raced), and
notification.created carries the notification being created.

How every module of this suite talks to the app: notification_support.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, load_beside, reply_text

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]

_support = load_beside(__file__, "notification_support")
interleaved = load_beside(__file__, "notification_interleavings").interleaved
where = _support.where
post = _support.post
backlog = _support.backlog


@pytest.mark.points(1)
@pytest.mark.category("create")
async def test_post_answers_201_with_unique_id_and_seq(app_server: Server) -> None:
    server = app_server()
    replies = [await post(server, "ann", f"t{i}") for i in range(3)]
    assert [r["seq"] for r in replies] == [1, 2, 3], f"seq should count 1, 2, 3: {replies}"
    ids = [r["id"] for r in replies]
    assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 3
    assert [r["delivered"] for r in replies] == [0, 0, 0], "nobody was connected"
    # "Invalid JSON, not an object, or a bad field: 422": nothing about the request's
    # content type, so JSON sent as "application/json; charset=utf-8" is JSON
    async with server.http() as client:
        r = await client.post("/notifications", content=b'{"user": "ann", "title": "t3"}',
                              headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 201, (
        "a valid notification sent with the content type \"application/json; charset=utf-8\" "
        "(a parameter is part of a content type) is created: 201, got "
        f"{r.status_code} {reply_text(r, 200)}")
    # "Each create_app call works with its own ...": two apps in one process share nothing,
    # live tabs neither (a POST to one pushes to no tab of the other)
    got = await server.probe(TWO_APPS)
    assert got == {"delivered": 0, "ann's tab on the other app": ["backlog_end"]}, (
        "two create_app calls in one process, each with its own database: ann's tab is open on "
        "the first, a POST for ann goes to the second, which has no tab of hers: delivered 0, "
        f"and her tab on the first gets nothing; got {got}")
    created = await server.wait_for_event("notification.created", count=3)
    first = created[0]["args"][0] if created[0]["args"] else None
    assert isinstance(first, dict) and first.get("user") == "ann" and first.get("title") == "t0", (
        "notification.created carries the notification being created (user, title, body, "
        f"level, ...) when it is emitted: got {first!r:.200}")


TWO_APPS = _support.ASGI_PROBE + '''

async def scenario(module, folder):
    one = module.create_app(os.path.join(folder, "one.sqlite3"))
    two = module.create_app(os.path.join(folder, "two.sqlite3"))
    frames, got = [], asyncio.Event()
    ann = tab(one, "/notifications/ann", recorder(frames, got))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=two), base_url="http://testserver")
    try:
        await frames_until(ann, frames, got, 1)  # her backlog_end
        r = await client.post("/notifications", json={"user": "ann", "title": "elsewhere"})
        delivered = r.json().get("delivered") if r.status_code == 201 else r.status_code
        for _ in range(50):
            await asyncio.sleep(0)
    finally:
        ann.cancel()
        await client.aclose()
    return {"delivered": delivered, "ann's tab on the other app": [f.get("type") for f in frames]}
'''


# A door on notification.created, run in the app (a listener of app.events, as the grader's
# recorder is): it holds each emit until DOOR_COUNT are waiting (or 0.5 s after the first),
# then lets them all in at once and takes itself off. Why: POSTs "at once" from a client
# reach the store one by one on a busy machine; held here, they reach it together.
DOOR_COUNT = 8
DOOR = """
import asyncio


def probe(module):
    held, door, timer = [], asyncio.Event(), []

    def open_door():
        if not door.is_set():
            door.set()
            app_events.off("notification.created", hold)
            for handle in timer:
                handle.cancel()

    async def hold(*args, **kwargs):
        held.append(None)
        if len(held) == 1:
            timer.append(asyncio.get_running_loop().call_later(0.5, open_door))
        if len(held) >= DOOR_COUNT:
            open_door()
        await door.wait()

    app_events.on("notification.created", hold, priority=999_999)
    return "holding"
""".replace("DOOR_COUNT", str(DOOR_COUNT))


# Store's contract, on the app's module, in a database of its own under /tmp (the sandbox's
# private tmpfs): add's "`seq` the user's next number (1, 2, 3, ...), never reused, not even
# after an ack" and "`id` a new unique string", in a store with many users. bob's one
# notification is acknowledged (he has nothing stored), then 61 other users get one each:
# bob's next is seq 2 (a sweep of the counters of users with nothing stored would give him 1
# again), and the 63 ids are all different (also user26's and user342's, whose names share
# the first 4 hex digits of their md5: an id made of a short hash of the user and the seq
# would be the same for both)
SEQ_CROWD_PROBE = """
import os
import shutil
import tempfile


def probe(module):
    folder = tempfile.mkdtemp(prefix="seq-crowd-")
    note = {"title": "t", "body": "", "level": "normal"}
    users = (*(f"user{i}" for i in range(60)), "user342")
    try:
        store = module.Store(os.path.join(folder, "crowd.sqlite3"), ttl_seconds=86400.0,
                             max_per_user=100)
        first = store.add("bob", note)
        acked = store.ack("bob", [first["id"]])
        crowd = [store.add(user, note) for user in users]
        again = store.add("bob", note)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ids = [first["id"], *(row["id"] for row in crowd), again["id"]]
    shared = sorted({i for i in ids if ids.count(i) > 1}, key=ids.index)
    return {"acked": acked, "bob": [first["seq"], again["seq"]],
            "crowd": sorted({row["seq"] for row in crowd}), "shared": shared[:3]}
"""


@pytest.mark.points(1)
@pytest.mark.category("seq")
async def test_seq_is_per_user_and_ids_are_unique(app_server: Server) -> None:
    server = app_server()
    users = ("ann", "bob", "ann", "bob", "cy", "ANN", "ann")
    replies = [await post(server, user, "x") for user in users]
    # "User names match exactly: `ann`, `ANN` and `a_n` are three users", each with its
    # own sequence (1, 2, 3, ... per user): ANN's first is 1, whatever ann's are
    got = [(u, r["seq"]) for u, r in zip(users, replies, strict=True)]
    assert [seq for _, seq in got] == [1, 1, 2, 2, 1, 1, 3], f"seq per user, ANN is not ann: {got}"
    # "`seq` increases by one per user and is never reused": with a tab of dee's open, each
    # POST's push is in flight while the next POSTs arrive, and none of them shares a seq
    async with server.connect(where("dee")) as dee:
        assert await backlog(server, dee) == []
        many = await asyncio.gather(*(post(server, "dee", f"n{i}") for i in range(8)))
        assert sorted(r["seq"] for r in many) == list(range(1, 9)), (
            f"8 POSTs at once, dee's tab open: seq 1-8, each once: {[r['seq'] for r in many]}")
        live = sorted((f["seq"], f["id"]) for f in [await server.recv_json(dee) for _ in many])
        assert live == sorted((r["seq"], r["id"]) for r in many), f"each live once: {live}"
    # and POSTs that reach the store at the same moment: the grader holds each of eve's
    # notification.created at its door (a listener before all of yours) until 8 are there,
    # then lets them in together, three times; each gets a seq of its own all the same
    eves: list[dict[str, Any]] = []
    for _ in range(3):
        assert await server.probe(DOOR) == "holding"
        eves += await asyncio.gather(*(post(server, "eve", f"e{i}") for i in range(DOOR_COUNT)))
    seqs = sorted(r["seq"] for r in eves)
    assert seqs == list(range(1, 25)), (
        f"eve's 24 POSTs, 8 of them at a time: seq 1 to 24, each once (two that read the "
        f"last seq at once must not both use the next one); got {seqs}")
    assert len({r["id"] for r in replies + many + eves}) == 39, "ids are unique"
    got = await server.probe(SEQ_CROWD_PROBE)
    assert isinstance(got, dict), f"Store, as its docstrings give it, raised: {got}"
    assert (got["acked"], got["bob"], got["crowd"]) == (1, [1, 2], [1]), (
        "Store.add: seq is \"the user's next number (1, 2, 3, ...), never reused, not even "
        "after an ack\": bob's seq 1 was acknowledged (nothing of his stored), then 61 other "
        f"users got their seq 1 each; bob's next is seq 2. Got {got}")
    assert got["shared"] == [], (
        "\"`id` a new unique string\": 63 notifications of 62 users, and some share an id: "
        f"{got['shared']} (ids are unique across users, whatever their names)")


# "The route emits notification.created on app.events; its listeners run by priority: HIGH
# validate/enrich (defaults), MEDIUM store and push": storing and pushing are a listener's,
# so a notification emitted on app.events by other code (as lesson 7's alerts are) is
# stored and pushed as a POST's is (a route that stores, then emits, stores nothing of it)
EMITTED = {"user": "ann", "title": "emitted", "body": "not posted", "level": "high"}


@pytest.mark.points(1)
@pytest.mark.category("create")
async def test_a_notification_emitted_on_app_events_is_stored_and_pushed(
    app_server: Server,
) -> None:
    server = app_server()
    async with server.connect(where("ann")) as tab:
        assert await backlog(server, tab) == []
        raised = await server.emit("notification.created", dict(EMITTED))
        assert raised == [], (
            f"notification.created emitted on app.events with {EMITTED}: your listeners "
            f"raised {raised}")
        frame = await server.recv_json(
            tab, expecting="the notification emitted on app.events, pushed to ann's tab")
        assert frame.get("type") == "notification" and frame.get("title") == "emitted" and (
            frame.get("seq") == 1 and isinstance(frame.get("id"), str) and frame["id"]), (
            "the MEDIUM listener of notification.created stores and pushes: one emitted on "
            f"app.events by other code than the route ({EMITTED}) reaches ann's open tab, "
            f"stored (an id, seq 1); got {frame!r:.300}")
    async with server.connect(where("ann")) as later:
        stored = [n.get("title") for n in await backlog(server, later)]
        assert stored == ["emitted"], (
            "the notification emitted on app.events was stored: a tab of ann's that connects "
            f"later gets it in its backlog; got {stored}")
    got = await server.probe(interleaved("listener_levels"))
    levels = got.get("listener_levels") if isinstance(got, dict) else got
    assert isinstance(levels, dict) and levels["pushed before the listener at"] == {
        "HIGH": 0, "LOW": 1}, (
        "\"its listeners run by priority: HIGH validate/enrich (defaults), MEDIUM store and "
        "push to every open tab of the user, LOW audit\": a listener other code adds at HIGH "
        "runs before the store and push, one added at LOW after them. With lev's tab open, how "
        f"many notifications it had been pushed when each ran: {levels}")
