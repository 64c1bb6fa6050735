"""What the chat_broadcasting suite sends and expects: frames, paths, and the checks on them.

A helper of the suite's test modules (``test_*.py`` in this folder; one file per concept:
here the protocol's data and its exact comparisons, shared by several of them; there the
scenarios and points).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from day25.course.harness import AppServer
from day25.course.protocol import FAULT_HEADER


async def join(server: AppServer, ws: Any, room: str, user: str, users: list[str]) -> None:
    """The joiner's first frame is the roster."""
    roster = await server.recv_json(ws, expecting=f"{user}'s roster of {room}")
    assert roster == {"type": "roster", "room": room, "users": users}, (
        f"the first frame after connecting should be the roster {users}, got {roster}"
    )


async def expect(server: AppServer, ws: Any, frame: dict[str, Any], why: str) -> None:
    got = await server.recv_json(ws, expecting=f"{frame} ({why})")
    assert got == frame, f"{why}: expected {frame}, got {got}"


def error_frame(reply: Any, code: str, sent: str) -> None:
    """An error frame is exactly {type: error, code, message: a non-empty str}."""
    assert isinstance(reply, dict) and set(reply) == {"type", "code", "message"} and (
        reply["type"] == "error" and reply["code"] == code
        and isinstance(reply["message"], str) and reply["message"].strip()
    ), f'{sent} should get {{"type": "error", "code": "{code}", "message": "<what was wrong>"}} '\
       f"and nothing else; got {reply!r:.300}"


def exactly_left(events: list[dict[str, Any]], room: str = "lobby") -> None:
    """Every chat.left, a dropped member's too ("it leaves as if it had closed"), carries
    exactly the payload of the events table: `{"room": R, "user": U}`, nothing more."""
    for event in events:
        args = event["args"]
        assert len(args) == 1 and isinstance(args[0], dict) and set(args[0]) == {"room", "user"} \
            and args[0]["room"] == room and not event["kwargs"], (
                'chat.left carries exactly {"room": R, "user": U}, whether the user closed or '
                f"was dropped: got args {args!r:.200}, kwargs {event['kwargs']!r:.100}")


def chat(user: str, room: str = "lobby") -> str:
    return f"/chat/{room}?user={user}"


def say(text: str) -> str:
    return json.dumps({"type": "message", "text": text})


def msg(user: str, text: str, seq: int, room: str = "lobby") -> dict[str, Any]:
    return {"type": "message", "room": room, "user": user, "text": text, "seq": seq}


def joined(user: str, room: str = "lobby") -> dict[str, Any]:
    return {"type": "join", "room": room, "user": user}


def left(user: str, room: str = "lobby") -> dict[str, Any]:
    return {"type": "leave", "room": room, "user": user}


def counted(items: list[Any]) -> Counter[str]:
    """``items`` as a multiset (each as JSON with sorted keys): for frames or payloads whose
    order the text leaves open, and for a dict whose keys a submission writes in its own order."""
    return Counter(json.dumps(item, sort_keys=True, default=repr) for item in items)


def faulty(fault: str) -> dict[str, Any]:
    return {"additional_headers": {FAULT_HEADER: fault}}


# any JSON string of 1-2000 characters (as len() counts them, not UTF-8 bytes) is a text:
# whitespace too, and a lone surrogate escape, which the broadcast must send escaped; and
# relayed as sent, character for character: not normalised (an e and a combining accent stay
# two characters, the ANGSTROM SIGN stays itself, though NFC would make each one other letter)
GOOD_TEXTS = ["é" * 2000, "\U0001f600" * 2000, "   ", "a", "\ud800 lone surrogate", "<b>&amp;",
              "e\u0301 \u212b",
              # control characters are text too, escaped in the JSON as json.dumps writes them
              # ("Any JSON string is a text"): a multi-line message, a tab, a NUL
              "line one\nline two\tthree\x00"]


