"""Graded suite for Exercise 3: chat_broadcasting (25 points).

Talks real WebSockets to the submission's app served by the harness in a child
process; never imports the submission. Every receive has a timeout. Every frame
is compared whole, field by field (an error frame's ``message`` only has to be a
non-empty string: its words are the submission's own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, load_beside

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


_frames = load_beside(__file__, "chat_frames")
_model = load_beside(__file__, "chat_model")
BAD_FRAMES = _frames.BAD_FRAMES
# the name rule's edges (chat_frames), and the five ASCII characters between Z and a other
# than "_", which a range A-z lets in: "those 64 ASCII characters and no others"
BAD_PATHS = [*_frames.BAD_PATHS, "/chat/lobby?user=a%5Bb", "/chat/lobby?user=a%5Cb",
             "/chat/lobby?user=a%5Eb", "/chat/lobby?user=%60ann", "/chat/lobby%5D?user=ann",
             # names far too long: the refusal is still 4400, whatever the name holds (a close
             # reason quoting it would pass a WebSocket close reason's 123 bytes, and break the
             # close itself)
             "/chat/lobby?user=" + "u" * 200, "/chat/" + "r" * 200 + "?user=ann",
             # digits outside ASCII (ARABIC-INDIC DIGIT THREE, FULLWIDTH DIGITS ONE and TWO),
             # which `\d` and str.isdigit() let in: `0-9` is ten ASCII digits and no others
             "/chat/lobby?user=ann%D9%A3", "/chat/%EF%BC%91%EF%BC%92?user=ann"]
EDGE_ROOM = _frames.EDGE_ROOM
GOOD_TEXTS = _frames.GOOD_TEXTS
NAN = _frames.NAN
PARSE_FRAME_PROBE, PARSE_FRAME_WANTED = _frames.PARSE_FRAME_PROBE, _frames.PARSE_FRAME_WANTED
PARSE_FRAME_ERRORS_PROBE = _frames.PARSE_FRAME_ERRORS_PROBE
PARSE_FRAME_ERRORS_WANTED = _frames.PARSE_FRAME_ERRORS_WANTED
PRESENCE_PROBE, PRESENCE_WANTED = _frames.PRESENCE_PROBE, _frames.PRESENCE_WANTED
TWO_TABS_AT_ONCE_PROBE = _frames.TWO_TABS_AT_ONCE_PROBE
TWO_TABS_AT_ONCE_WANTED = _frames.TWO_TABS_AT_ONCE_WANTED
CHANGED_WHILE_WAITING_PROBE = _frames.CHANGED_WHILE_WAITING_PROBE
SAY_AND_CLOSE_PROBE = _frames.SAY_AND_CLOSE_PROBE
SAY_AND_CLOSE_WANTED = _frames.SAY_AND_CLOSE_WANTED
chat = _frames.chat
error_frame = _frames.error_frame
expect = _frames.expect
faulty = _frames.faulty
join = _frames.join
joined = _frames.joined
left = _frames.left
msg = _frames.msg
say = _frames.say
SESSION_SEEDS, SESSION_STEPS = (1, 2), 30
IDLE_ROOMS = 33  # rooms that empty after the lobby, in the seq test
BUSY_SEQ = 110  # the lobby's messages in all, in the seq test
# unknown types far too long to quote whole: "quote it with `repr` and keep it short"
LONG_TYPES = ["x" * 20_000, ["message" * 2_000]]

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

# valid_name(value) -> bool: "True only for a str of 1-32 characters": any other value is
# False, an unhashable one too (a list, a dict, a set: a cache keyed on the value, such as
# functools.lru_cache, raises TypeError for those), never an exception
VALID_NAME_PROBE = """
def probe(module):
    out = {}
    for value in (["ann"], {"user": "ann"}, {"ann"}, bytearray(b"ann"), None, 5, b"ann", "ann"):
        try:
            out[repr(value)] = module.valid_name(value)
        except Exception as exc:
            out[repr(value)] = f"{type(exc).__name__}: {exc}"[:120]
    return out
"""
VALID_NAME_WANTED = {"['ann']": False, "{'user': 'ann'}": False, "{'ann'}": False,
                     "bytearray(b'ann')": False, "None": False, "5": False, "b'ann'": False,
                     "'ann'": True}

# broadcast's own contract, on fake members (the app only ever hands it a fresh list):
# "Work on a copy of `conns`" (any iterable: a generator can be read once; a list the
# sends change is read as it was) and "return the members whose send failed" (a list); a
# send that raises at once ends no other send ("every other member still gets the frame":
# not asyncio.wait(..., return_when=FIRST_EXCEPTION), which leaves a slower one unfinished)
BROADCAST_PROBE = """
import asyncio
import json


class Member:
    def __init__(self, name, fails=False, delay=0.0):
        self.name, self.fails, self.delay, self.got, self.on_send = name, fails, delay, [], None

    async def send_text(self, text):
        if self.on_send is not None:
            self.on_send()
        if self.fails:
            raise OSError("the connection is gone")
        if self.delay:
            await asyncio.sleep(self.delay)  # a member that takes the frame a little later
        self.got.append(json.loads(text))
        return len(text)  # a send may return something (a byte count): it took the frame

    def __repr__(self):
        return self.name


