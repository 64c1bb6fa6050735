"""Exercise 3, chat_broadcasting: who is in a room (joins, rosters, tabs, rooms, leaves).

One module of the exercise's graded suite (25 points in all: every ``test_*.py`` in this
folder). Talks real WebSockets to the submission's app served by the harness in a child
process; never imports the submission. Every receive has a timeout. Every frame
is compared whole, field by field (an error frame's ``message`` only has to be a
non-empty string: its words are the submission's own).

Here: the roster a joiner gets first and the join every member hears, a second tab that
is not a second user, rooms kept apart, and the leave of a user's last tab; with
``Presence``'s own contract (join, leave, roster, connections) probed on the app's module.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer, SubmissionError, load_beside

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


_frames = load_beside(__file__, "chat_frames")
PRESENCE_PROBE = _frames.PRESENCE_PROBE
PRESENCE_WANTED = _frames.PRESENCE_WANTED
TWO_TABS_AT_ONCE_PROBE = _frames.TWO_TABS_AT_ONCE_PROBE
TWO_TABS_AT_ONCE_WANTED = _frames.TWO_TABS_AT_ONCE_WANTED
TWO_TABS_JOIN_AFTER = _frames.TWO_TABS_JOIN_AFTER
chat = _frames.chat
expect = _frames.expect
faulty = _frames.faulty
join = _frames.join
joined = _frames.joined
left = _frames.left
msg = _frames.msg
say = _frames.say

# Presence.roster of a room nobody is in (never was, or no longer): "an empty room: `[]`"
EMPTY_ROSTER_PROBE = """
def probe(module):
    presence = module.Presence()

    def roster(room):
        try:
            return presence.roster(room)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    tab1, tab2 = object(), object()
    out = {"never used": roster("attic")}
    presence.join("lobby", "ann", tab1)
    presence.join("lobby", "ann", tab2)
    presence.leave("lobby", "ann", tab1)
    out["one tab left"] = roster("lobby")
    presence.leave("lobby", "ann", tab2)
    out["emptied"] = roster("lobby")
    # "sorted as Python's `sorted` sorts strings, by code point": digits too ("1" < "9")
    for user in ("ann9", "ann10", "ann"):
        presence.join("digits", user, object())
    out["digits"] = roster("digits")
    return out
"""
EMPTY_ROSTER_WANTED = {"never used": [], "one tab left": ["ann"], "emptied": [],
                       "digits": ["ann", "ann10", "ann9"]}

# Presence.connections(room): "A new list of every open connection in ``room``" (a list,
# as its signature says: not a set, nor a view), an empty one for an empty room
CONNECTIONS_PROBE = """
def probe(module):
    presence = module.Presence()

    def kind(value):
        return "a list" if isinstance(value, list) else type(value).__name__

    tab1, tab2 = object(), object()
    out = {"empty": kind(presence.connections("attic"))}
    presence.join("lobby", "ann", tab1)
    presence.join("lobby", "bob", tab2)
    out["two users"] = kind(presence.connections("lobby"))
    return out
"""
CONNECTIONS_WANTED = {"empty": "a list", "two users": "a list"}

# Presence.leave: "Leaving with a connection that is not (or no longer) there returns False
# and changes nothing" (another user's tab, a tab never seen, a room nobody is in, a tab
# already gone): only the user's own last tab is the 1 -> 0 that makes a leave
FOREIGN_LEAVE_PROBE = """
def probe(module):
    presence = module.Presence()
    ann, bob, stranger = object(), object(), object()

    def leave(room, user, conn):
        try:
            return presence.leave(room, user, conn)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    presence.join("lobby", "ann", ann)
    presence.join("lobby", "bob", bob)
    out = {"a tab never seen": leave("lobby", "ann", stranger),
           "bob's tab": leave("lobby", "ann", bob),
           "a room nobody is in": leave("attic", "ann", ann),
           "a user not there": leave("lobby", "cy", stranger)}
    out["roster after those"] = presence.roster("lobby")
    out["tabs after those"] = len(presence.connections("lobby"))
    out["ann's own last tab"] = leave("lobby", "ann", ann)
    out["that tab again"] = leave("lobby", "ann", ann)
    out["roster at the end"] = presence.roster("lobby")
    out["ann's tab comes back"] = [presence.join("lobby", "ann", ann), leave("lobby", "ann", ann)]
    return out