NAN = float("nan")  # json.dumps writes NaN: a value json.loads reads, in a field nobody reads
BAD_FRAMES = [
    "not json",
    "[1, 2]",
    '"just a string"',
    "null",
    # a JSON string holding a JSON object is a string, not an object: never unwrapped
    json.dumps(json.dumps({"type": "ping"})),
    json.dumps(json.dumps({"type": "message", "text": "hi"})),
    json.dumps({"text": "no type"}),
    json.dumps({"type": "shout", "text": "x"}),
    json.dumps({"type": "PING"}),
    json.dumps({"type": "message"}),
    json.dumps({"type": "message", "text": ""}),
    json.dumps({"type": "message", "text": 42}),
    json.dumps({"type": "message", "text": None}),
    json.dumps({"type": "message", "text": ["hi"]}),
    json.dumps({"type": "message", "text": {"hi": 1}}),
    json.dumps({"type": "message", "text": "x" * 2001}),
    json.dumps({"type": "message", "text": "é" * 2001}),  # characters, not bytes
    json.dumps({"type": "message", "text": "\U0001f600" * 2001}),
    b"",  # an empty binary frame is a binary frame too
    b"\x00binary",
    b'{"type": "ping"}',  # binary, even holding valid JSON
    b"\xff\xfe\xfd",  # and bytes that are not UTF-8
    # hostile: whatever the frame holds, only ValueError may leave parse_frame
    "[" * 100_000,  # json.loads raises RecursionError
    '{"type": "message", "text": ' + "9" * 5000 + "}",  # int digits limit: a ValueError
    '{"type": "message", "text": NaN}',  # json.loads reads NaN/Infinity as floats
    '{"type": Infinity}',
    json.dumps({"type": ["message"], "text": "x"}),  # unhashable type
    json.dumps({"type": {"kind": "ping"}}),
    json.dumps({"type": "\ud800"}),  # an error message quoting it must still be sendable
    # "whatever `json.loads` refuses": it refuses a raw control character inside a string (a
    # newline or a tab typed into the text, not written as \n or \t), which only
    # json.loads(..., strict=False) would read
    '{"type": "message", "text": "line1\nline2"}',
    '{"type": "message", "text": "a\tb"}',
    # "whatever `json.loads` refuses", however it starts: a ping cut off is not JSON, and a
    # ping whose type json.loads reads last as "PING" is an unknown type (decode, then look)
    '{"type": "ping"',
    '{"type": "ping", "type": "PING"}',
    # and however it ends: json.loads refuses anything after the object but whitespace
    # ("Extra data"), which a decoder that stops after the first value (raw_decode) lets by
    '{"type": "ping"} oops',
    '{"type": "ping"}{"type": "ping"}',
    # and however it starts: json.loads refuses a leading byte order mark ("Unexpected UTF-8
    # BOM"), which a parser that strips it first would read as a ping
    '\ufeff{"type": "ping"}',
]


# the name rule at its edges: 0 and 33 characters, one character outside the
# 64 allowed (a space, ~, a trailing newline, a letter outside ASCII)
BAD_PATHS = [
    "/chat/lobby",
    "/chat/lobby?user=",
    "/chat/lobby?user=a%20b",
    "/chat/lobby?user=a~b",
    "/chat/lobby?user=ann%0A",
    "/chat/lobby?user=j%C3%B6rg",
    "/chat/lobby?user=%E2%84%AA",  # a Kelvin sign: [a-z] with re.IGNORECASE takes it
    "/chat/caf%C3%A9?user=ann",
    "/chat/" + "r" * 33 + "?user=ann",
    "/chat/lobby?user=" + "u" * 33,
]
EDGE_ROOM = "AZaz09_.-" + "r" * 23  # 32 characters, every kind allowed


# helpers' own contracts, checked in the app process on the app's module (AppServer.probe):
# the app alone never shows them, yet each docstring promises them
PARSE_FRAME_PROBE = '''
def probe(module):
    frames = ['{"type": "ping", "x": 1, "text": 5}', '{"type": "ping", "text": "t0"}',
              '{"type": "message", "text": "hi", "id": 7, "user": "eve"}']
    out = []
    for text in frames:
        try:
            out.append(module.parse_frame({"type": "websocket.receive", "text": text,
                                           "bytes": None}))
        except Exception as exc:
            out.append(f"{type(exc).__name__}: {exc}")
    return out
'''
PARSE_FRAME_WANTED = [{"type": "ping"}, {"type": "ping"}, {"type": "message", "text": "hi"}]

