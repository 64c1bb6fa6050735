"""Graded suite for Exercise 4: notification_queueing (25 points), acknowledgements.

An ack is answered to the tab that sent it and counts only the user's pending ids
(exact strings; unknown ids, other users' and ones acknowledged before count 0 and
change nothing); acknowledged ones never come back, the rest do, also when two
tabs acknowledge the same id at the same moment (a forced order, not a race).

How every module of this suite talks to the app: notification_support.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer, load_beside

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]

_support = load_beside(__file__, "notification_support")
interleaved = load_beside(__file__, "notification_interleavings").interleaved
where = _support.where
post = _support.post
backlog = _support.backlog
acked = _support.acked


# "N is how many distinct ids of the list were this user's pending ... notifications", not
# how many of them this tab was sent: ann's tab took longer than send_timeout over the push of
# "missed" (delivered 0: dropped from the live ones, still open), then acknowledges its id
# (known from elsewhere: another tab, the POST's answer) and gets acked 1. Run in the app's
# process like SLOW_TAB in test_dead_tabs.py (notification_support.ASGI_PROBE): a second
# create_app driven over ASGI on a loop whose clock skips waits, so the paused send costs no
# real time. A server that closes the dropped tab ("up to you") is not asked: its close is
# answered as a client answers one (ASGI's websocket.disconnect), and no ack is sent after it;
# nor is one that sends a dropped tab nothing more ("nothing more is sent to it"): an answer
# that has not come within half a second of real time is none (batch 35's ok_81 was given 0
# when the scenario waited for it until the probe's own limit), but the ack must count.
PAUSED_TAB = _support.ASGI_PROBE + '''

import time


async def scenario(module, folder):
    app = module.create_app(os.path.join(folder, "paused.sqlite3"), send_timeout=1.0)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    frames, got, sends, inbox = [], asyncio.Event(), [], asyncio.Queue()

    async def send(message):
        kind = message.get("type")
        if kind == "websocket.send":
            sends.append(None)
            if len(sends) == 2:  # the first push: paused past send_timeout (no real wait)
                await asyncio.sleep(10.0)
            frames.append(json.loads(message.get("text") or message.get("bytes")))
        elif kind == "websocket.close":
            frames.append({"type": "closed"})
            inbox.put_nowait({"type": "websocket.disconnect", "code": message.get("code", 1000)})
        got.set()

    ann = tab(app, "/notifications/ann", send, inbox)
    try:
        await frames_until(ann, frames, got, 1)
        first = frames[0] if frames else None
        r = await client.post("/notifications", json={"user": "ann", "title": "missed"})
        reply = r.json() if r.status_code == 201 else {}
        await asyncio.sleep(20.0)  # virtual: the paused send is over, timed out or not
        seen, answer = len(frames), {"type": "closed"}
        if answer not in frames:  # still open: it acknowledges "missed"
            inbox.put_nowait({"type": "websocket.receive",
                              "text": json.dumps({"type": "ack", "ids": [reply.get("id")]})})
            # a dropped tab may get nothing more ("nothing more is sent to it"): its answer,
            # if any, is given half a second of real time (the loop's clock is virtual)
            deadline = time.monotonic() + 0.5
            while len(frames) <= seen and not ann.done() and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            answer = frames[seen] if len(frames) > seen else None
            # answered or not, the ack counts: ann's next tab starts with backlog_end
            later, later_got = [], asyncio.Event()
            again = tab(app, "/notifications/ann", recorder(later, later_got))
            try:
                await frames_until(again, later, later_got, 1)
            finally:
                again.cancel()
            answer = {"answer": answer, "next tab's first frame": later[0] if later else None}
    finally:
        ann.cancel()
        await client.aclose()
    return {"first": first, "status": r.status_code, "delivered": reply.get("delivered"),
            "kinds": [f.get("type") for f in frames], "answer": answer}
'''


# "Acknowledged notifications are never delivered again": an ack the app has read counts,
# also when its tab's close comes right behind it (both already there when the app reads
# the ack, so nothing runs between them: an ack handed to a task of its own, which the
# close then cancels, is lost). Driven over ASGI like PAUSED_TAB.
ACK_THEN_CLOSE = _support.ASGI_PROBE + '''

async def scenario(module, folder):
    app = module.create_app(os.path.join(folder, "leaving.sqlite3"))
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    r = await client.post("/notifications", json={"user": "ann", "title": "acked"})
    sent = {"first": [], "next": []}
    got = asyncio.Event()
    inbox = asyncio.Queue()
    first = tab(app, "/notifications/ann", recorder(sent["first"], got), inbox)
    try:
        await frames_until(first, sent["first"], got, 2)  # her backlog of one, backlog_end
        ack = {"type": "ack", "ids": [r.json().get("id") if r.status_code == 201 else None]}
        inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(ack)})
        inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait({first})  # no timeout: on this clock a timer fires at once while
        # a thread of the app still works (the harness bounds the whole probe: 2 s)
        again = tab(app, "/notifications/ann", recorder(sent["next"], got))
        await frames_until(again, sent["next"], got, 1)
        again.cancel()
    finally:
        first.cancel()
        await client.aclose()
    return {name: [f.get("type") for f in frames[:2]] for name, frames in sent.items()}
'''
ACK_THEN_CLOSE_WANTED = {"first": ["notification", "backlog_end"], "next": ["backlog_end"]}


@pytest.mark.points(3)
@pytest.mark.category("ack")
async def test_ack_counts_only_the_users_pending_ids_and_the_rest_come_back(
    app_server: Server,
) -> None:
    """"The client sends `{"type": "ack", "ids": [ID, ...]}`; the server answers
    `{"type": "acked", "count": N}`" (the answer is the asking tab's, not the user's
    other tabs'), counting only this user's pending ids; the rest come back."""
    server = app_server()
    mine = [(await post(server, "ann", f"t{i}"))["id"] for i in range(3)]
    bobs = [(await post(server, "bob", f"b{i}"))["id"] for i in range(2)]
    async with server.connect(where("ann")) as ann, server.connect(where("ann")) as tab2:
        first = await backlog(server, ann)
        assert await backlog(server, tab2) == first, "every tab gets the backlog"
        assert await acked(server, ann, []) == 0, "an empty ack counts 0"
        # "`ids` not a list of strings" is what makes a frame malformed: "" is a string, an
        # unknown id like "?" (count 0, changes nothing), so this ack is no bad frame
        ids = [bobs[0], "?", "", mine[1], mine[1]]
        await ann.send(json.dumps({"type": "ack", "ids": ids}))
        reply = await server.recv_json(ann)
        assert reply == {"type": "acked", "count": 1}, (
            f"the ack {ids} is a list of strings (\"\" is an unknown id, counted 0), holding "
            f"ann's pending id twice: acked 1, got {reply}")
        assert await acked(server, ann, [mine[1]]) == 0, "an id acknowledged before counts 0"
        # "Unknown ids ... count 0 and change nothing": an id is the exact string given in
        # the notification, so one spelt otherwise (a leading zero, spaces, a sign, another
        # case: the same number to int(), the same text to a case-blind match) is unknown
        # (t0 and t2 still come back below)
        spelt = [f"0{mine[0]}", f" {mine[0]} ", f"+{mine[2]}", f"{mine[2]}\n"]
        spelt += [i.swapcase() for i in (mine[0], mine[2]) if i.swapcase() != i]
        count = await acked(server, ann, spelt)
        assert count == 0, (
            f"ann's pending ids are {mine[0]!r} and {mine[2]!r}: the ids {spelt} are none of "
            f"them (ids match exactly, as strings), so the ack counts 0, not {count}")
        # "Unknown ids ... count 0" whatever their characters: an id is any string, and one
        # that is not ASCII ("café", ann's id and an "é") is unknown too; a comparison made
        # for ASCII only (hmac.compare_digest, right for lesson 10's hex signatures) raises
        # TypeError for it, which must not end the connection
        foreign = ["caf\u00e9", f"{mine[0]}\u00e9", "\u6f22\u5b57"]
        count = await acked(server, ann, foreign)
        assert count == 0, f"the ids {foreign} are none of ann's: acked 0, not {count}"
        # "not an object whose `type` is exactly "ack"" is about the object the frame parses
        # to, not its text: a type spelt with a JSON escape ("\u0061ck") is "ack" all the same
        await ann.send('{"type": "\\u0061ck", "ids": [' + json.dumps(mine[1]) + "]}")
        reply = await server.recv_json(ann)
        assert reply == {"type": "acked", "count": 0}, (
            'the frame {"type": "\\u0061ck", "ids": [...]} parses to an object whose type is '
            f'exactly "ack": an ack (acked 0, an id acknowledged before), not {reply}')
        live = await post(server, "ann", "live, not acked")
        assert live["delivered"] == 2, f"ann has two open tabs: {live}"
        assert (await server.recv_json(ann))["id"] == live["id"]
        # "The client sends {"type": "ack", ...}; the server answers {"type": "acked", ...}":
        # the answer is the asking tab's; ann's other tab, after its backlog_end, gets only
        # the live notification (counted: its next frame, not a wait for silence)
        nxt = await server.recv_json(tab2)
        assert nxt.get("type") == "notification" and nxt.get("id") == live["id"], (
            "the acked answer goes to the tab that sent the ack, not to the user's other "
            f"tabs: the other tab's next frame should be the live notification, got {nxt}")
    async with server.connect(where("ann")) as ann:
        again = await backlog(server, ann)
        assert [f["title"] for f in again] == ["t0", "t2", "live, not acked"], (
            f"acked ones never come back, unacked ones (backlog or live) do: {again}")
        assert again[:2] == [first[0], first[2]], "a redelivered notification is the same"
        assert await acked(server, ann, [mine[0], mine[2], bobs[1], mine[0]]) == 2
    async with server.connect(where("ann")) as ann:
        assert [f["id"] for f in await backlog(server, ann)] == [live["id"]]
        # "{"type": "ack", "ids": [ID, ...]}" has no limit on its length (a client may ack a
        # backlog of max_per_user at once, or ids it kept from many sessions): 1,500 unknown
        # ids and ann's pending one in one frame, still one SQL-sized job, get acked 1.
        # "an id given twice counts once" in a long ack too: her id comes after 1,000
        # unknown ones and again last, 600 ids later (in two different chunks of a store
        # that works chunk by chunk)
        unknown = [f"no-such-id-{i}" for i in range(1600)]
        many = [*unknown[:1000], live["id"], *unknown[1000:], live["id"]]
        await ann.send(json.dumps({"type": "ack", "ids": many}))
        reply = await server.recv_json(ann)
        assert reply == {"type": "acked", "count": 1}, (
            "an ack of 1,602 ids, ann's one pending id among them twice (after 1,000 unknown "
            "ones, and last: an id given twice counts once, however long the list), should "
            f"answer acked 1, got {reply!r:.300}")
    async with server.connect(where("bob")) as bob:
        theirs = await backlog(server, bob)
        titles = [f["title"] for f in theirs]
        assert titles == ["b0", "b1"], f"ann's acks must not touch bob's notifications: {titles}"
        # "ids of another user's notifications ... count 0 and change nothing": ann's acks
        # of both (counted 0) changed nothing, so bob's own acks of them count each once;
        # one id per ack, so an ack that still holds an earlier ack's ids counts wrong
        counts = [await acked(server, bob, [f["id"]]) for f in theirs]
        assert counts == [1, 1], (
            "ann acknowledged bob's two ids (count 0, nothing changed); bob then acknowledges "
            "his two pending notifications one per ack: each counts its own id, 1 and 1 (an "
            f"ack is the ids of its own list, none of an earlier ack's), got {counts}")
    # "ids acknowledged before ... count 0": two tabs of max acknowledge his one id at the
    # same moment (both acks under way before either is answered, see INTERLEAVINGS): one
    # of them is the later, and counts 0
    got = await server.probe(interleaved("acks_at_once"))
    assert isinstance(got, dict), f"the app, driven in its own process, failed: {got}"
    assert got["acks_at_once"] == [0, 1], (
        "two tabs of max acknowledged his one pending id at the same moment: one ack counts "
        "it (1), the other comes after it, when the id was \"acknowledged before\" (0); got "
        f"the counts {got['acks_at_once']}")
    got = await server.probe(ACK_THEN_CLOSE)
    assert got == ACK_THEN_CLOSE_WANTED, (
        "ann's tab got her one notification, then acknowledged it and closed, the close "
        "right behind the ack: the app read the ack, so it counts (never delivered again), "
        "and her next tab's backlog is empty: wanted "
        f"{ACK_THEN_CLOSE_WANTED}, got {got}")
    # "N is how many distinct ids of the list were this user's pending ... notifications":
    # also ids this tab was never sent (its push of them timed out, see PAUSED_TAB)
    got = await server.probe(PAUSED_TAB)
    assert isinstance(got, dict), f"the app, driven in its own process, failed: {got}"
    answer = got["answer"]
    if answer != {"type": "closed"}:  # a dropped tab left open acknowledged "missed"
        if answer["answer"] is not None:
            assert answer["answer"] == {"type": "acked", "count": 1}, (
                "ann's tab was dropped from the live ones (its push of \"missed\" took longer "
                f"than send_timeout, delivered {got['delivered']}) but stayed open; it then "
                "acknowledged the id of \"missed\", one of ann's pending notifications: acked "
                "1 (N counts the user's pending ids, not only the ones this tab was sent), got "
                f"{answer['answer']}")
        nxt = answer["next tab's first frame"]
        assert nxt == {"type": "backlog_end", "count": 0}, (
            "ann's tab was dropped from the live ones but stayed open, and acknowledged the id "
            "of \"missed\" (answered or not: \"nothing more is sent to\" a dropped tab); "
            "the app read that ack, so \"missed\" is never delivered again: her next tab's "
            f"first frame should be backlog_end with count 0, got {nxt}")