async def probe(module):
    broadcast = getattr(module, "broadcast", None)
    if not callable(broadcast):
        return "the module has no broadcast(conns, frame, *, timeout)"
    frame = {"type": "message", "room": "lobby", "user": "ann", "text": "hi", "seq": 1}
    out = {}
    try:  # nobody to send to: nobody failed
        failed = await broadcast([], frame, timeout=2.0)
        out["nobody"] = ["a list" if isinstance(failed, list) else type(failed).__name__,
                         sorted(repr(m) for m in failed)]
    except Exception as exc:
        out["nobody"] = f"{type(exc).__name__}: {exc}"
    for case in ("a generator", "a list changed by a send"):
        ann, gone, bob, cy = Member("ann"), Member("gone", fails=True), Member("bob"), Member("cy")
        if case == "a generator":
            conns = (m for m in (ann, gone, bob))
        else:
            conns = [ann, gone, bob]

            def join_and_leave(conns=conns, bob=bob, cy=cy):
                if cy not in conns:  # cy joins and bob leaves while the broadcast runs
                    conns.insert(0, cy)
                    conns.remove(bob)

            ann.on_send = join_and_leave
        try:
            failed = await broadcast(conns, frame, timeout=2.0)
            kind = "a list" if isinstance(failed, list) else type(failed).__name__
            returned = [kind, sorted(repr(m) for m in failed)]
        except Exception as exc:
            returned = f"{type(exc).__name__}: {exc}"
        got = {m.name: m.got for m in (ann, gone, bob, cy)}
        out[case] = {"returned": returned, "got": got}
    # the failing send raises at once; slow takes the frame 0.05 s later, well within timeout
    ann, gone, slow = Member("ann"), Member("gone", fails=True), Member("slow", delay=0.05)
    try:
        failed = await broadcast([slow, gone, ann], frame, timeout=2.0)
        returned = sorted(repr(m) for m in failed)
    except Exception as exc:
        returned = f"{type(exc).__name__}: {exc}"
    out["a slow member beside a failing one"] = {
        "returned": returned, "got": {m.name: m.got for m in (ann, gone, slow)}}
    # "await conn.send_text(text)": awaited whatever send_text is (here a plain lambda that
    # returns the coroutine, as a wrapper would), so the frame arrives, and a send that
    # raises or never finishes is returned (not only when send_text is an `async def`)
    ann, gone, stuck = Member("ann"), Member("gone", fails=True), Member("stuck", delay=60.0)
    for member in (ann, gone, stuck):
        member.send_text = (lambda send: lambda text: send(text))(member.send_text)
    try:
        failed = await asyncio.wait_for(broadcast([ann, gone, stuck], frame, timeout=0.1), 2.0)
        returned = sorted(repr(m) for m in failed)
    except asyncio.TimeoutError:
        returned = "broadcast still running after 2 s"
    except Exception as exc:
        returned = f"{type(exc).__name__}: {exc}"
    out["plain send_text callables"] = {
        "returned": returned, "got": {m.name: m.got for m in (ann, gone, stuck)}}
    # two broadcasts at once (two rooms): x's held member waits on a gate this probe opens
    # only once y has finished; each returns its own failed members, not the other's
    dead_x, held, dead_y, dan = (Member("dead_x", fails=True), Member("held"),
                                 Member("dead_y", fails=True), Member("dan"))
    gate, waiting = asyncio.Event(), asyncio.Event()

    async def held_send(text, held=held):
        waiting.set()
        await gate.wait()
        raise OSError("the connection is gone")

    held.send_text = held_send
    x = asyncio.ensure_future(broadcast([dead_x, held], frame, timeout=2.0))
    try:
        await asyncio.wait_for(waiting.wait(), 2.0)
        y = sorted(repr(m) for m in await broadcast([dan, dead_y], frame, timeout=2.0))
        gate.set()
        out["two at once"] = {"x": sorted(repr(m) for m in await asyncio.wait_for(x, 2.0)),
                              "y": y}
    except asyncio.TimeoutError:
        out["two at once"] = "broadcast still running after 2 s"
    except Exception as exc:
        out["two at once"] = f"{type(exc).__name__}: {exc}"
    finally:
        gate.set()
        x.cancel()
    return out
"""


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
    return out
"""
FOREIGN_LEAVE_WANTED = {"a tab never seen": False, "bob's tab": False,
                        "a room nobody is in": False, "a user not there": False,
                        "roster after those": ["ann", "bob"], "tabs after those": 2,
                        "ann's own last tab": True, "that tab again": False,
                        "roster at the end": ["bob"]}

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

# what a later listener of room.message sees, on a fresh app of the module: the payload the
# route emits, {room, user, text}, as it was emitted (the app's own listener must not turn
# it into its frame in place: "a listener broadcasts it", every listener gets the payload)
ROOM_MESSAGE_PAYLOAD_PROBE = """
async def probe(module):
    app = module.create_app()
    seen = []

    def after_the_apps_listeners(*args, **kwargs):
        seen.append({"args": [dict(a) if isinstance(a, dict) else repr(a) for a in args],
                     "kwargs": sorted(kwargs)})

    app.events.on("room.message", after_the_apps_listeners, priority="LOWEST")
    payload = {"room": "attic", "user": "ann", "text": "hi"}
    result = await app.events.emit("room.message", payload)
    return {"seen": seen,
            "raised": [f"{type(e).__name__}: {e}"[:300] for e in getattr(result, "errors", ())]}
"""


# broadcast's own contract with more stalled members than any room of the app suite has:
# "the whole broadcast takes about `timeout` at most, however many members stall", so every
# send is under way at once (a cap on the sends in flight, 8 say, waits one timeout per batch
# of 8). Counted, not timed: the most sends stalled at one time, and who got the frame.
MANY_STALLED_PROBE = """
import asyncio
import json

STALLED = 20


class Member:
    def __init__(self, name, state, stalls):
        self.name, self.state, self.stalls, self.got = name, state, stalls, []

    async def send_text(self, text):
        if not self.stalls:
            self.got.append(json.loads(text))
            return
        self.state["now"] += 1
        self.state["most"] = max(self.state["most"], self.state["now"])
        try:
            await asyncio.Event().wait()  # never set: this member stopped reading
        finally:
            self.state["now"] -= 1

    def __repr__(self):
        return self.name


async def probe(module):
    state = {"now": 0, "most": 0}
    stalled = [Member(f"s{i:02}", state, True) for i in range(STALLED)]
    ann, bob = Member("ann", state, False), Member("bob", state, False)
    frame = {"type": "message", "room": "lobby", "user": "ann", "text": "hi", "seq": 1}
    try:
        failed = await module.broadcast([ann, *stalled, bob], frame, timeout=0.1)
        returned = sorted(repr(m) for m in failed)
    except Exception as exc:
        returned = f"{type(exc).__name__}: {exc}"
    # "each send bounded by `timeout`": a send out of time is ended (cancelled), not left
    # running after broadcast returned (a few turns of the loop for a cancel to land)
    for _ in range(5):
        await asyncio.sleep(0)
    out = {"stalled at once": state["most"], "returned": returned,
           "got": {m.name: m.got for m in (ann, bob)}, "still running after": state["now"]}
    # one member alone is bounded too ("each send bounded by `timeout`": no fast path for a
    # lone member that skips it); the outer 2 s (20 timeouts) only keeps a broadcast that
    # hangs from hanging the probe
    lone = Member("lone", {"now": 0, "most": 0}, True)
    try:
        failed = await asyncio.wait_for(module.broadcast([lone], frame, timeout=0.1), 2.0)
        out["a lone stalled member"] = sorted(repr(m) for m in failed)
    except asyncio.TimeoutError:
        out["a lone stalled member"] = "broadcast still running after 2 s"
    except Exception as exc:
        out["a lone stalled member"] = f"{type(exc).__name__}: {exc}"
    return out
"""


def exactly_left(events: list[dict[str, Any]], room: str = "lobby") -> None:
    """Every chat.left, a dropped member's too ("it leaves as if it had closed"), carries
    exactly the payload of the events table: `{"room": R, "user": U}`, nothing more."""
    for event in events:
        args = event["args"]
        assert len(args) == 1 and isinstance(args[0], dict) and set(args[0]) == {"room", "user"} \
            and args[0]["room"] == room and not event["kwargs"], (
                'chat.left carries exactly {"room": R, "user": U}, whether the user closed or '
                f"was dropped: got args {args!r:.200}, kwargs {event['kwargs']!r:.100}")