"""
FOREIGN_LEAVE_WANTED = {"a tab never seen": False, "bob's tab": False,
                        "a room nobody is in": False, "a user not there": False,
                        "roster after those": ["ann", "bob"], "tabs after those": 2,
                        "ann's own last tab": True, "that tab again": False,
                        "roster at the end": ["bob"], "ann's tab comes back": [True, True]}

# Presence is "room -> user -> that user's open connections", a connection any hashable:
# one joined under two rooms (here for two users) is a membership in each, and leaving one
# room with it leaves that one only (an index conn -> (room, user) that the second join
# overwrites makes the first leave return False and keeps ann in the lobby for good)
SHARED_CONN_PROBE = """
def probe(module):
    presence = module.Presence()

    def call(method, *args):
        try:
            return getattr(presence, method)(*args)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    out = {"ann joins the lobby": call("join", "lobby", "ann", "t1"),
           "bob joins the kitchen": call("join", "kitchen", "bob", "t1"),
           "ann leaves the lobby": call("leave", "lobby", "ann", "t1")}
    out["lobby"] = [call("roster", "lobby"), len(call("connections", "lobby"))]
    out["kitchen"] = [call("roster", "kitchen"), len(call("connections", "kitchen"))]
    out["bob leaves the kitchen"] = call("leave", "kitchen", "bob", "t1")
    out["kitchen at the end"] = call("roster", "kitchen")
    # "any hashable": counted as a set or dict counts it, by equality, so a tuple built
    # again equal to the joined one is that connection (not a new object by id())
    n = len(out)
    call("join", "attic", "cy", ("tab", n))
    out["cy leaves with an equal tuple"] = call("leave", "attic", "cy", tuple(["tab", n]))
    out["attic at the end"] = call("roster", "attic")
    return out
