"""Graded suite for Exercise 4: notification_queueing (25 points), live push and the
backlog.

Every open tab of the user gets every live notification, and `delivered` counts the
tabs the push reached, also while tabs come and go and other POSTs are answered
(forced orders, see INTERLEAVINGS in notification_support.py). A tab that connects
gets its backlog in numeric seq order, then backlog_end, then live ones: never one
twice, and a notification it gets in its backlog is not counted as delivered.

How every module of this suite talks to the app: notification_support.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer, load_beside, reply_text

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]

_support = load_beside(__file__, "notification_support")
interleaved = load_beside(__file__, "notification_interleavings").interleaved
where = _support.where
faulty = _support.faulty
send = _support.send
post = _support.post
backlog = _support.backlog
check_frame = _support.check_frame


@pytest.mark.points(2)
@pytest.mark.category("live")
async def test_live_notification_reaches_every_tab_of_the_user(app_server: Server) -> None:
    server = app_server()
    async with server.connect(where("ann")) as tab1, server.connect(where("ann")) as tab2, \
            server.connect(where("bob")) as bob:
        for ws in (tab1, tab2, bob):
            assert await backlog(server, ws) == []
        before = time.time()
        # other fields are ignored, also the server's own created_at and expires_at ("from
        # `time.time()`"): a client's is no default to keep (kept, it made this one expired),
        # and a mark the listeners may share ("rejected", lesson 7's: a client's is no
        # refusal, so it neither skips the store nor turns the 201 into a 422)
        extra = {"id": "forged", "seq": 99, "type": "x", "priority": 1, "created_at": 5.0,
                 "expires_at": 6.0, "rejected": True}
        reply = await post(server, "ann", "hello", body="world", level="high", **extra)
        after = time.time()
        assert reply["delivered"] == 2, (
            "ann has two open tabs, delivered should be 2 (the POST's other fields, "
            f"created_at: 5.0 and expires_at: 6.0 too, are ignored): {reply}")
        assert reply["seq"] == 1 and reply["id"] != "forged", f"other fields are ignored: {reply}"
        for ws in (tab1, tab2):
            frame = await server.recv_json(ws)
            check_frame(frame, reply, "ann", "hello", "world", "high")
            assert before - 1 <= frame["created_at"] <= after + 1, f"Unix seconds? {frame}"
        await server.expect_silence(bob, 0.3)
        reply = await post(server, "ann", "defaults")
        check_frame(await server.recv_json(tab1), reply, "ann", "defaults")
    # "Every open tab of the user receives every live notification", also after tabs came
    # and went: cy's first tab leaves while her second stays, then a third joins (a tab
    # filed under "how many tabs she has now" would take the place of the one still open)
    async with contextlib.AsyncExitStack() as stack:
        first, second = [await stack.enter_async_context(server.connect(where("cy")))
                         for _ in range(2)]
        for ws in (first, second):
            assert await backlog(server, ws) == []
        await first.close()
        await server.settled()  # the server has seen the first tab leave
        third = await stack.enter_async_context(server.connect(where("cy")))
        assert await backlog(server, third) == []
        reply = await post(server, "cy", "two tabs open")
        assert reply["delivered"] == 2, (
            "cy's first tab left, her second is still open and a third joined: both open "
            f"tabs get the notification, delivered 2; got {reply}")
        for ws in (second, third):
            check_frame(await server.recv_json(ws), reply, "cy", "two tabs open")
    # Things at once, in the order the probe forces (see INTERLEAVINGS): ivy's first tab
    # leaves while her second is still receiving its backlog (a list of tabs taken before the
    # backlog and dropped when it emptied would leave the second tab in a list nobody reads);
    # jo's push waits at her tab's send while kai's POST is answered (one shared count would
    # give one of them the other's tab); nia's push waits at her first tab's send while mo's
    # tab leaves (a loop over a registry of every tab, which that leave changes, would skip
    # nia's second); lea's POSTs
    # "first" and "second" wait while her tab gets its backlog (each is stored as sent, not
    # as the other one was validated)
    got = await server.probe(interleaved("tabs_and_counts", "held_posts"))
    assert isinstance(got, dict), f"the app, driven in its own process, failed: {got}"
    tabs = got["tabs_and_counts"]
    assert tabs["ivy"] == 1 and tabs["ivy_live"] == ["backlog_end", "notification"], (
        "\"Every open tab of the user receives every live notification\": ivy's first tab left "
        "while her second was receiving its backlog; the second, still open, gets the next "
        f"notification live, delivered 1; got delivered {tabs['ivy']} and frames "
        f"{tabs['ivy_live']}")
    assert (tabs["jo"], tabs["kai"]) == (1, 1), (
        "delivered is \"the number of the user's live tabs the push reached\": jo and kai have "
        "one tab each, and kai's POST was answered while jo's push was still on its way: "
        f"1 each, got jo {tabs['jo']} and kai {tabs['kai']}")
    assert tabs["own_ids"] == [True, True], (
        "the 201 of a POST names that POST's notification (\"ID is a unique string\"): jo's "
        "reply has the id of the notification her tab got, and kai's the id of his, although "
        "kai's POST was answered while jo's push was still on its way (one reply slot shared "
        f"by the app's POSTs gives jo kai's id); [jo's, kai's] match: {tabs['own_ids']}")
    assert tabs["nia"] == 2, (
        "\"Every open tab of the user receives every live notification\": nia has two tabs; "
        "while her push was still on its way to the first, mo's tab left (a tab of anyone "
        f"coming or going during a push skips none of nia's): delivered 2, got {tabs['nia']}")
    held = got["held_posts"]
    # in any order: the backlog's order is the backlog tests' to grade, not this one's
    assert sorted(held["stored"], key=repr) == [[1, "first", "one", "low"],
                                                [2, "second", "two", "high"]], (
        "\"a title or body is stored and delivered exactly as sent\": lea's POSTs \"first\" "
        "(body one, low) and \"second\" (body two, high) came while her tab was receiving its "
        f"backlog, each is stored as it was sent; her backlog holds {held}")
    assert held["held"] == ["backlog_end", "notification", "notification"], (
        "\"Every open tab of the user receives every live notification\": lea's tab was held "
        "at its backlog_end (its backlog read) while her POSTs \"first\" and \"second\" came; "
        "that tab, open all along, gets both after its backlog_end (a notification stored "
        "after its backlog was read and pushed before it was live reaches it neither way); "
        f"got {held['held']}")
    # "Every open tab of the user receives every live notification", however many: pat has
    # 101 tabs open (driven in the app's process, see INTERLEAVINGS), then 100 of them leave
    # (a bounded list of tabs would drop the first ones; tab numbers that wrap around would
    # file a new tab in the place of one still open, and its leaving would take that one out)
    got = await server.probe(interleaved("many_tabs"))
    assert isinstance(got, dict), f"the app, driven in its own process, failed: {got}"
    many = got["many_tabs"]
    assert (many["delivered"][0], many["reached"]) == (101, 101), (
        "\"Every open tab of the user receives every live notification\": pat has 101 tabs "
        f"open, delivered 101 and each gets it; got delivered {many['delivered'][0]}, "
        f"{many['reached']} tabs reached")
    assert many["delivered"][1] == 1 and many["first"] == [
        "backlog_end", "notification", "notification"], (
        "pat's first tab stayed open while 100 others of hers came and left: it still gets "
        f"every live notification (delivered 1); got delivered {many['delivered'][1]}, and "
        f"the first tab's frames {many['first']}")


@pytest.mark.points(3)
@pytest.mark.category("backlog")
async def test_backlog_in_seq_order_then_backlog_end_then_live_never_twice(
    app_server: Server,
) -> None:
    server = app_server()
    posted = [(f"t{i}", f"body {i}" * i, ("low", "normal", "high")[i % 3]) for i in range(6)]
    replies = [await post(server, "ann", t, body=b, level=lv) for t, b, lv in posted]
    async with server.connect(where("ann")) as fast:
        old = await backlog(server, fast, as_sent=True)
        assert [f["seq"] for f in old] == [1, 2, 3, 4, 5, 6], "the backlog must be in seq order"
        for frame, reply, (title, body, level) in zip(old, replies, posted, strict=True):
            check_frame(frame, reply, "ann", title, body, level)
        # every send to this tab takes 20 ms: the POST lands while its backlog is on the way
        async with server.connect(where("ann"), **faulty("slow:20")) as slow:
            late = asyncio.create_task(post(server, "ann", "new"))
            # "a tab still receiving its backlog (which then includes this notification) does
            # not count": once the POST reached the app (recorded before any listener runs),
            # a third tab joins while the slow one's backlog is still on its way. Whichever
            # of the two gets "new" in its backlog is not counted; one that gets it live is
            # (a tab listed for pushes at accept, before its backlog, must not be counted
            # when "new" then comes in that backlog)
            while len(await asyncio.to_thread(server.events, "notification.created")) < 7:
                if (await asyncio.wait({late}, timeout=0.005))[0]:
                    break  # answered already
            async with server.connect(where("ann")) as joining:
                frames = await backlog(server, slow, as_sent=True)
                joined = await backlog(server, joining, as_sent=True)
                reply = await asyncio.wait_for(late, 10)
                live = 0
                for ws, got in ((slow, frames), (joining, joined)):
                    seqs = [f["seq"] for f in got]
                    assert seqs == sorted(set(seqs)), f"the backlog in seq order, each once: {seqs}"
                    if reply["seq"] not in seqs:  # then it comes live, after backlog_end
                        check_frame(await server.recv_json(ws), reply, "ann", "new")
                        live += 1
                assert reply["delivered"] == 1 + live, (  # no count while in backlog
                    f"delivered counts the tabs that got it live (the first tab and {live} of "
                    f"the two that were receiving their backlog), not those that got it in "
                    f"their backlog: {reply}")
                check_frame(await server.recv_json(fast), reply, "ann", "new")
                await asyncio.gather(server.expect_silence(slow, 0.3),
                                     server.expect_silence(joining, 0.3))
        async with server.connect(where("ann"), **faulty("slow:20")):
            pass  # gone in the middle of its backlog: a normal disconnect
        await server.expect_no_traceback(
            "a tab gone in the middle of its backlog is a normal disconnect: no error")
        assert not server.events("ws.error"), "a normal disconnect is not a ws.error"
        after = await post(server, "ann", "after")
        assert after["delivered"] == 1, f"only the fast tab is left: {after}"
        check_frame(await server.recv_json(fast), after, "ann", "after")


@pytest.mark.points(1)
@pytest.mark.category("backlog")
async def test_a_backlog_of_a_dozen_comes_in_numeric_seq_order(app_server: Server) -> None:
    """"the server sends every stored, unacknowledged, unexpired notification of that
    user, in `seq` order": seq is a number (1, 2, ... 9, 10), whatever an id looks like."""
    server = app_server()
    # "ids are unique", across users too: ann1's seq 1 is pending while ann reaches seq 11
    # (an id made of the user and the seq glued together would be "ann11" for both)
    ann1 = await post(server, "ann1", "ann1's own")
    replies = []
    # "every stored ... notification": two equal ones (seq 6 and 7, the same title, body and
    # level) are two notifications, both in the backlog, not collapsed into one
    for i in range(1, 13):
        r = await send(server, {"user": "ann", "title": "the same" if i in (6, 7) else f"t{i}"})
        assert r.status_code == 201, (
            f"ann's POST number {i} should answer 201 (ann1 has seq 1 pending, and ids are "
            f"unique across users), got {r.status_code}: {reply_text(r)}")
        replies.append(r.json())
    assert ann1["id"] not in {r["id"] for r in replies}, f"ann1's id is ann's too: {ann1}"
    async with server.connect(where("ann")) as ann:
        frames = await backlog(server, ann, as_sent=True)
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(1, 13)), (
        f"a backlog of 12 in seq order, 1 to 12 (seq 6 and 7 are equal notifications: both "
        f"are sent), got {seqs}")
    assert [f["id"] for f in frames] == [r["id"] for r in replies], "each with its own id"
    # "every stored, unacknowledged, unexpired notification of that user": user names are
    # matched exactly ("_" is a character, not a wildcard, and case matters), so a tab of
    # "a_n" or of "ANN" is another user's, whose backlog holds none of ann's
    for other in ("a_n", "ANN"):
        async with server.connect(where(other)) as tab:
            theirs = await backlog(server, tab)
        assert theirs == [], f"{other!r} is not 'ann': its backlog must be empty, got {theirs}"