@pytest.mark.points(1)
@pytest.mark.category("roster_and_join")
async def test_roster_then_own_join(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await expect(server, ann, joined("ann"), "the joiner also gets its own join")
    joins = await server.wait_for_event("chat.joined")
    assert joins[0]["args"] == [{"room": "lobby", "user": "ann"}] and not joins[0]["kwargs"]


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


@pytest.mark.points(2)
@pytest.mark.category("message")
async def test_message_reaches_every_member_including_sender(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann, server.connect(chat("bob")) as bob:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await join(server, bob, "lobby", "bob", ["ann", "bob"])
        await server.recv_json(bob)
        await server.recv_json(ann)  # join bob
        async with server.connect(chat("cy")) as cy:
            await join(server, cy, "lobby", "cy", ["ann", "bob", "cy"])
            for ws in (cy, ann, bob):
                await server.recv_json(ws)  # join cy
            await ann.send(say("hello"))
            for ws, who in ((ann, "the sender"), (bob, "bob"), (cy, "the newest member")):
                await expect(server, ws, msg("ann", "hello", 1), f"{who} should get ann's message")
            for seq, text in enumerate(GOOD_TEXTS, start=2):
                await cy.send(say(text))
                for ws in (ann, bob, cy):
                    await expect(server, ws, msg("cy", text, seq),
                                 f"a text of {len(text)} characters is a message, relayed as sent")
            # a *listener* of room.message broadcasts it, not the route: one emitted on
            # app.events as the route would goes out to the room all the same
            relayed = {"room": "lobby", "user": "bob", "text": "emitted on app.events"}
            raised = await server.emit("room.message", relayed)
            assert raised == [], f"your room.message listeners raised {raised}"
            for ws in (ann, bob, cy):
                await expect(server, ws, msg("bob", relayed["text"], len(GOOD_TEXTS) + 2),
                             "a listener of room.message broadcasts every room.message emitted "
                             "on app.events, whoever emitted it (the route only emits)")
    # bob's message and his close arrive together: the message was sent from the room, so
    # it goes out before his leave (chat_frames.SAY_AND_CLOSE_PROBE, on a fresh app)
    got = await server.probe(SAY_AND_CLOSE_PROBE)
    assert got == SAY_AND_CLOSE_WANTED, (
        "bob sends a message and closes at once: the listener broadcasts his message to the "
        "room he sent it from, so ann gets it before his leave (the route goes on to his close "
        f"only once the message is out); wanted {SAY_AND_CLOSE_WANTED}, got {got}")
    events = await server.wait_for_event("room.message", count=2 + len(GOOD_TEXTS))
    assert [e["args"] for e in events] == [
        [{"room": "lobby", "user": u, "text": t}]
        for u, t in [("ann", "hello"), *(("cy", t) for t in GOOD_TEXTS)]
    ] + [[relayed]], "the route should emit room.message with {room, user, text} once per message"


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
        async with server.connect(chat("cy")) as cy:
            await join(server, cy, "lobby", "cy", ["ann", "cy"])
    gone = await server.wait_for_event("chat.left")
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
    # while the second opens) are still one user: one join (chat_frames.TWO_TABS_AT_ONCE_PROBE)
    got = await server.probe(TWO_TABS_AT_ONCE_PROBE)
    assert got == TWO_TABS_AT_ONCE_WANTED, (
        "two tabs of ann opening together, the first one's roster send still under way while "
        "the second opens: ann goes 0 -> 1 once, so bob (there before) hears one join and then "
        f"his own message; wanted {TWO_TABS_AT_ONCE_WANTED}, got {got}")


@pytest.mark.points(3)
@pytest.mark.category("bad_frame")
async def test_malformed_frames_get_an_error_and_the_connection_stays(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann, server.connect(chat("bob")) as bob:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await join(server, bob, "lobby", "bob", ["ann", "bob"])
        await server.recv_json(bob)
        await server.recv_json(ann)
        async with server.connect(chat("ann")) as ann2:  # ann's second tab
            await join(server, ann2, "lobby", "ann", ["ann", "bob"])
            for bad in BAD_FRAMES:
                await ann.send(bad)
                error_frame(await server.recv_json(ann), "bad_frame", f"sending {bad!r:.50}")
            # "If your error message quotes the sender's value, quote it with `repr` and
            # keep it short": an unknown type of 20,000 characters gets a short error
            for kind in LONG_TYPES:
                await ann.send(json.dumps({"type": kind}))
                reply = await server.recv_json(ann)
                error_frame(reply, "bad_frame", f"sending a type of {len(str(kind))} characters")
                assert len(reply["message"]) < 1000, (
                    f"an error message that quotes the sender's value keeps it short; an unknown "
                    f"type of {len(str(kind))} characters got a message of "
                    f"{len(reply['message'])}: {reply['message']!r:.200}")
            await ann.send(json.dumps({"type": "message", "text": "x" * 2000, "id": NAN}))
            await expect(server, ann, msg("ann", "x" * 2000, 1),
                         "the connection stays open; 2000 characters are allowed; other fields "
                         "of a frame are ignored")
            # the next frame of the others: the server handled ann's frames in order, so
            # anything her bad frames had made it send them would have come first
            await expect(server, bob, msg("ann", "x" * 2000, 1), "others hear nothing of it")
            await expect(server, ann2, msg("ann", "x" * 2000, 1),
                         "the error goes to the sending connection only, not to the same "
                         "user's other tab")
            # parse_frame's own contract, on the app's module: the route may catch more than
            # ValueError, but "`parse_frame` ... else `ValueError(...)`, and never any other
            # exception", a text missing or not a string included
            got = await server.probe(PARSE_FRAME_ERRORS_PROBE)
            assert got == PARSE_FRAME_ERRORS_WANTED, (
                "parse_frame raises ValueError for every malformed frame and never any other "
                "exception (a missing or non-string text is a ValueError too, not a TypeError); "
                f"these did otherwise: {got}")
    bad_frames = len(BAD_FRAMES) + len(LONG_TYPES)
    errors = await server.wait_for_event("ws.error", count=bad_frames)
    assert len(errors) == bad_frames, f"one ws.error per bad frame, got {len(errors)}"
    for error in errors:
        payload = error["args"]
        assert len(payload) == 1 and set(payload[0]) == {"room", "user", "error"} and (
            payload[0]["room"] == "lobby" and payload[0]["user"] == "ann"
            and isinstance(payload[0]["error"], str) and payload[0]["error"]
        ) and not error["kwargs"], f"ws.error should carry {{room, user, error}}, got {payload}"


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
    await server.settled()
    assert "Traceback" not in server.output, (
        f"a normal disconnect must not raise in your server: {server.output[-1500:]}")
    # "A tab can be gone before its roster is sent": that tab leaves like one that closed, so
    # it is in nobody's roster afterwards (the room is empty again: fay is alone in it)
    async with server.connect(chat("fay")) as fay:
        await join(server, fay, "lobby", "fay", ["fay"])


@pytest.mark.points(2)
@pytest.mark.category("bad_request")
async def test_bad_room_or_user_is_refused_with_4400(app_server: Server) -> None:
    """"`room` and `user` are 1-32 characters of `[A-Za-z0-9_.-]`: those 64 ASCII
    characters and no others": anything else is refused with 4400, and any name of those
    characters joins, one made only of `_`, `.` or `-` too."""
    server = app_server()
    for path in BAD_PATHS:
        async with server.connect(path) as ws:
            error_frame(await server.recv_json(ws), "bad_request", f"connecting to {path}")
            code, _ = await server.expect_close(ws)
            assert code == 4400, f"then the server should close with code 4400, not {code}"
    longest = "-._9Zz" + "u" * 26
    async with server.connect(chat("u", EDGE_ROOM)) as one:
        await join(server, one, EDGE_ROOM, "u", ["u"])
        async with server.connect(chat(longest, EDGE_ROOM)) as other:
            await join(server, other, EDGE_ROOM, longest, [longest, "u"])
    # "each one of the 64 in `[A-Za-z0-9_.-]`": a name made only of "_", "." or "-" is a
    # name like any other (the roster sorted by code point: "-" < "..." < "_")
    async with server.connect(chat("-", "_")) as dash:
        await join(server, dash, "_", "-", ["-"])
        async with server.connect(chat("...", "_")) as dots:
            await join(server, dots, "_", "...", ["-", "..."])
            async with server.connect(chat("_", "_")) as under:
                await join(server, under, "_", "_", ["-", "...", "_"])
    # words a client might send for an unset value are names of allowed characters too
    async with server.connect(chat("null", "undefined")) as null:
        await join(server, null, "undefined", "null", ["null"])
        async with server.connect(chat("None", "undefined")) as none:
            await join(server, none, "undefined", "None", ["None", "null"])
    joins = await server.wait_for_event("chat.joined", count=7)
    assert len(joins) == 7, ("names of 1 and 32 allowed characters are valid, and so are names "
                             "made only of _ . - and names such as null or None; no others "
                             "joined")
    got = await server.probe(VALID_NAME_PROBE)
    assert got == VALID_NAME_WANTED, (
        "valid_name(value) returns a bool for any value: True only for a str of 1-32 allowed "
        "characters, False for anything else (a list, a dict, a set or a bytearray too, which "
        f"cannot be hashed: no TypeError); wanted {VALID_NAME_WANTED}, got {got}")


@pytest.mark.points(2)
@pytest.mark.category("dead_member")
async def test_a_dying_connection_leaves_and_the_room_goes_on(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann, server.connect(chat("cy")) as cy:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await join(server, cy, "lobby", "cy", ["ann", "cy"])
        await server.recv_json(cy)
        await server.recv_json(ann)
        async with server.connect(chat("bob")) as bob:
            await join(server, bob, "lobby", "bob", ["ann", "bob", "cy"])
            for ws in (bob, ann, cy):
                await server.recv_json(ws)
            bob.transport.abort()  # no closing handshake: the connection just dies
            # once the server has noticed (not before: a grade must not depend on
            # who wins that race), the room goes on without bob
            await server.settled()
            for i in range(5):
                await ann.send(say(f"m{i}"))
            for ws in (ann, cy):
                got = [await server.recv_json(ws) for _ in range(6)]
                assert left("bob") in got, f"a member whose connection died should leave; got {got}"
                assert [f for f in got if f != left("bob")] == [
                    msg("ann", f"m{i}", i + 1) for i in range(5)
                ], f"every message should still reach the others, in order; got {got}"
        await cy.send(json.dumps({"type": "ping"}))
        await expect(server, cy, {"type": "pong"}, "the room still works")
    # "A connection that dies (no closing handshake ...) leaves like one that closed", and a
    # disconnect is "a leave, **not** an error": whatever its close code (1005, 1006), no ws.error
    errors = server.events("ws.error")
    assert errors == [], (
        "a connection that died (no closing handshake) leaves like one that closed: no "
        f"ws.error for it (ws.error is for a malformed frame only); got {errors[:2]}")


@pytest.mark.points(1)
@pytest.mark.category("ping")
async def test_ping_pong(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann, server.connect(chat("bob")) as bob:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await join(server, bob, "lobby", "bob", ["ann", "bob"])
        await server.recv_json(bob)
        await server.recv_json(ann)
        async with server.connect(chat("ann")) as ann2:  # ann's second tab
            await join(server, ann2, "lobby", "ann", ["ann", "bob"])
            await ann.send(json.dumps({"type": "ping"}))
            await expect(server, ann, {"type": "pong"}, "ping gets pong")
            await ann.send(json.dumps({"type": "ping", "id": [1, {"x": None}]}))
            await expect(server, ann, {"type": "pong"}, "a ping's other fields are ignored")
            await ann.send(json.dumps({"type": "ping", "text": 5}))
            await expect(server, ann, {"type": "pong"},
                         "a ping has no text to check: its other fields (text too) are ignored")
            # "`{"type": "ping"}` is answered with `{"type": "pong"}`": with a string text too,
            # the pong is exactly that (no payload echoed back, as a WebSocket control frame's is)
            await ann.send(json.dumps({"type": "ping", "text": "t0"}))
            await expect(server, ann, {"type": "pong"},
                         'a ping is answered with exactly {"type": "pong"}: its text (a string '
                         "here) is ignored, not echoed in the pong")
            # "**not JSON**: whatever `json.loads` refuses": it reads whitespace around the
            # object (before the "{" too), so these are a ping and a message like any other
            await ann.send(' \n\t{"type": "ping"} \r\n')
            await expect(server, ann, {"type": "pong"},
                         "a JSON object with whitespace around it is JSON (json.loads reads it): "
                         "this ping gets pong, not a bad_frame error")
            # and it reads a key repeated in an object, the last value winning: a ping
            await ann.send('{"type": "PING", "id": 1, "id": 2, "type": "ping"}')
            await expect(server, ann, {"type": "pong"},
                         "an object that repeats a key is JSON (json.loads reads it, the last "
                         'value winning): {"type": "PING", ..., "type": "ping"} is a ping and '
                         "gets pong, not a bad_frame error")
            parsed = await server.probe(PARSE_FRAME_PROBE)
            assert parsed == PARSE_FRAME_WANTED, (
                'parse_frame returns exactly {"type": "ping"} or {"type": "message", "text": T}: '
                f"other fields are ignored, not returned; got {parsed}")
            await ann.send(say("after the pings"))
            for ws in (ann, bob, ann2):
                await expect(server, ws, msg("ann", "after the pings", 1),
                             "the pong goes to the pinging connection only: nobody else, not "
                             "even the same user's other tab, gets anything before this message")


@pytest.mark.points(1)
@pytest.mark.category("message")
async def test_many_members_and_a_slow_reader_all_get_every_message_in_order(
    app_server: Server,
) -> None:
    """"a member that reads slowly but takes each frame within `send_timeout` is not
    dropped: it gets every frame, in the same order as everyone else", and "give **each
    send its own timeout**": sam takes each frame in a quarter of send_timeout, while six
    members speak at once. A frame waiting its turn behind sam's earlier frames is not yet
    sent: that wait is not its send's time (six frames queued for sam take six quarters)."""
    server = app_server(send_timeout=0.4)
    names = [f"u{i}" for i in range(6)]
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        async with contextlib.AsyncExitStack() as stack:
            conns = [await stack.enter_async_context(server.connect(chat(n))) for n in names]
            # sam takes his roster and one more frame at once, then every frame 100 ms late:
            # slow, well inside send_timeout (0.4 s), so never dropped
            sam = await stack.enter_async_context(
                server.connect(chat("sam"), **faulty("slow:100:2")))
            for ws in (sam, *conns):
                await server.recv_json(ws)  # roster
            senders = conns
            await asyncio.gather(*(ws.send(say(f"from {i}")) for i, ws in enumerate(senders)))
            seen: list[list[Any]] = []
            for ws in [ann, sam, *conns]:
                frames: list[Any] = []
                while len([f for f in frames if f.get("type") == "message"]) < len(senders):
                    frames.append(await server.recv_json(ws))
                assert all(f.get("type") in ("join", "message") for f in frames), (
                    "nobody leaves, not even the slow reader, who takes each frame within "
                    f"send_timeout (time spent waiting for his earlier frames is not his): "
                    f"{frames}"
                )
                seen.append([f for f in frames if f["type"] == "message"])
            assert all(s == seen[0] for s in seen), f"members saw different orders: {seen}"
            assert sorted(f["text"] for f in seen[0]) == [f"from {i}" for i in range(6)]
            assert [f["seq"] for f in seen[0]] == [1, 2, 3, 4, 5, 6], (
                f"seq follows the order: {seen[0]}")
    # a room that changes while a broadcast waits on one member (chat_frames
    # .CHANGED_WHILE_WAITING_PROBE): dee, who connected meanwhile, is told the truth
    got = await server.probe(CHANGED_WHILE_WAITING_PROBE)
    assert isinstance(got, dict) and set(got) == {"ann", "dee"}, got
    ann_saw, dee_saw = got["ann"], got["dee"]
    present = set(dee_saw[0][1:]) if dee_saw and dee_saw[0][:1] == ["roster"] else set()
    for frame in dee_saw[1:]:
        if isinstance(frame, dict) and frame.get("type") == "join":
            present.add(frame.get("user"))
        elif isinstance(frame, dict) and frame.get("type") == "leave":
            present.discard(frame.get("user"))
    assert present == {"ann", "cy", "dee"}, (
        "dee connects while ann's message waits on bob, who is then dropped: dee's roster and "
        "the joins and leaves she gets after it must add up to who is in the room (ann, cy, "
        "dee): a roster that lists bob needs bob's leave after it; dee got " f"{dee_saw}")
    since = [joined("dee") in frames and frames[frames.index(joined("dee")):]
             for frames in (ann_saw, dee_saw)]
    assert since[0] and since[0] == since[1] and msg("ann", "three", 3) in since[1], (
        "from dee's join on, dee gets every frame ann gets, in the same order: a message "
        "broadcast after her join (cy's, sent while ann's message waited on bob) reaches her "
        f"too (the room as it is when the message goes out, not as it was); ann got {ann_saw}, "
        f"dee got {dee_saw}")


@pytest.mark.points(1)
@pytest.mark.category("seq")
async def test_seq_does_not_restart_when_the_room_empties(app_server: Server) -> None:
    server = app_server()
    for round_, user in enumerate(("ann", "bob", "ann")):
        async with server.connect(chat(user)) as ws:
            await join(server, ws, "lobby", user, [user])
            await server.recv_json(ws)
            # the same text each time: a frame repeated word for word still has its own seq
            # (a cache of serialised frames keyed without seq would resend the first one)
            for i in range(2):
                await ws.send(say("again"))
                await expect(server, ws, msg(user, "again", 2 * round_ + i + 1),
                             "a room's seq goes on after the room emptied, and a text sent "
                             "again is a new message with the next seq")
        await server.wait_for_event("chat.left", count=round_ + 1)
    # "kept for as long as the server runs": however many other rooms empty after it (a
    # bounded cache of idle rooms' counters forgets the oldest), the lobby goes on at 7
    rooms = [f"r{i:02}" for i in range(IDLE_ROOMS)]
    async with contextlib.AsyncExitStack() as stack:
        connecting = [server.connect(chat("cy", room)) for room in rooms]
        sockets = await asyncio.gather(*(c.__aenter__() for c in connecting))  # side by side
        for c in connecting:
            stack.push_async_exit(c)
        for ws, room in zip(sockets, rooms, strict=True):
            await join(server, ws, room, "cy", ["cy"])
    await server.wait_for_event("chat.left", count=3 + IDLE_ROOMS)
    async with server.connect(chat("ann")) as ws:
        await join(server, ws, "lobby", "ann", ["ann"])
        await server.recv_json(ws)
        await ws.send(say("again"))
        await expect(server, ws, msg("ann", "again", 7),
                     f"the lobby's seq goes on after {IDLE_ROOMS} other rooms emptied after it")
        # "a per-room counter starting at 1, kept for as long as the server runs": a counter,
        # not a length of something bounded (a deque of the last 100 frames stays at 100
        # once full): past 100 messages, each still has the next seq (sent in one burst)
        for i in range(8, BUSY_SEQ + 1):
            await ws.send(say(f"m{i}"))
        for i in range(8, BUSY_SEQ + 1):
            await expect(server, ws, msg("ann", f"m{i}", i),
                         "seq counts every message of the room, past the 100th too")


@pytest.mark.points(3)
@pytest.mark.category("dead_member")
async def test_a_member_whose_send_fails_is_dropped_and_leaves_once(
    app_server: Server,
) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann, server.connect(chat("cy")) as cy:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await join(server, cy, "lobby", "cy", ["ann", "cy"])
        await server.recv_json(cy)
        await server.recv_json(ann)
        async with contextlib.AsyncExitStack() as stack:
            bob1 = await stack.enter_async_context(server.connect(chat("bob")))
            await join(server, bob1, "lobby", "bob", ["ann", "bob", "cy"])
            for ws in (bob1, ann, cy):
                await server.recv_json(ws)  # join bob
            bob2 = await stack.enter_async_context(server.connect(chat("bob"),
                                                                  **faulty("raise:1")))
            await join(server, bob2, "lobby", "bob", ["ann", "bob", "cy"])
            await ann.send(say("one"))
            for ws in (ann, cy, bob1):
                await expect(server, ws, msg("ann", "one", 1), "the others get the message")
            await server.settled()  # a wrong leave for bob would come before dan's join
            async with server.connect(chat("dan"), **faulty("raise:2")) as dan:
                await join(server, dan, "lobby", "dan", ["ann", "bob", "cy", "dan"])
                for ws in (ann, cy, bob1):  # bob's other tab closing was not a leave
                    await expect(server, ws, joined("dan"), "dan joins")
                await cy.send(say("two"))
                for ws in (ann, cy, bob1):
                    await expect(server, ws, msg("cy", "two", 2), "the others get the message")
                    await expect(server, ws, left("dan"),
                                 "dan's send failed: he is dropped and leaves")
            await server.settled()  # dan's own clean-up is done: it must not leave again
            await cy.send(say("three"))
            for ws in (ann, cy, bob1):
                await expect(server, ws, msg("cy", "three", 3), "the room goes on")
            async with server.connect(chat("eve")) as eve:
                await join(server, eve, "lobby", "eve", ["ann", "bob", "cy", "eve"])
    # everyone has left now (dan, eve, then bob, cy and ann in whatever order the server
    # saw their sockets close); once the app settled, every leave it will emit is there
    await server.wait_for_event("chat.left", count=5)
    await server.settled()
    gone = [e["args"][0]["user"] for e in server.events("chat.left")]
    assert gone.count("dan") == 1 and gone.count("bob") == 1, (
        f"dan's leave must be announced once, not again when his socket closes: {gone}"
    )
    exactly_left(server.events("chat.left"))
    # "A connection that dies (no closing handshake, or a send to it fails) leaves like one
    # that closed": one that closed is no ws.error (that event is a malformed frame's only)
    errors = server.events("ws.error")
    assert errors == [], (
        "a member dropped because a send to it failed leaves like one that closed: no "
        f"ws.error for it (ws.error is for a malformed frame from the sender); got {errors[:2]}")
    assert "Traceback" not in server.output, (
        f"a dropped member's socket closing must not raise in your server: "
        f"{server.output[-1500:]}")


@pytest.mark.points(2)
@pytest.mark.category("dead_member")
async def test_a_member_whose_join_or_leave_send_fails_is_dropped(app_server: Server) -> None:
    """A join or leave frame is a broadcast like a message: "A connection that dies
    (no closing handshake, or a send to it fails) leaves like one that closed", and "a
    member ... whose send raises, is dropped", whichever frame that send carried."""
    server = app_server()
    async with server.connect(chat("ann")) as ann, server.connect(chat("cy")) as cy:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await join(server, cy, "lobby", "cy", ["ann", "cy"])
        await server.recv_json(cy)
        await server.recv_json(ann)
        # dan takes his roster, then the send of his own join raises
        async with server.connect(chat("dan"), **faulty("raise:1")) as dan:
            await join(server, dan, "lobby", "dan", ["ann", "cy", "dan"])
            for ws in (ann, cy):
                await expect(server, ws, joined("dan"), "dan joins")
                await expect(server, ws, left("dan"),
                             "the send of the join to dan failed: he is dropped and leaves")
            # eve takes her roster, her join and fay's, then the send of fay's leave raises
            async with server.connect(chat("eve"), **faulty("raise:3")) as eve:
                await join(server, eve, "lobby", "eve", ["ann", "cy", "eve"])
                for ws in (ann, cy):
                    await expect(server, ws, joined("eve"), "eve joins")
                async with server.connect(chat("fay")) as fay:
                    await join(server, fay, "lobby", "fay", ["ann", "cy", "eve", "fay"])
                    for ws in (ann, cy):
                        await expect(server, ws, joined("fay"), "fay joins")
                for ws in (ann, cy):
                    await expect(server, ws, left("fay"), "fay closed her socket")
                    await expect(server, ws, left("eve"),
                                 "the send of fay's leave to eve failed: she is dropped and "
                                 "leaves")
                await cy.send(say("still here"))
                for ws in (ann, cy):
                    await expect(server, ws, msg("cy", "still here", 1),
                                 "the room goes on, and nobody leaves twice")
        # both of gil's tabs fail on one broadcast: dropped together, they are one user going
        # 1 -> 0 ("A second tab of the same user is **not** a second user"): one leave
        async with server.connect(chat("gil"), **faulty("raise:2")) as gil1:
            await join(server, gil1, "lobby", "gil", ["ann", "cy", "gil"])
            for ws in (gil1, ann, cy):
                await expect(server, ws, joined("gil"), "gil joins")
            async with server.connect(chat("gil"), **faulty("raise:1")) as gil2:
                await join(server, gil2, "lobby", "gil", ["ann", "cy", "gil"])
                await cy.send(say("both tabs fail"))
                for ws in (ann, cy):
                    await expect(server, ws, msg("cy", "both tabs fail", 2),
                                 "the others get the message")
                    await expect(server, ws, left("gil"),
                                 "the sends to both of gil's tabs failed: gil leaves")
                await server.settled()  # a second leave for gil would come before this message
                await cy.send(say("gil left once"))
                for ws in (ann, cy):
                    await expect(server, ws, msg("cy", "gil left once", 3),
                                 "two tabs of one user dropped by one broadcast are one leave, "
                                 "announced once")
        # a drop inside a drop: the send of ann's message to hal raises, then the send of
        # hal's leave to ivy raises: ivy "leaves like one that closed" too (her leave is
        # announced, though it comes from the leave of another dropped member)
        async with server.connect(chat("ivy"), **faulty("raise:4")) as ivy:
            await join(server, ivy, "lobby", "ivy", ["ann", "cy", "ivy"])
            async with server.connect(chat("hal"), **faulty("raise:2")) as hal:
                await join(server, hal, "lobby", "hal", ["ann", "cy", "hal", "ivy"])
                for ws in (ann, cy):
                    await expect(server, ws, joined("ivy"), "ivy joins")
                    await expect(server, ws, joined("hal"), "hal joins")
                await ann.send(say("nested"))
                for ws in (ann, cy):
                    await expect(server, ws, msg("ann", "nested", 4), "the others get it")
                    await expect(server, ws, left("hal"),
                                 "the send of ann's message to hal failed: he leaves")
                    await expect(server, ws, left("ivy"),
                                 "the send of hal's leave to ivy failed: she is dropped and "
                                 "leaves too, announced like any other drop")
    await server.wait_for_event("chat.left", count=8)
    await server.settled()
    gone = [e["args"][0]["user"] for e in server.events("chat.left")]
    assert sorted(gone) == ["ann", "cy", "dan", "eve", "fay", "gil", "hal", "ivy"], (
        f"each member leaves once, a dropped one too (two tabs dropped together too): {gone}")
    exactly_left(server.events("chat.left"))


@pytest.mark.points(1)
@pytest.mark.category("dead_member")
async def test_broadcast_returns_the_failed_members_of_its_snapshot(app_server: Server) -> None:
    """broadcast's contract, on the app's module: "Work on a copy of `conns`: a member
    joining or leaving while the broadcast runs changes the next broadcast, not this
    one" (`conns` is any iterable: a generator too), and "return the members whose send
    failed or stalled" (a list, as its signature says) "after everyone else got the frame"."""
    server = app_server()
    got = await server.probe(BROADCAST_PROBE)
    assert isinstance(got, dict), got  # the exercise page lists broadcast: it must be there
    frame = {"type": "message", "room": "lobby", "user": "ann", "text": "hi", "seq": 1}
    for case in ("a generator", "a list changed by a send"):
        assert got[case]["returned"] == ["a list", ["gone"]], (
            f"broadcast(conns, ...) with conns {case}, in which one member's send raises, "
            "returns a list of that member (it works on a copy of conns, taken before the "
            f"sends: every member is sent to once, and the copy is what it reports on); got "
            f"{got[case]['returned']}")
        assert got[case]["got"] == {"ann": [frame], "gone": [], "bob": [frame], "cy": []}, (
            f"every other member of the copy gets the frame once, and a member joining while "
            f"the broadcast runs does not ({case}); got {got[case]['got']}")
    assert got["nobody"] == ["a list", []], (
        "broadcast([], ...) sends to nobody, so nobody's send failed: it returns an empty "
        f"list (\"return those whose send failed\"), and raises nothing; got {got['nobody']}")
    beside = got["a slow member beside a failing one"]
    assert beside == {"returned": ["gone"], "got": {"ann": [frame], "gone": [], "slow": [frame]}}, (
        "broadcast(conns, frame, timeout=2.0) where one member's send raises at once and "
        "another's takes 0.05 s: only the failed member is returned, and every other member "
        "still gets the frame (one failure cancels no other send, and the broadcast returns "
        f"\"after everyone else got the frame\"); got {beside}")
    plain = got["plain send_text callables"]
    assert plain == {"returned": ["gone", "stuck"],
                     "got": {"ann": [frame], "gone": [], "stuck": []}}, (
        "broadcast awaits what `conn.send_text(text)` returns, whatever send_text is: with "
        "send_text a plain lambda returning the coroutine, the member that takes it gets the "
        "frame, and the one whose send raises and the one whose send never finishes (timeout "
        f"0.1) are returned; got {plain}")
    both = got["two at once"]
    assert both == {"x": ["dead_x", "held"], "y": ["dead_y"]}, (
        "two broadcasts running at once (two rooms) each return the failed members of their "
        "own conns: x, sent to [dead_x, held], returns both (dead_x raises at once, held "
        "later, once y has ended), and y, sent to [dan, dead_y], returns [dead_y]: they share "
        f"no list of failures; got {both}")


@pytest.mark.points(2)
@pytest.mark.category("slow_member")
async def test_stalled_members_cost_one_timeout_and_are_dropped(app_server: Server) -> None:
    timeout = 0.2
    server = app_server(send_timeout=timeout)
    stalled = ["bob", "cy", "eve", "fay", "gil", "hal"]
    async with server.connect(chat("ann")) as ann, contextlib.AsyncExitStack() as stack:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        sockets = []
        for i, name in enumerate(stalled):
            # each reads its roster and the joins up to dan's, then stops reading
            frames = 2 + (len(stalled) - i - 1) + 1
            ws = await stack.enter_async_context(
                server.connect(chat(name), **faulty(f"stall:{frames}")))
            sockets.append(ws)
            await join(server, ws, "lobby", name, sorted(["ann", *stalled[:i + 1]]))
            await server.recv_json(ann)  # its join
        dan = await stack.enter_async_context(server.connect(chat("dan")))
        await join(server, dan, "lobby", "dan", sorted(["ann", "dan", *stalled]))
        for ws in (ann, dan):
            await server.recv_json(ws)  # join dan
        # ann's second tab reads its roster, then stops reading: it is dropped like the others,
        # "the server closes it (code 1011 ...)", though it was not ann's last tab (no leave)
        ann2 = await stack.enter_async_context(server.connect(chat("ann"), **faulty("stall:1")))
        await join(server, ann2, "lobby", "ann", sorted(["ann", "dan", *stalled]))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await ann.send(say("hello"))
        for ws in (ann, dan):
            got = [await server.recv_json(ws) for _ in range(1 + len(stalled))]
            assert got[0] == msg("ann", "hello", 1), f"everyone else gets the message: {got}"
            assert sorted(got[1:], key=lambda f: f.get("user", "")) == [left(n) for n in stalled], (
                f"the stalled members are dropped and leave; got {got}"
            )
        took = loop.time() - started
        # one send_timeout in all, not one per stalled member: each stalled send is given
        # its send_timeout (a lower bound, which load cannot break); the rest is counted,
        # not timed: the sends ran side by side (all stalled at once), and each stalled
        # member was sent to once (all are forgotten before any leave is announced)
        faults = server.faults()
        tabs = len(stalled) + 1  # ann's second tab stalls too
        assert took >= timeout and faults["stalled_at_once"] == faults["stall"] == tabs, (
            f"{tabs} stalled tabs cost {took:.2f} s, {faults['stall']} sends stalled, "
            f"{faults['stalled_at_once']} at one time: each is dropped once its send took "
            f"send_timeout ({timeout} s), the sends run side by side, not one after another, "
            "and no leave is sent to a member that is itself being dropped"
        )
        for ws in sockets:
            code, _ = await server.expect_close(ws)
            assert code == 1011, f"a stalled member is closed with 1011, not {code}"
        code, _ = await server.expect_close(ann2)
        assert code == 1011, (
            f"a dropped tab is closed with 1011 whether or not it was its user's last tab: "
            f"ann's stalled second tab got {code}")
        await dan.send(say("still here"))
        for ws in (ann, dan):
            await expect(server, ws, msg("dan", "still here", 2), "the room goes on")
        async with server.connect(chat("kim")) as kim:
            await join(server, kim, "lobby", "kim", ["ann", "dan", "kim"])
    got = await server.probe(MANY_STALLED_PROBE)
    wanted = {"stalled at once": 20, "returned": [f"s{i:02}" for i in range(20)],
              "got": {"ann": [msg("ann", "hi", 1)], "bob": [msg("ann", "hi", 1)]},
              "still running after": 0, "a lone stalled member": ["lone"]}
    assert got == wanted, (
        "broadcast(conns, frame, timeout=0.1) to 20 members that never take the frame and two "
        "that do: every send is under way at once (\"however many members stall\", the whole "
        "broadcast takes about one timeout: no cap on the sends in flight), the 20 are "
        "returned and the other two get the frame, their sends ended (cancelled), not left "
        "running once broadcast returned; and a lone member that never takes the "
        f"frame is returned after that timeout too; wanted {wanted}, got {got}")


@pytest.mark.points(1)
@pytest.mark.category("slow_member")
async def test_a_member_dropped_by_a_leave_is_closed_too(
    app_server: Server,
) -> None:
    """A drop inside a drop: the send of ann's message to bob raises, and the send of bob's
    leave raises for dee and stalls for cy. cy is dropped like any member, so "the server
    closes it (code 1011, if it still can: a member that stalled can be closed, one whose
    send raised is already gone)", though a leave (not a message) dropped her, and though
    closing dee, dropped beside her and already gone, fails. One send_timeout in all."""
    server = app_server(send_timeout=0.2)
    async with contextlib.AsyncExitStack() as stack:
        ann = await stack.enter_async_context(server.connect(chat("ann")))
        await join(server, ann, "lobby", "ann", ["ann"])
        await expect(server, ann, joined("ann"), "ann joins")
        # bob takes his roster and the joins of bob, dee and cy, then his sends raise; dee
        # takes hers, the joins of dee and cy and ann's message; cy takes her roster, her join
        # and the message, then stops reading
        present, sockets = ["ann"], {}
        for name, fault in (("bob", "raise:4"), ("dee", "raise:4"), ("cy", "stall:3")):
            ws = await stack.enter_async_context(server.connect(chat(name), **faulty(fault)))
            sockets[name] = ws
            present.append(name)
            await join(server, ws, "lobby", name, sorted(present))
            await expect(server, ann, joined(name), f"{name} joins")
        await ann.send(say("hi"))
        await expect(server, ann, msg("ann", "hi", 1), "ann gets her message")
        await expect(server, ann, left("bob"), "the send of ann's message to bob raised")
        got = [await server.recv_json(ann) for _ in range(2)]
        assert sorted(got, key=lambda f: str(f.get("user"))) == [left("cy"), left("dee")], (
            "the send of bob's leave raised for dee and stalled for cy: both are dropped and "
            f"leave; ann got {got}")
        code, _ = await server.expect_close(sockets["cy"])
        assert code == 1011, (
            "cy stalled on bob's leave (a drop inside a drop, dropped beside dee, whose socket "
            f"is already gone): the server closes her with 1011, as any stalled member; got {code}")
        await ann.send(json.dumps({"type": "ping"}))
        await expect(server, ann, {"type": "pong"}, "the room goes on")


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
@pytest.mark.category("slow_member")
async def test_join_and_leave_sends_are_bounded_by_create_apps_send_timeout(
    app_server: Server,
) -> None:
    """"give **each send its own timeout** (`send_timeout` seconds, given to
    `create_app`): a member that does not take the frame in time ... is **dropped**",
    whichever frame the send carried: a join or a leave too. Counted, not timed: sam's and
    tom's sends take 1 s each, five times this app's send_timeout (the 2 s default would let
    them finish), so each is dropped by the first join or leave sent to him."""
    server = app_server(send_timeout=0.2)
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await expect(server, ann, joined("ann"), "ann joins")
        # sam takes his roster and his own join at once, then every send takes 1 s
        async with server.connect(chat("sam"), **faulty("slow:1000:2")):
            await expect(server, ann, joined("sam"), "sam joins")
            async with contextlib.AsyncExitStack() as stack:
                dan = await stack.enter_async_context(server.connect(chat("dan")))
                await join(server, dan, "lobby", "dan", ["ann", "dan", "sam"])
                for ws in (ann, dan):
                    await expect(server, ws, joined("dan"), "dan joins")
                    await expect(server, ws, left("sam"),
                                 "the send of dan's join to sam took longer than send_timeout "
                                 "(0.2 s): sam is dropped and leaves")
                # tom too takes his roster and his own join at once, then is as slow
                async with server.connect(chat("tom"), **faulty("slow:1000:2")):
                    for ws in (ann, dan):
                        await expect(server, ws, joined("tom"), "tom joins")
                    await stack.aclose()  # dan closes his socket
                    await expect(server, ann, left("dan"), "dan closed his socket")
                    await expect(server, ann, left("tom"),
                                 "the send of dan's leave to tom took longer than send_timeout "
                                 "(0.2 s): tom is dropped and leaves")
        await ann.send(say("still here"))
        await expect(server, ann, msg("ann", "still here", 1), "the room goes on")
    await server.wait_for_event("chat.left", count=4)
    await server.settled()
    gone = server.events("chat.left")
    assert sorted(e["args"][0]["user"] for e in gone) == ["ann", "dan", "sam", "tom"], (
        f"each member leaves once, a dropped one too: {gone}")
    exactly_left(gone)


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
        f"user's own last tab returns True, once; wanted {FOREIGN_LEAVE_WANTED}, got {got}")


@pytest.mark.points(1)
@pytest.mark.category("message")
async def test_every_room_message_listener_sees_the_payload_as_emitted(
    app_server: Server,
) -> None:
    """"The route emits `room.message` on `app.events` with `{"room": R, "user": U, "text":
    T}`; a **listener** broadcasts it": the payload is the event's, shared by every listener
    of it, so the app's listener builds its frame (type, seq) in a dict of its own. Checked on
    a fresh app of the module, with a listener of room.message that runs after the app's."""
    server = app_server()
    got = await server.probe(ROOM_MESSAGE_PAYLOAD_PROBE)
    assert isinstance(got, dict) and got.get("raised") == [], (
        f"your room.message listeners raised on a room.message for an empty room: {got}")
    wanted = [{"args": [{"room": "attic", "user": "ann", "text": "hi"}], "kwargs": []}]
    assert got["seen"] == wanted, (
        'a listener of room.message that runs after yours sees exactly the payload emitted, '
        '{"room": R, "user": U, "text": T}: yours must not add its frame\'s fields (type, seq) '
        f"to that dict; it saw {got['seen']}")


@pytest.mark.points(3)
@pytest.mark.category("model")
async def test_random_sessions_match_the_model(app_server: Server) -> None:
    """Every rule at once: sessions of joins, second tabs, messages, pings, bad frames, emits
    on app.events, closes and dying connections in rooms named `a`, `A` and `a_b`, by users
    `ann`, `Ann`, `bob` and `d.e`, each frame compared with a model of the text
    (tests/hidden/chat_model.py). Fixed seeds: every submission gets the same sessions."""
    for seed in SESSION_SEEDS:
        server = app_server()
        async with contextlib.AsyncExitStack() as stack:
            await _model.Session(server, seed).run(stack, steps=SESSION_STEPS)
