"""Graded suite for Exercise 4: notification_queueing (25 points), the Store's rules.

The Store's own contract (the shape add and pending return, every pending row),
expiry (an expired notification is never delivered nor acknowledged, its seq never
reused) and the cap (at most max_per_user unacknowledged per user, the oldest
dropped, online or not, and only once the new one is stored).

How every module of this suite talks to the app: notification_support.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, load_beside

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]

_support = load_beside(__file__, "notification_support")
FIELDS = _support.FIELDS
where = _support.where
send = _support.send
post = _support.post
backlog = _support.backlog
acked = _support.acked
check_frame = _support.check_frame


# Store's own contract, on the app's module, in a database of its own in the app's folder:
# add "Return it as {"id", "seq", "user", "title", "body", "level", "created_at",
# "expires_at"}" and pending gives each "in the shape add returns": those keys, no others
# the stub's Store, as its docstrings give it: a module without one misses this test
NO_STUB_STORE = "no Store(path, *, ttl_seconds, max_per_user) with add and pending"
STORE_SHAPE_PROBE = """
import inspect


def probe(module):
    store_class = getattr(module, "Store", None)
    try:
        inspect.signature(store_class).bind("x.sqlite3", ttl_seconds=1.0, max_per_user=1)
    except (TypeError, ValueError):
        return "NO_STUB_STORE"
    if not all(callable(getattr(store_class, name, None)) for name in ("add", "pending")):
        return "NO_STUB_STORE"
    try:
        store = module.Store("store_shape_probe.sqlite3", ttl_seconds=86400.0, max_per_user=100)
        added = store.add("ann", {"title": "t", "body": "b", "level": "high"})
        pending = store.pending("ann")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return {"add": sorted(added), "pending": [sorted(row) for row in pending]}
""".replace("NO_STUB_STORE", NO_STUB_STORE)
STORE_KEYS = sorted(FIELDS - {"type"})
# pending: "The user's unacknowledged, unexpired notifications", every one of them (120 of
# a user whose max_per_user is 150: more than the default cap of 100), and "An expired one
# (`expires_at` is now or past) is never returned again": expired by its stored expires_at,
# even for a Store opened later on that file with a longer ttl_seconds (a restart with
# another setting); ack counts it 0 ("ids that expired (even if not purged yet) count 0")
# add: "Afterwards the user has at most `max_per_user` stored notifications: the oldest
# (lowest seq) go": an expired one not purged yet makes no room for a live one (max 2, seq
# 1 expired, then 2, 3, 4 added: 3 and 4 are kept, not 2, 3 and 4 once seq 1 is deleted),
# and a Store opened with a smaller max_per_user than the one that stored (a restart with
# another setting) leaves at most its own after an add, not one dropped per one added
# (the id acknowledged is the last one added: an add that purges expired rows, more than
# ttl_seconds=0.001 after the first on a busy machine, could delete the first one before
# the ack, and an ack that ignores expires_at would then count 0 too)
# (the probe's files are in a folder of its own under /tmp: the sandbox's private tmpfs,
# so 120 commits cost no disk syncs however busy the machine's disk is)
STORE_RULES_PROBE = """
import os
import shutil
import tempfile
import time


