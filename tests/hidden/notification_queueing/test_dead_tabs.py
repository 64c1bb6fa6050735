"""Graded suite for Exercise 4: notification_queueing (25 points), dead and stalled tabs.

A push to a tab that fails or takes longer than send_timeout drops that tab from the
live ones (not counted, never tried again, its backlog too), so a stalled tab costs
at most one send_timeout, closed or not; a slow tab within send_timeout counts and
gets everything, and a failed push loses nothing. Sends are counted, not timed.

How every module of this suite talks to the app: notification_support.py. Here,
sends of seconds (past the 2 s default send_timeout) take place on a clock that skips
waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from day25.course.harness import AppServer, SubmissionSettled, SubmissionTimeout, load_beside

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]

_support = load_beside(__file__, "notification_support")
where = _support.where
faulty = _support.faulty
send = _support.send
post = _support.post
backlog = _support.backlog
check_frame = _support.check_frame

# "A tab that reads slowly but within `send_timeout` is not dead: it counts and gets
# everything, a backlog too", with a send_timeout past the 2 s default as well: run in the
# app's process, a second create_app(send_timeout=5) (its database in a folder of its own
# under /tmp) is driven over ASGI on a loop whose clock skips waits (day25's
# VirtualClockLoop), so each send to sol's tab takes 2.5 s of that clock and no real time.
# Her tab gets her backlog of two, backlog_end and a live one, each counted (the probe's
# harness: notification_support.ASGI_PROBE).
SLOW_TAB = _support.ASGI_PROBE + '''

async def post(client, user, title):
    r = await client.post("/notifications", json={"user": user, "title": title})
    return r.json().get("delivered") if r.status_code == 201 else r.status_code


async def scenario(module, folder):
    app = module.create_app(os.path.join(folder, "slow.sqlite3"), send_timeout=5.0)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    queued = [await post(client, "sol", title) for title in ("b1", "b2")]
    frames, got = [], asyncio.Event()

    async def send(message):
        if message.get("type") == "websocket.send":
            await asyncio.sleep(2.5)  # on this loop's clock: no real wait
            frames.append(json.loads(message.get("text") or message.get("bytes")))
            got.set()

    sol = tab(app, "/notifications/sol", send)
    try:
        await frames_until(sol, frames, got, 3)
        live = await post(client, "sol", "live") if not sol.done() else None
        await frames_until(sol, frames, got, 4)
    finally:
        sol.cancel()
        await client.aclose()
    return {"queued": queued, "kinds": [f.get("type") for f in frames], "live": live}
'''


@pytest.mark.points(2)
@pytest.mark.category("dead_tab")
async def test_dead_and_stalled_tabs_are_dropped_and_not_counted(app_server: Server) -> None:
    server = app_server(send_timeout=0.3)
    async with server.connect(where("ann")) as ok, \
            server.connect(where("ann"), **faulty("raise:1")) as gone, \
            server.connect(where("ann"), **faulty("stall:1")) as stalled, \
            server.connect(where("ann"), **faulty("slow:10")) as slow:
        for ws in (ok, gone, stalled, slow):
            assert await backlog(server, ws) == []
        first = await post(server, "ann", "one")
        assert first["delivered"] == 2, f"of 4 tabs one raised and one stalled: {first}"
        # dropped stays dropped: "no later push tries it", even after that tab sends a frame
        # (an ack from the stalled tab: its reply may stall too, whatever the server does
        # about that, but no push is tried on that tab again)
        with contextlib.suppress(Exception):  # a server may have closed the dropped tab
            await stalled.send(json.dumps({"type": "ack", "ids": []}))
        await server.settled()
        later = [await post(server, "ann", title) for title in ("two", "three")]
        assert [r["delivered"] for r in later] == [2, 2], f"the failed tabs were dropped: {later}"
        # counted, not timed (a loaded machine makes every post slow): after its send
        # stalled past send_timeout, the tab is dropped, never sent to (and waited for) again
        # but for the reply to its own ack
        stalls = server.faults()["stall"]
        assert stalls <= 2, (
            f"the stalled tab was sent to {stalls} times (its push, at most the reply to its "
            "ack, and pushes again): it was waited for again; a frame from a dropped tab "
            "does not make it live again")
        for ws in (ok, slow):  # a slow reader within send_timeout counts and gets everything
            for reply, title in zip([first, *later], ("one", "two", "three"), strict=True):
                check_frame(await server.recv_json(ws), reply, "ann", title)
    async with server.connect(where("ann")) as ann:
        titles = [f["title"] for f in await backlog(server, ann)]
    assert titles == ["one", "two", "three"], f"a failed push loses nothing: {titles}"
    # a dropped tab that has closed is gone, not a mark on the tab that comes next: eve's
    # second tab is dropped (its push raises) and closes; her next tab is live
    async with server.connect(where("eve")) as eve:
        assert await backlog(server, eve) == []
        async with server.connect(where("eve"), **faulty("raise:1")) as dropped:
            assert await backlog(server, dropped) == []
            e1 = await post(server, "eve", "e1")
        await server.settled()  # closed on the server's side too
        async with server.connect(where("eve")) as eve2:
            await backlog(server, eve2)
            e2 = await post(server, "eve", "e2")
            assert [e1["delivered"], e2["delivered"]] == [1, 2], (
                "eve's second tab was dropped (its push of e1 raised: delivered 1) and then "
                "closed; the tab she opens next is open and live, so e2 reaches both her tabs: "
                f"delivered 2; got {[e1, e2]}")
            check_frame(await server.recv_json(eve2), e2, "eve", "e2")
    # the send_timeout is create_app's, not the 2 s default: a send of 1 s, well within
    # the default but past this app's 0.3 s, does not reach its tab in time, so it is
    # not counted (its backlog_end is prompt; the slow send is the first push)
    # Meanwhile "A tab that reads slowly but within `send_timeout` is not dead: it counts and
    # gets everything", its backlog too: each send to dee's tab takes 60 ms, well within
    # 0.3 s, and its six (five notifications and backlog_end) take longer than one 0.3 s
    dees = [await post(server, "dee", f"d{i}") for i in range(5)]
    # "a push to a tab that fails ... drops that tab": its backlog_end too. Every send to
    # cy's first tab raises, and its backlog is empty, so its first send is backlog_end:
    # that tab is given up, and cy's next tab and POST below are served as if it never came
    # (a lock taken for the backlog_end and not released when that send failed hangs both)
    async with server.connect(where("cy"), **faulty("raise")):
        await server.settled()
    # and "`send_timeout` bounds each send", live pushes too, not a tab's whole session:
    # each live send to fay's tab takes 50 ms (her backlog_end goes at once), and she is
    # sent seven (350 ms in all, past 0.3 s), each counted and received (run meanwhile)

    async def seven_for_fay(fay: Any) -> list[dict[str, Any]]:
        assert await backlog(server, fay) == []
        return [await post(server, "fay", f"f{i}") for i in range(7)]

    async with server.connect(where("cy"), **faulty("slow:1000:1")) as slow_tab, \
            server.connect(where("dee"), **faulty("slow:60")) as dee, \
            server.connect(where("fay"), **faulty("slow:50:1")) as fay:
        reading = asyncio.create_task(backlog(server, dee))
        fay_live = asyncio.create_task(seven_for_fay(fay))
        try:
            assert await backlog(server, slow_tab) == []
        except (SubmissionTimeout, SubmissionSettled):
            pytest.fail("cy's earlier tab failed on its first send (its backlog_end) and was "
                        "given up; cy's next tab must still get its backlog_end, but none "
                        "came (was something held, a lock, when that send failed?)",
                        pytrace=False)
        reply = await post(server, "cy", "not worth the wait")
        assert reply["delivered"] == 0, (
            f"a send of 1 s is past send_timeout=0.3, so it does not count: {reply}")
        try:
            got = [f["id"] for f in await reading]
        except Exception as exc:  # closed, or no backlog_end
            pytest.fail(f"a tab whose every send takes 60 ms (send_timeout 0.3 s) gets its whole "
                        f"backlog of 5 and backlog_end, however long all of it takes: {exc}",
                        pytrace=False)
        assert got == [r["id"] for r in dees], f"dee's whole backlog, in seq order: {got}"
        fays = await fay_live
        assert [reply["delivered"] for reply in fays] == [1] * 7, (
            "each send to fay's tab takes 50 ms, within send_timeout=0.3 s: every one of her "
            "seven live notifications counts, however long all seven take (send_timeout "
            f"bounds each send, not the tab's whole life); got {fays}")
        for i, reply in enumerate(fays):
            check_frame(await server.recv_json(fay), reply, "fay", f"f{i}")
    # and "send_timeout" is create_app's in the backlog too, also past the 2 s default:
    # each send to sol's tab takes 2.5 s (virtual, see SLOW_TAB), within send_timeout=5
    got = await server.probe(SLOW_TAB)
    want = {"queued": [0, 0], "kinds": ["notification", "notification", "backlog_end",
                                        "notification"], "live": 1}
    assert got == want, (
        "with create_app(send_timeout=5), each send to sol's tab takes 2.5 s, within her "
        "send_timeout: her tab gets her backlog of two, backlog_end, then her live one, "
        "delivered 1 (a backlog sent with a bound of its own, not create_app's "
        f"send_timeout, drops her), got {got}")


@pytest.mark.points(1)
@pytest.mark.category("dead_tab")
async def test_a_tab_that_stopped_reading_costs_one_send_timeout_even_when_closed(
    app_server: Server,
) -> None:
    """"a push to a tab that fails, or takes longer than `send_timeout` seconds, drops
    that tab from the live ones ... (so a stalled tab costs at most one `send_timeout`)",
    and "Whether the server also closes a dropped tab is up to you": a close is a write to
    that same stalled tab, so it is bounded too, or the POST never answers.

    The stopped tab is `stuck`: as a client whose socket buffers are full, nothing more
    gets through to it, a close frame neither. Each POST is given the client's generous
    timeout; nothing is timed."""
    server = app_server(send_timeout=0.3)
    async with server.connect(where("ann")) as reader, \
            server.connect(where("ann"), **faulty("stuck:1")) as stopped:
        for ws in (reader, stopped):
            assert await backlog(server, ws) == []  # its one healthy send: backlog_end
        for title in ("first", "after"):
            try:
                reply = await post(server, "ann", title)
            except httpx.TimeoutException:
                pytest.fail(
                    f"POST {title!r} never answered: a push to a tab that stopped reading "
                    "must give up after send_timeout (0.3 s), and closing the dropped tab "
                    "(if you do) must not wait on it without a bound either", pytrace=False)
            assert reply["delivered"] == 1, f"only the reading tab gets {title!r}: {reply}"
            check_frame(await server.recv_json(reader), reply, "ann", title)
    # "a push to a tab that ... takes longer than `send_timeout` seconds, drops that tab from
    # the live ones: no later push tries it", in a backlog too: bo has two stored, and his
    # tab takes the first frame, then stops reading. That stalled send is the last one tried
    # on that tab: neither the rest of the backlog (the frame skipped, and backlog_end tried
    # after it, a send_timeout each) nor bo's next POST (a tab that joined the live ones
    # after its backlog failed) tries it again. Counted, not timed: the harness counts the
    # sends that stalled. Only that is checked here, not what bo's POST answers: whether a
    # tab stalled in its backlog may hold up its user's next POST is left open (the text
    # says so; 15 of the 44 kept correct solutions send a backlog without a bound)
    before = server.faults()["stall"]
    for title in ("b1", "b2"):
        await post(server, "bo", title)
    async with server.connect(where("bo"), **faulty("stall:1")) as bo:
        first = (await server.recv_json(bo, expecting="the first frame of bo's backlog")).get(
            "title")  # b1 or b2: the backlog's order is the backlog tests' to grade
        assert first in ("b1", "b2"), f"bo's backlog starts with one of his two, not {first!r}"
        await server.settled()
        posting = asyncio.create_task(send(server, {"user": "bo", "title": "b3"}))
        await server.settled()
        stalls = server.faults()["stall"] - before
        posting.cancel()
        with contextlib.suppress(BaseException):
            await posting
    assert stalls == 1, (
        f"bo's tab stopped reading at the second frame of its backlog, and {stalls} sends to "
        "it stalled: a send that took longer than send_timeout drops that tab (\"no later "
        "push tries it\"): neither the rest of its backlog nor a later POST may try it again")
