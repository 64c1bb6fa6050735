"""Exercise 3, chat_broadcasting: malformed frames, refused paths, and ping.

One module of the exercise's graded suite (every ``test_*.py`` in this folder), over
real WebSockets to the submission's app. A malformed frame gets exactly a ``bad_frame``
error frame (its ``message`` a non-empty string of the submission's own words, which
differ for frames wrong in different ways) and the connection
stays; a room or user outside the name rule is refused with ``bad_request`` and close
code 4400; a ping gets exactly a pong, on the pinging connection only. ``parse_frame``
and ``valid_name`` are probed on the app's module too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer, load_beside

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


_frames = load_beside(__file__, "chat_frames")
_contract = load_beside(__file__, "chat_contract")
ASYNC_AUDIT_PROBE = _contract.ASYNC_AUDIT_PROBE
assert_audited = _contract.assert_audited
BAD_FRAMES = _frames.BAD_FRAMES
EDGE_ROOM = _frames.EDGE_ROOM
NAN = _frames.NAN
PARSE_FRAME_PROBE = _frames.PARSE_FRAME_PROBE
PARSE_FRAME_WANTED = _frames.PARSE_FRAME_WANTED
PARSE_FRAME_ERRORS_PROBE = _frames.PARSE_FRAME_ERRORS_PROBE
PARSE_FRAME_ERRORS_WANTED = _frames.PARSE_FRAME_ERRORS_WANTED
chat = _frames.chat
error_frame = _frames.error_frame
expect = _frames.expect
join = _frames.join
msg = _frames.msg
say = _frames.say

# the name rule's edges (chat_frames), and the five ASCII characters between Z and a other
# than "_", which a range A-z lets in: "those 65 ASCII characters and no others"
BAD_PATHS = [*_frames.BAD_PATHS, "/chat/lobby?user=a%5Bb", "/chat/lobby?user=a%5Cb",
             "/chat/lobby?user=a%5Eb", "/chat/lobby?user=%60ann", "/chat/lobby%5D?user=ann",
             # names far too long: the refusal is still 4400, whatever the name holds (a close
             # reason quoting it would pass a WebSocket close reason's 123 bytes, and break the
             # close itself)
             "/chat/lobby?user=" + "u" * 200, "/chat/" + "r" * 200 + "?user=ann",
             # digits outside ASCII (ARABIC-INDIC DIGIT THREE, FULLWIDTH DIGITS ONE and TWO),
             # which `\d` and str.isdigit() let in: `0-9` is ten ASCII digits and no others
             "/chat/lobby?user=ann%D9%A3", "/chat/%EF%BC%91%EF%BC%92?user=ann"]

# unknown types far too long to quote whole: "quote it with `repr` and keep it short"
LONG_TYPES = ["x" * 20_000, ["message" * 2_000]]

# valid_name(value) -> bool: "True only for a str of 1-32 characters": any other value is
# False, an unhashable one too (a list, a dict, a set: a cache keyed on the value, such as
# functools.lru_cache, raises TypeError for those), never an exception
VALID_NAME_PROBE = """
def probe(module):
    out = {}
    for value in (["ann"], {"user": "ann"}, {"ann"}, bytearray(b"ann"), None, 5, b"ann", "ann",
                  *NOT_ASCII):
        try:
            out[repr(value)] = module.valid_name(value)
        except Exception as exc:
            out[repr(value)] = f"{type(exc).__name__}: {exc}"[:120]
    return out
"""
VALID_NAME_WANTED = {"['ann']": False, "{'user': 'ann'}": False, "{'ann'}": False,
                     "bytearray(b'ann')": False, "None": False, "5": False, "b'ann'": False,
                     "'ann'": True}
# letters and digits beyond the 65: a case-blind [a-z] takes the Kelvin sign (it lowercases to
# "k"), a long s and a dotless i; isalnum and \w take the rest
NOT_ASCII = ["\u212a", "\u017fam", "\u0131", "j\u00f6rg", "ann\u00b2", "\u0661"]
VALID_NAME_WANTED.update({repr(name): False for name in NOT_ASCII})
VALID_NAME_PROBE = f"NOT_ASCII = {NOT_ASCII!r}\n" + VALID_NAME_PROBE


@pytest.mark.points(3)
@pytest.mark.category("bad_frame")
async def test_malformed_frames_get_an_error_and_the_connection_stays(app_server: Server) -> None:
    server = app_server()
    assert await server.probe(ASYNC_AUDIT_PROBE) == "listening"
    async with contextlib.AsyncExitStack() as stack:
        ann = await stack.enter_async_context(server.connect(chat("ann")))
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        # bob connects once ann's join is out: a slow join is not a race of two
        bob = await stack.enter_async_context(server.connect(chat("bob")))
        await join(server, bob, "lobby", "bob", ["ann", "bob"])
        await server.recv_json(bob)
        await server.recv_json(ann)
        async with server.connect(chat("ann")) as ann2:  # ann's second tab
            await join(server, ann2, "lobby", "ann", ["ann", "bob"])
            told = {}
            for bad in BAD_FRAMES:
                await ann.send(bad)
                told[bad] = await server.recv_json(ann)
                error_frame(told[bad], "bad_frame", f"sending {bad!r:.50}")
            # "`"message": "<what was wrong>"`": frames wrong in different ways are told what
            # was wrong with each, not one fixed text for all (the lesson's "frames must be
            # JSON" would say so of a binary frame and of a message far too long alike)
            kinds = {b"\x00binary": "binary", "not json": "not JSON", "[1, 2]": "not an object",
                     json.dumps({"type": "PING"}): "an unknown type",
                     json.dumps({"type": "message", "text": "x" * 2001}): "a text too long"}
            said = {kind: told[bad]["message"] for bad, kind in kinds.items()}
            assert len(set(said.values())) == len(said), (
                "the bad_frame error's message says what was wrong with that frame: a binary "
                "frame, one that is not JSON, one that is not an object, an unknown type and a "
                "text too long each get a message of their own, not one text for all; got "
                f"{said!r:.600}")
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
    await assert_audited(server, {"ws.error": bad_frames})


@pytest.mark.points(2)
@pytest.mark.category("bad_request")
async def test_bad_room_or_user_is_refused_with_4400(app_server: Server) -> None:
    """"`room` and `user` are 1-32 characters of `[A-Za-z0-9_.-]`: those 65 ASCII
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
    # "each one of the 65 in `[A-Za-z0-9_.-]`": a name made only of "_", "." or "-" is a
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
        "cannot be hashed: no TypeError; a str with a letter or digit beyond the 65 ASCII "
        f"characters, such as a Kelvin sign); wanted {VALID_NAME_WANTED}, got {got}")


@pytest.mark.points(1)
@pytest.mark.category("ping")
async def test_ping_pong(app_server: Server) -> None:
    server = app_server()
    async with contextlib.AsyncExitStack() as stack:
        ann = await stack.enter_async_context(server.connect(chat("ann")))
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        # bob connects once ann's join is out: a slow join is not a race of two
        bob = await stack.enter_async_context(server.connect(chat("bob")))
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