def probe(module):
    folder = tempfile.mkdtemp(prefix="store-rules-")
    try:
        return rules(module, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def rules(module, folder):
    note = {"title": "t", "body": "", "level": "normal"}
    try:
        big = module.Store(os.path.join(folder, "big.sqlite3"), ttl_seconds=86400.0,
                           max_per_user=150)
        for _ in range(120):
            big.add(user="ann", fields=note)  # by keyword, as the signature names them
        many = [row["seq"] for row in big.pending(user="ann")]
        ttl_file = os.path.join(folder, "ttl.sqlite3")
        short = module.Store(ttl_file, ttl_seconds=0.001, max_per_user=100)
        gone = [short.add("ann", note)["id"] for _ in range(2)]
        cap_file = os.path.join(folder, "cap.sqlite3")
        module.Store(cap_file, ttl_seconds=0.001, max_per_user=2).add("ann", note)
        time.sleep(0.01)  # all three past their expires_at
        longer = module.Store(ttl_file, ttl_seconds=86400.0, max_per_user=100)
        acked = longer.ack(user="ann", ids=gone[-1:])  # the last: no later add purges it first
        expired = [row["seq"] for row in longer.pending("ann")]
        capped = module.Store(cap_file, ttl_seconds=86400.0, max_per_user=2)
        for _ in range(3):
            capped.add("ann", note)
        kept = [row["seq"] for row in capped.pending("ann")]
        wide_file = os.path.join(folder, "wide.sqlite3")
        wide = module.Store(wide_file, ttl_seconds=86400.0, max_per_user=5)
        for _ in range(5):
            wide.add("ann", note)
        narrow = module.Store(wide_file, ttl_seconds=86400.0, max_per_user=2)
        narrow.add("ann", note)
        narrowed = [row["seq"] for row in narrow.pending("ann")]
        zero = module.Store(os.path.join(folder, "zero.sqlite3"), ttl_seconds=0, max_per_user=9)
        added = zero.add("ann", note)
        zeroed = [added["expires_at"] == added["created_at"], zero.pending("ann"),
                  zero.ack("ann", [added["id"]])]
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return {"many": many, "acked": acked, "expired": expired, "kept": kept,
            "narrowed": narrowed, "zero": zeroed}
"""


def _in_any_order(seqs: Any) -> Any:
    """``seqs`` sorted, when it is a list of ints (anything else is shown as it came)."""
    if isinstance(seqs, list) and all(type(seq) is int for seq in seqs):
        return sorted(seqs)
    return seqs


@pytest.mark.points(1)
@pytest.mark.category("create")
async def test_store_add_and_pending_return_exactly_the_notifications_fields(
    app_server: Server,
) -> None:
    """Store's contract, on the app's module: add "Return[s] it as `{"id", "seq", "user",
    "title", "body", "level", "created_at", "expires_at"}`", and pending returns each "in
    the shape :meth:`add` returns": those eight keys, not a frame (no `type`)."""
    server = app_server()
    got = await server.probe(STORE_SHAPE_PROBE)
    assert got == {"add": STORE_KEYS, "pending": [STORE_KEYS]}, (
        f"Store.add and each row of Store.pending are exactly {STORE_KEYS} (a notification, "
        f"not a frame: the frame's `type` is the route's to add); got {got}")
    got = await server.probe(STORE_RULES_PROBE)
    assert isinstance(got, dict), f"Store, as its docstrings give it, raised: {got}"
    # seqs compared in any order here: the order a backlog comes in is the backlog tests'
    assert _in_any_order(got["many"]) == list(range(1, 121)), (
        "pending is \"The user's unacknowledged, unexpired notifications\": all 120 of a user "
        f"whose max_per_user is 150, seq 1 to 120, not a page of them; got seqs {got['many']}")
    assert (got["acked"], got["expired"]) == (0, []), (
        "\"An expired one (`expires_at` is now or past) is never returned again\", and an "
        "expired id acknowledged counts 0, also when the Store reading it was opened with a "
        "longer ttl_seconds (a restart with another setting): expiry is the stored "
        f"expires_at; got ack count {got['acked']} and pending {got['expired']}")
    assert _in_any_order(got["kept"]) == [3, 4], (
        "Store.add: \"Afterwards the user has at most `max_per_user` stored notifications: "
        "the oldest (lowest seq) go\": with max_per_user=2, seq 1 expired (not purged yet) "
        "and seq 2, 3, 4 added, pending holds seq 3 and 4 (dropping the expired one makes "
        f"no room for a third); got seqs {got['kept']}")
    assert _in_any_order(got["narrowed"]) == [5, 6], (
        "Store.add: \"Afterwards the user has at most `max_per_user` stored notifications: "
        "the oldest (lowest seq) go\", with the max_per_user of the Store that adds (\"Each "
        "`create_app` call works with its own ... `max_per_user`\"): five kept with "
        "max_per_user=5, then one added by a Store opened on that file with max_per_user=2 "
        f"leaves seq 5 and 6, not one dropped for one added; got seqs {got['narrowed']}")
    assert got["zero"] == [True, [], 0], (
        "Store(path, ttl_seconds=0, ...): 0 is a ttl like any other (not \"none given\"): "
        "expires_at = created_at + 0, so the notification is expired as it is stored, in no "
        "backlog and counted 0 by an ack; got [expires_at == created_at, pending, ack count] "
        f"= {got['zero']}")


@pytest.mark.points(2)
@pytest.mark.category("ttl")
async def test_expired_notifications_are_never_delivered_nor_acked(app_server: Server) -> None:
    server = app_server(ttl_seconds=0.1)
    async with server.connect(where("ann")) as ann:
        assert await backlog(server, ann) == []
        reply = await post(server, "ann", "soon gone")
        frame = await server.recv_json(ann)
        check_frame(frame, reply, "ann", "soon gone", ttl=0.1)
        async with server.connect(where("ann")) as tab:
            early = await backlog(server, tab)
        if time.time() < frame["expires_at"]:  # the server read it before expires_at too
            assert early == [frame], f"not expired yet, so in the backlog: {early}"
        # the app's clock is time.time(): wait until just past expires_at, no longer
        await asyncio.sleep(max(0.0, frame["expires_at"] - time.time()) + 0.02)
        assert await acked(server, ann, [reply["id"]]) == 0, "expired, so not pending: acks 0"
        async with server.connect(where("ann")) as tab:
            assert await backlog(server, tab) == [], "an expired notification is never delivered"
        # "`seq` increases by one per user and is never reused": ann's only notification
        # expired and was purged (nothing of hers is stored), and still its seq 1 was used
        again = await post(server, "ann", "after the purge")
        assert again["seq"] == 2, (
            "seq is never reused, not even after expiry: ann's seq 1 expired and was purged, "
            f"so her next notification is seq 2 (MAX(seq) of the rows left would start again "
            f"at 1); got {again}")


@pytest.mark.points(2)
@pytest.mark.category("cap")
async def test_cap_keeps_max_per_user_unacknowledged_and_drops_the_oldest(
    app_server: Server,
) -> None:
    """"at most `max_per_user` unacknowledged notifications are kept per user; when a new
    one would exceed the cap, the **oldest (lowest seq) is dropped**", whether or not the
    user has a tab open (pushed live but not acknowledged is unacknowledged)."""
    server = app_server(max_per_user=3)

    async def titles() -> list[tuple[int, str]]:
        async with server.connect(where("ann")) as ann:
            return [(f["seq"], f["title"]) for f in await backlog(server, ann)]

    for i in range(3):
        await post(server, "ann", f"t{i}")
    await post(server, "bob", "bob's own")
    assert await titles() == [(1, "t0"), (2, "t1"), (3, "t2")], "exactly max_per_user: all kept"
    async with server.connect(where("ann")) as ann:
        kept = await backlog(server, ann)
        assert await acked(server, ann, [kept[2]["id"]]) == 1
    await post(server, "ann", "t3")
    got = await titles()
    assert got == [(1, "t0"), (2, "t1"), (4, "t3")], (
        "ann acked seq 3, so 2 of her 3 are unacknowledged and t3 makes no room: the cap counts "
        "unacknowledged ones" + ("; and t3 is seq 4: seq is never reused, not even after an "
                                  "ack" if [t for _, t in got] == ["t0", "t1", "t3"] else "")
        + f"; got {got}")
    for i in range(4, 6):
        await post(server, "ann", f"t{i}")
    got = await titles()
    assert got == [(4, "t3"), (5, "t4"), (6, "t5")], f"over the cap the oldest go: {got}"
    async with server.connect(where("bob")) as bob:
        assert [f["title"] for f in await backlog(server, bob)] == ["bob's own"]
    async with server.connect(where("ann")) as ann:
        rest = await backlog(server, ann)
        dropped = [kept[0]["id"], kept[1]["id"]]  # t0 and t1, which the cap dropped
        assert await acked(server, ann, dropped) == 0, \
            "an id the cap dropped is no longer pending: acknowledging it counts 0"
        assert await acked(server, ann, [f["id"] for f in rest]) == 3
    got = await titles()
    assert got == [], f"the oldest were dropped, not hidden: acknowledging the rest brought {got}"
    # "at most `max_per_user` unacknowledged notifications are kept per user": pushed live
    # to an open tab but not acknowledged is unacknowledged, so the cap holds then too
    async with server.connect(where("ann")) as live_tab:
        assert await backlog(server, live_tab) == []
        for i in range(6, 10):
            reply = await post(server, "ann", f"t{i}")
            assert reply["delivered"] == 1, f"ann's open tab gets t{i} live: {reply}"
            check_frame(await server.recv_json(live_tab), reply, "ann", f"t{i}")
        got = await titles()
    assert got == [(8, "t7"), (9, "t8"), (10, "t9")], (
        "the cap counts every unacknowledged notification, also those pushed live to an open "
        f"tab: over max_per_user the oldest go, online or not; got {got}")
    # "when a new one would exceed the cap, the oldest is dropped", and a refused one is no
    # new one: "422 ..., and **nothing is stored**". sue is at the cap (3) when a POST with a
    # lone surrogate title comes, which may be refused (then s1, s2 and s3 are all kept: no
    # room made for a notification that was never stored) or stored as received (then it
    # takes s1's place)
    for i in range(1, 4):
        await post(server, "sue", f"s{i}")
    r = await send(server, b'{"user": "sue", "title": "\\ud800"}')
    assert r.status_code in (201, 422), f"a lone surrogate title: 422 or 201, got {r.status_code}"
    async with server.connect(where("sue")) as sue:
        got_sue = [f["title"] for f in await backlog(server, sue)]
    want = ["s1", "s2", "s3"] if r.status_code == 422 else ["s2", "s3", "\ud800"]
    why = ("a refused notification makes no room: drop the oldest only once the new one is "
           "stored, in the same transaction")
    if "s3" not in got_sue:  # her newest is gone too: no POST of hers made room for that
        why = ("her newest is gone too: max_per_user counts each user's own notifications, "
               "not everyone's: ann has 3 of her own, all newer")
    assert got_sue == want, (
        f"sue had s1, s2 and s3 (max_per_user=3), then a POST answered {r.status_code}: her "
        f"backlog should be {want!a}, got {got_sue!a} ({why})")