# parse_frame on malformed frames: "else `ValueError("<what is wrong>")`, and never any other
# exception": a text that is missing or not a str is a ValueError too (not a TypeError, even
# if the route would catch one), like every other malformed frame
PARSE_FRAME_ERRORS_PROBE = '''
import json


def probe(module):
    frames = {"no text": {"type": "message"}, "text 5": {"type": "message", "text": 5},
              "text null": {"type": "message", "text": None},
              "text a list": {"type": "message", "text": ["hi"]},
              "text an object": {"type": "message", "text": {"hi": 1}},
              "text empty": {"type": "message", "text": ""},
              "text too long": {"type": "message", "text": "x" * 2001},
              "no type": {"text": "hi"}, "type a list": {"type": ["ping"]},
              "type 5": {"type": 5}, "not an object": [1, 2]}
    messages = {name: json.dumps(frame) for name, frame in frames.items()}
    messages.update({"not JSON": "not json", "nested": "[" * 100_000, "NaN text":
                     '{"type": "message", "text": NaN}'})
    # RecursionError "whatever the frame holds": not only a frame that starts with "[" (the
    # text's example), but deep nesting inside an object, of arrays or of objects
    messages.update({"nested in a ping": '{"type": "ping", "x": ' + "[" * 100_000,
                     "nested objects": '{"a": ' * 100_000})
    out = {}
    for name, text in [*messages.items(), ("binary", None)]:
        message = {"type": "websocket.receive", "text": text,
                   "bytes": b'{"type": "ping"}' if text is None else None}
        try:
            out[name] = f"returned {module.parse_frame(message)!r:.80}"
        except ValueError:
            continue
        except BaseException as exc:
            out[name] = f"raised {type(exc).__name__}: {exc}"[:120]
    return out
'''
PARSE_FRAME_ERRORS_WANTED: dict[str, str] = {}

# Presence.join / leave return the user's 0 -> 1 and 1 -> 0 only: "True when the user just
# arrived (0 -> 1 connections), else False" and "True when it was the user's last connection
# (1 -> 0)": a second tab's join and the leave of a tab while another stays are False (not
# "was the connection added / removed", as a set's add or Redis SADD/SREM would answer); and
# the tab that leaves is gone from connections(room) at once, while the user's other tab stays
PRESENCE_PROBE = '''
def probe(module):
    presence = module.Presence()
    ann, bob, ann2 = object(), object(), object()
    returned = {"ann's first tab joins": presence.join("lobby", "ann", ann)}
    first = presence.connections("lobby")
    presence.join("lobby", "bob", bob)
    returned["ann's second tab joins"] = presence.join("lobby", "ann", ann2)
    second = presence.connections("lobby")
    presence.leave("lobby", "bob", bob)
    out = {"first": len(first), "second": len(second),
           "new lists": first is not second and second is not presence.connections("lobby")}
    returned["ann's first tab leaves, her second stays"] = presence.leave("lobby", "ann", ann)
    out["tabs after that leave"] = len(presence.connections("lobby"))
    returned["ann's last tab leaves"] = presence.leave("lobby", "ann", ann2)
    # "every tab of every user", however many: a dozen tabs of cy are a dozen connections
    # (a bounded deque of 8 would drop the oldest), and only the last to close is her 1 -> 0
    tabs = [object() for _ in range(12)]
    joins = [presence.join("attic", "cy", tab) for tab in tabs]
    out["a dozen tabs"] = [joins.count(True), len(presence.connections("attic"))]
    leaves = [presence.leave("attic", "cy", tab) for tab in tabs]
    out["they close"] = [leaves.index(True) + 1 if True in leaves else 0, presence.roster("attic")]
    return {**out, "returned": returned}
'''
PRESENCE_WANTED = {"first": 1, "second": 3, "new lists": True, "tabs after that leave": 1,
                   "a dozen tabs": [1, 12], "they close": [12, []],
                   "returned": {"ann's first tab joins": True, "ann's second tab joins": False,
                                "ann's first tab leaves, her second stays": False,
                                "ann's last tab leaves": True}}