"""
SHARED_CONN_WANTED = {"ann joins the lobby": True, "bob joins the kitchen": True,
                      "ann leaves the lobby": True, "lobby": [[], 0], "kitchen": [["bob"], 1],
                      "bob leaves the kitchen": True, "kitchen at the end": [],
                      "cy leaves with an equal tuple": True, "attic at the end": []}


@pytest.mark.points(1)
@pytest.mark.category("roster_and_join")
async def test_roster_then_own_join(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await expect(server, ann, joined("ann"), "the joiner also gets its own join")
    joins = await server.wait_for_event("chat.joined")
    assert joins[0]["args"] == [{"room": "lobby", "user": "ann"}] and not joins[0]["kwargs"]
    # "Always `await ws.accept()` first", and a valid room and user are served whatever the
    # request's headers say: a browser page of another site sends its Origin (no lesson-style
    # origin check closing it before accept, which the client sees as HTTP 403)
    page = {"additional_headers": {"Origin": "http://localhost:5173"}}
    try:
        async with server.connect(chat("bob", "attic"), **page) as bob:
            await join(server, bob, "attic", "bob", ["bob"])
            await expect(server, bob, joined("bob", "attic"), "bob joins the attic")
    except SubmissionError as exc:
        raise SubmissionError(
            "a connection whose Origin header names another site (a page on "
            "http://localhost:5173), to a valid room and user, is accepted and served like any "
            f"other: {exc}") from None


@pytest.mark.points(1)
@pytest.mark.category("roster_and_join")
async def test_second_user_gets_roster_and_everyone_the_join(app_server: Server) -> None:
    """"The new connection's first frame is the roster: `{"type": "roster", "room": R,
    "users": [sorted unique user names, including yourself]}`": sorted as Python's sorted()
    sorts str (by code point: "Dee" before "ann"), and every member hears each join."""
    server = app_server()
    async with server.connect(chat("bob")) as bob:
        await join(server, bob, "lobby", "bob", ["bob"])
        await server.recv_json(bob)  # own join
        async with server.connect(chat("ann")) as ann:
            await join(server, ann, "lobby", "ann", ["ann", "bob"])
            await expect(server, ann, joined("ann"), "the joiner's own join")
            await expect(server, bob, joined("ann"), "members already in the room hear the join")
            # "[sorted unique user names, including yourself]": sorted as Python sorts str,
            # by code point, so an upper-case name comes before every lower-case one
            async with server.connect(chat("Dee")) as dee:
                await join(server, dee, "lobby", "Dee", ["Dee", "ann", "bob"])
                for ws, who in ((dee, "the joiner"), (bob, "bob"), (ann, "ann")):
                    await expect(server, ws, joined("Dee"), f"{who} hears Dee's join")


@pytest.mark.points(1)
@pytest.mark.category("seq")
async def test_rooms_are_separate(app_server: Server) -> None:
    """Rooms are separate, whatever their names: room `a_b` is not part of room `a` ("_" is
    a name character like any other, so a key "room_user" cannot tell `a` + `b_bob` from
    `a_b` + `bob`)."""
    server = app_server()
    async with server.connect(chat("ann", "a")) as ann, server.connect(chat("bob", "a_b")) as bob:
        await join(server, ann, "a", "ann", ["ann"])
        await join(server, bob, "a_b", "bob", ["bob"])
        await server.recv_json(ann)
        await server.recv_json(bob)
        await ann.send(say("only in a"))
        await expect(server, ann, msg("ann", "only in a", 1, "a"), "message in room a")
        await server.settled()  # anything room a sent bob is on its way before he speaks
        await bob.send(say("only in b"))
        await expect(server, bob, msg("bob", "only in b", 1, "a_b"),
                     "room a_b hears nothing of room a, and has its own seq")


@pytest.mark.points(2)
@pytest.mark.category("leave")
async def test_closing_the_socket_announces_leave(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        async with server.connect(chat("bob")) as bob:
            await join(server, bob, "lobby", "bob", ["ann", "bob"])
            await server.recv_json(ann)
        await expect(server, ann, left("bob"),
                     "when bob closes his only tab, the others hear that he left")
        # read before anyone else leaves: an app may emit chat.left after the leave frame,
        # and late when the room still has members (a later leave's emit can overtake it)
        gone = await server.wait_for_event("chat.left")
        async with server.connect(chat("cy")) as cy:
            await join(server, cy, "lobby", "cy", ["ann", "cy"])
    assert gone[0]["args"] == [{"room": "lobby", "user": "bob"}] and not gone[0]["kwargs"]


@pytest.mark.points(2)
@pytest.mark.category("two_tabs")
async def test_two_tabs_count_once(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("bob")) as bob:
        await join(server, bob, "lobby", "bob", ["bob"])
        await server.recv_json(bob)
        async with server.connect(chat("ann")) as tab1:
            await join(server, tab1, "lobby", "ann", ["ann", "bob"])
            await server.recv_json(tab1)
            await server.recv_json(bob)
            async with server.connect(chat("ann")) as tab2:
                await join(server, tab2, "lobby", "ann", ["ann", "bob"])
                await tab2.send(say("from tab 2"))  # the first frame after the roster
                for ws in (tab1, tab2, bob):
                    await expect(
                        server, ws, msg("ann", "from tab 2", 1),
                        "a second tab is not a second user (no join); every tab gets the message",
                    )
                got = await server.probe(PRESENCE_PROBE)
                assert got == PRESENCE_WANTED, (
                    "Presence.connections(room) returns a new list of every tab of every user "
                    "(one that later joins and leaves do not change), and join / leave return "
                    "True only on the user's 0 -> 1 / 1 -> 0 (a second tab's join, or a leave "
                    f"while another tab stays, is False): wanted {PRESENCE_WANTED}, got {got}")
                got = await server.probe(CONNECTIONS_PROBE)
                assert got == CONNECTIONS_WANTED, (
                    "Presence.connections(room) returns a new *list* of every open connection "
                    f"in the room, as its docstring and signature say: got {got}")
                got = await server.probe(EMPTY_ROSTER_PROBE)
                assert got == EMPTY_ROSTER_WANTED, (
                    "Presence.roster(room) is the users in the room, sorted, each once, and "
                    "`[]` for an empty room: one nobody ever joined, or one everybody left; "
                    f"got {got}")
            await server.settled()  # ann's second tab has closed, on the server's side too
            await bob.send(say("still there?"))
            await expect(server, bob, msg("bob", "still there?", 2),
                         "closing one of ann's two tabs is not a leave")
            await expect(server, tab1, msg("bob", "still there?", 2), "ann's other tab stays")
        await expect(server, bob, left("ann"), "closing ann's last tab is her leave")
    assert len(server.events("chat.joined")) == 2
    # ann's two tabs opening at the same moment (the first one's roster send still under way
    # while the second opens) are still one user: one join; and her first tab closing first
    # is no leave, her last one is (chat_frames.TWO_TABS_AT_ONCE_PROBE)
    got = await server.probe(TWO_TABS_AT_ONCE_PROBE)
    assert got in (TWO_TABS_AT_ONCE_WANTED, TWO_TABS_JOIN_AFTER), (
        "two tabs of ann opening together, the first one's roster send still under way while "
        "the second opens: ann goes 0 -> 1 once, so bob (there before) hears one join (before "
        "or after the message he sends once that roster is out) and his two messages; then "
        "the tab that made her join closes first (no leave) and her "
        "other one, now her last, closes: that is her leave (1 -> 0, whichever tab it is); "
        f"wanted {TWO_TABS_AT_ONCE_WANTED}, got {got}")


@pytest.mark.points(1)
@pytest.mark.category("normal_disconnect")
async def test_normal_disconnect_is_not_an_error(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        for _ in range(3):
            async with server.connect(chat("bob")) as bob:
                await join(server, bob, "lobby", "bob", ["ann", "bob"])
            await server.recv_json(ann)  # join bob
            await expect(server, ann, left("bob"), "bob closed his socket")
    await server.wait_for_event("chat.left", count=4)
    errors = server.events("ws.error")
    assert errors == [], f"a normal disconnect must not emit ws.error; got {errors[:2]}"
    # a tab gone before its roster could be sent (the send raises WebSocketDisconnect)
    async with server.connect(chat("eve"), **faulty("raise:0")):
        pass
    await server.expect_no_traceback("a normal disconnect must not raise in your server")
    # "A tab can be gone before its roster is sent": that tab leaves like one that closed, so
    # it is in nobody's roster afterwards (the room is empty again: gus is alone in it); a
    # second tab too (fay's, while her first is open): closing her first tab is her leave
    async with server.connect(chat("gus")) as gus:
        await join(server, gus, "lobby", "gus", ["gus"])
        await expect(server, gus, joined("gus"), "gus joins")
        async with server.connect(chat("fay")) as fay:
            await join(server, fay, "lobby", "fay", ["fay", "gus"])
            for ws in (fay, gus):
                await expect(server, ws, joined("fay"), "fay joins")
            async with server.connect(chat("fay"), **faulty("raise:0")):
                pass
            await server.settled()  # done with that tab (a slow join: else her 0 -> 1, ungraded)
            await fay.send(json.dumps({"type": "ping"}))
            await expect(server, fay, {"type": "pong"}, "fay's first tab is still there")
        await expect(server, gus, left("fay"),
                     "fay's second tab was gone before its roster (it left like one that "
                     "closed): closing her first tab is her 1 -> 0, her leave")
        # "A normal disconnect (`WebSocketDisconnect` ...) is a leave, **not** an error", on
        # whichever send it shows: hal takes his roster and his join, then the send of his
        # pong raises (WebSocketDisconnect, 1006) and his socket closes: he leaves, no ws.error
        async with server.connect(chat("hal"), **faulty("raise:2")) as hal:
            await join(server, hal, "lobby", "hal", ["gus", "hal"])
            await expect(server, gus, joined("hal"), "hal joins")
            await hal.send(json.dumps({"type": "ping"}))
        await expect(server, gus, left("hal"), "hal's connection is gone: he leaves")
    errors = server.events("ws.error")
    assert errors == [], (
        "a send that fails is a disconnect (a leave), not an error, the pong's send too: no "
        f"ws.error for it; got {errors[:2]}")


@pytest.mark.points(1)
@pytest.mark.category("roster_and_join")
async def test_a_user_in_two_rooms_joins_and_leaves_each_room(app_server: Server) -> None:
    """Presence is "room -> user -> that user's open connections": "When a **user** goes
    from 0 to 1 connections in the room, every connection in the room ... receives
    `join`", and "When a user goes from 1 to 0 connections: `leave`", counted in that
    room: ann's tab in another room neither makes her present here nor keeps her here."""
    server = app_server()
    async with server.connect(chat("ann", "a")) as ann_a, server.connect(chat("bob", "b")) as bob:
        await join(server, ann_a, "a", "ann", ["ann"])
        await expect(server, ann_a, joined("ann", "a"), "ann joins room a")
        await join(server, bob, "b", "bob", ["bob"])
        await expect(server, bob, joined("bob", "b"), "bob joins room b")
        async with server.connect(chat("ann", "b")) as ann_b:
            await join(server, ann_b, "b", "ann", ["ann", "bob"])
            for ws in (ann_b, bob):
                await expect(server, ws, joined("ann", "b"),
                             "ann's first tab in room b is her join there, though she has a "
                             "tab in room a")
        await expect(server, bob, left("ann", "b"),
                     "closing ann's only tab in room b is her leave from b, though she is "
                     "still in room a")
        await ann_a.send(json.dumps({"type": "ping"}))
        await expect(server, ann_a, {"type": "pong"}, "room a hears nothing of room b")
    joins = await server.wait_for_event("chat.joined", count=3)
    assert sorted((e["args"][0]["room"], e["args"][0]["user"]) for e in joins) == [
        ("a", "ann"), ("b", "ann"), ("b", "bob")], f"one chat.joined per user and room: {joins}"
    got = await server.probe(SHARED_CONN_PROBE)
    assert got == SHARED_CONN_WANTED, (
        "Presence counts each connection per room and user (a connection is any hashable): "
        "one joined in the lobby for ann and in the kitchen for bob is in both, and "
        "leave('lobby', 'ann', conn) is ann's 1 -> 0 there (True), leaving bob in the kitchen; "
        f"wanted {SHARED_CONN_WANTED}, got {got}")


@pytest.mark.points(1)
@pytest.mark.category("leave")
async def test_leaving_with_a_connection_that_is_not_there_changes_nothing(
    app_server: Server,
) -> None:
    """Presence.leave's contract, on the app's module: "True when it was the user's last
    connection (1 -> 0)", and "Leaving with a connection that is not (or no longer) there
    returns False and changes nothing, so a clean close after a failed send never announces
    a leave twice": not another user's tab, not a tab never seen, not one already gone."""
    server = app_server()
    got = await server.probe(FOREIGN_LEAVE_PROBE)
    assert got == FOREIGN_LEAVE_WANTED, (
        "Presence.leave(room, user, conn) with a conn that is not one of user's tabs in that "
        "room returns False and changes nothing (the user stays, with every tab); only the "
        "user's own last tab returns True, once per join (a tab that left and joins again "
        f"is there again, and its next leave is True); wanted {FOREIGN_LEAVE_WANTED}, got {got}")
