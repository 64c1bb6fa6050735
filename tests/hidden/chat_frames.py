"""What the chat_broadcasting suite sends and expects: frames, paths, and the checks on them.

A helper of ``test_chat_broadcasting.py`` (one file per concept: here the
protocol's data and its exact comparisons; there the scenarios and points).
"""

from __future__ import annotations

import json
from typing import Any

from day25.course.harness import AppServer
from day25.course.protocol import FAULT_HEADER


async def join(server: AppServer, ws: Any, room: str, user: str, users: list[str]) -> None:
    """The joiner's first frame is the roster."""
    roster = await server.recv_json(ws)
    assert roster == {"type": "roster", "room": room, "users": users}, (
        f"the first frame after connecting should be the roster {users}, got {roster}"
    )


async def expect(server: AppServer, ws: Any, frame: dict[str, Any], why: str) -> None:
    got = await server.recv_json(ws)
    assert got == frame, f"{why}: expected {frame}, got {got}"


def error_frame(reply: Any, code: str, sent: str) -> None:
    """An error frame is exactly {type: error, code, message: a non-empty str}."""
    assert isinstance(reply, dict) and set(reply) == {"type", "code", "message"} and (
        reply["type"] == "error" and reply["code"] == code
        and isinstance(reply["message"], str) and reply["message"].strip()
    ), f'{sent} should get {{"type": "error", "code": "{code}", "message": "<what was wrong>"}} '\
       f"and nothing else; got {reply!r:.300}"


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


def faulty(fault: str) -> dict[str, Any]:
    return {"additional_headers": {FAULT_HEADER: fault}}


# any JSON string of 1-2000 characters (as len() counts them, not UTF-8 bytes) is a text:
# whitespace too, and a lone surrogate escape, which the broadcast must send escaped; and
# relayed as sent, character for character: not normalised (an e and a combining accent stay
# two characters, the ANGSTROM SIGN stays itself, though NFC would make each one other letter)
GOOD_TEXTS = ["é" * 2000, "\U0001f600" * 2000, "   ", "a", "\ud800 lone surrogate", "<b>&amp;",
              "e\u0301 \u212b"]


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
    return {**out, "returned": returned}
'''
PRESENCE_WANTED = {"first": 1, "second": 3, "new lists": True, "tabs after that leave": 1,
                   "returned": {"ann's first tab joins": True, "ann's second tab joins": False,
                                "ann's first tab leaves, her second stays": False,
                                "ann's last tab leaves": True}}