# Interleavings a real client cannot force (a probe's own gates decide who waits, not the
# clock): tabs driven over ASGI in the app's process (`WebSocketTab`), on a fresh app of the
# module. A tab's send number `hold_at` waits at its gate until the probe opens it (then
# raises, with fail_held, like a connection that died meanwhile); `turns` lets the app run
# for a number of loop turns, not seconds, so a fast or a loaded machine gives the same
# interleaving (and a frame awaited is awaited on while the app's own timers or threads are
# at work).
# Each probe ends by closing every tab, bounded (a hang costs at most 2 s).
TABS = '''
import asyncio
import json

from day25.course.inside.settle import loop_busy
from day25.course.inside.websocket_tab import WebSocketTab


class Tab(WebSocketTab):
    """A member's tab in a room (user ann's in the lobby unless told), driven over ASGI."""

    def __init__(self, app, user, room="lobby", hold_at=None, fail_held=False):
        super().__init__(app, f"/chat/{room}", f"user={user}", hold_at=hold_at,
                         fail_held=fail_held)

    def say(self, text):
        self.send_json({"type": "message", "text": text})


# seconds one wait (unless it says otherwise), and one probe in all, may give an app still
# at work: an app with a heartbeat timer is never idle, and a send a probe holds times out
# after 2 s (a wait with no send held may take longer: `patience`)
PATIENCE, BUDGET = 0.5, [2.5]


async def turns(until=None, n=300, patience=PATIENCE):
    """Let the app run n loop turns, or until `until()` holds. If it does not hold by then
    (or there is no `until`) and the app is still at work (a timer of its own due soon: a
    real `asyncio.sleep` in its join, say; a worker thread busy), wait on while it is: a
    slow step of a correct app is neither a missing frame nor a step left half done."""
    for _ in range(n):
        if until is not None and until():
            return
        await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    limit = min(patience, BUDGET[0])
    while (until is None or not until()) and loop.time() - start < limit and loop_busy(loop):
        await asyncio.sleep(0.005)
    BUDGET[0] -= loop.time() - start


async def ann_then_bob(app, **bob):
    ann = Tab(app, "ann")
    await turns(lambda: len(ann.frames) >= 2)  # her roster, her join
    bob = Tab(app, "bob", **bob)
    await turns(lambda: len(ann.frames) >= 3 and len(bob.frames) >= 2)  # bob: roster, join
    return ann, bob


async def finish(tabs, out):
    for tab in tabs:
        tab.gate.set()
        tab.close()
    done, pending = await asyncio.wait([tab.task for tab in tabs], timeout=2.0)
    for task in pending:
        task.cancel()
    for task in done:
        task.exception()  # retrieved: a tab's end is not this probe's verdict
    return out


def seen(tab):
    return [["roster", *f.get("users", ())] if f.get("type") == "roster" else f
            for f in tab.frames]
'''

# "A second tab of the same user is **not** a second user: no join when it opens": ann's two
# tabs open together; the first one's roster send waits at its gate while the second opens
# (and gets its roster, unless it waits for the room): bob, there before, hears one join;
# then the first tab closes (no leave) and the second, her last one, makes her leave
TWO_TABS_AT_ONCE_PROBE = TABS + '''
async def probe(module):
    app = module.create_app()
    bob = Tab(app, "bob")
    await turns(lambda: len(bob.frames) >= 2)
    tab1 = Tab(app, "ann", hold_at=0)
    await turns(tab1.held.is_set)
    tab2 = Tab(app, "ann")
    await turns(lambda: len(tab2.frames) >= 1)
    tab1.gate.set()
    await turns(lambda: tab1.frames and tab2.frames)
    bob.say("after")
    await turns(lambda: any(f.get("text") == "after" for f in bob.frames))
    tab1.close()  # the tab that made ann join closes first: not her last one, no leave
    await turns(tab1.task.done)
    bob.say("then")
    await turns(lambda: any(f.get("text") == "then" for f in bob.frames))
    tab2.close()  # her last tab: her leave
    await turns(lambda: any(f.get("type") == "leave" for f in bob.frames))
    await turns(n=50)
    return await finish([bob, tab1, tab2], seen(bob)[2:])
'''
TWO_TABS_AT_ONCE_WANTED = [joined("ann"), msg("bob", "after", 1), msg("bob", "then", 2),
                           left("ann")]
# ... or her join after bob's "after": he says it as soon as her first tab's roster is out,
# and no rule orders her join (which follows that roster) before a message sent meanwhile
# (a design that sends rosters without waiting for the room, from a student's test)
TWO_TABS_JOIN_AFTER = [msg("bob", "after", 1), joined("ann"), msg("bob", "then", 2),
                       left("ann")]

# "a **listener** broadcasts it to every connection in the room, the sender included":
# bob's last message and his close arrive together; the message was sent while he was in
# the room, so ann gets it before his leave (not a message from someone who has left)
SAY_AND_CLOSE_PROBE = TABS + '''
async def probe(module):
    app = module.create_app()
    ann, bob = await ann_then_bob(app)
    bob.say("bye")
    bob.close()
    await turns(lambda: len(ann.frames) >= 5)
    await turns(n=50)
    return await finish([ann, bob], seen(ann)[3:])
'''
SAY_AND_CLOSE_WANTED = [msg("bob", "bye", 1), left("bob")]
