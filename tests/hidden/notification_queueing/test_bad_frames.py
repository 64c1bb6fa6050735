"""Graded suite for Exercise 4: notification_queueing (25 points), malformed frames.

A malformed frame from a tab gets a bad_frame error on that tab alone and one awaited
ws.error (an async listener of it hears each), and the connection stays usable; a
normal disconnect is no ws.error, and no traceback ever shows.

How every module of this suite talks to the app: notification_support.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer, SubmissionSettled, SubmissionTimeout, load_beside

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]

_support = load_beside(__file__, "notification_support")
where = _support.where
faulty = _support.faulty
post = _support.post
backlog = _support.backlog
acked = _support.acked


BAD_FRAMES: list[str | bytes] = [
    "nope", "", "[]", "null", json.dumps({"type": "ack"}), json.dumps({"type": "shout"}),
    *(json.dumps({"type": t, "ids": []}) for t in ("Ack", "acks", "shout", None)),
    json.dumps({"ids": []}), b"",  # no type at all; an empty binary frame
    json.dumps({"type": "ack", "ids": [1]}), json.dumps({"type": "ack", "ids": "abc"}),
    b"\x01", "[" * 100_000, '{"type": "ack", "ids": [NaN]}', '{"type": "ack", "ids": Infinity}',
    '{"type": "ack", "ids": [1e999]}', '{"type": "ack", "ids": 1' + "0" * 5000 + "}",
    # "`ids` not a list of strings", however long: 1,200 strings and then a number (the list
    # has no length limit, so a check of only its first ids lets the number through)
    json.dumps({"type": "ack", "ids": [*(f"id{i}" for i in range(1200)), 7]}),
]


# "the app emits `ws.error`": on a day25 bus an emit that is not awaited runs no async
# listener ("With any async listener nothing runs until it is awaited"), so the grader adds
# one, as a logger or an alert would be, which re-emits what it hears under a name of its own;
# it keeps each payload with a copy made when it heard it, as a log keeps an entry, and says
# (under another name) when one it heard before has changed since
HEARD = "grader.heard.ws.error"
CHANGED = "grader.changed.ws.error"
ASYNC_WS_ERROR_LISTENER = """
import copy


def probe(module):
    kept = []

    async def heard(payload):
        changed = [i for i, (p, was) in enumerate(kept) if p != was]
        try:
            was = copy.deepcopy(payload)
        except Exception:  # what cannot be copied is compared with itself
            was = payload
        kept.append((payload, was))
        if changed:
            await app_events.emit("CHANGED", changed)
        await app_events.emit("HEARD", payload)

    app_events.on("ws.error", heard)
    return "listening"
""".replace("HEARD", HEARD).replace("CHANGED", CHANGED)


# parse_ack's own contract, on the app's module: "Raise ValueError ... for a binary frame":
# an ASGI server may hand over a binary frame with "text": None beside its bytes
PARSE_ACK_PROBE = """
def probe(module):
    out = {}
    binary = b'{"type": "ack", "ids": []}'
    for name, message in {"text None beside bytes": {"type": "websocket.receive", "text": None,
                                                     "bytes": binary},
                          "bytes only": {"type": "websocket.receive", "bytes": binary}}.items():
        try:
            out[name] = module.parse_ack(message)
        except ValueError:
            out[name] = "ValueError"
        except Exception as exc:
            out[name] = f"{type(exc).__name__}: {exc}"[:200]
    return out
"""


# an alert someone else added to app.events, whose service is down
RAISING_WS_ERROR_LISTENER = """
def probe(module):
    def alert(payload):
        raise RuntimeError("the alert service is down")

    app_events.on("ws.error", alert)
    return "listening"
"""


@pytest.mark.points(2)
@pytest.mark.category("bad_frame")
async def test_malformed_frames_get_an_error_and_the_connection_stays(app_server: Server) -> None:
    server = app_server()
    assert await server.probe(ASYNC_WS_ERROR_LISTENER) == "listening"
    await post(server, "ann", "t0")
    async with server.connect(where("ann")) as ann, server.connect(where("ann")) as tab2, \
            server.connect(where("bob")) as bob:
        frames = await backlog(server, ann)
        for ws in (tab2, bob):
            await backlog(server, ws)
        for bad in BAD_FRAMES:
            await ann.send(bad)
            reply = await server.recv_json(ann)
            want = ("gets exactly {'type': 'error', 'code': 'bad_frame', 'message': '<what was "
                    "wrong>'}")
            assert set(reply) == {"type", "code", "message"} and reply["message"], (
                f"the malformed frame {bad[:60]!r} {want}; got {reply!r:.300}")
            assert (reply["type"], reply["code"]) == ("error", "bad_frame"), (
                f"the malformed frame {bad[:60]!r} {want}; got {reply!r:.300}")
        await asyncio.gather(server.expect_silence(tab2), server.expect_silence(bob))
        assert await acked(server, ann, [frames[0]["id"]]) == 1, "the socket still works"
    try:  # ws.error has an async listener (the grader's): an emit not awaited runs none
        await server.wait_for_event("ws.error", count=len(BAD_FRAMES))
        heard = await server.wait_for_event(HEARD, count=len(BAD_FRAMES))
    except (SubmissionTimeout, SubmissionSettled):
        pytest.fail(f"{len(BAD_FRAMES)} bad frames, and ws.error was heard "
                    f"{len(server.events('ws.error'))} times ({len(server.events(HEARD))} by "
                    "an async listener of it): an emit on app.events must be awaited (or "
                    "fired), or once any listener is async, no listener runs", pytrace=False)
    await server.settled()
    errors = server.events("ws.error")
    assert len(errors) == len(BAD_FRAMES), "one ws.error per bad frame; a disconnect is none"
    await server.expect_no_traceback("a bad frame raises nothing in the server: no traceback, ever")
    for error in errors:
        payload = error["args"][0]
        assert set(payload) == {"user", "error"} and payload["user"] == "ann", (
            f'ws.error carries exactly {{"user": U, "error": "<what was wrong>"}}: ann\'s bad '
            f"frame gave {payload!r:.300}")
        assert isinstance(payload["error"], str) and payload["error"], (
            f"ws.error's error is a non-empty str saying what was wrong; got {payload!r:.300}")
    assert [e["args"] for e in heard] == [e["args"] for e in errors], (
        "the async listener of ws.error hears each payload the app emitted")
    assert not server.events(CHANGED), (
        "a listener of ws.error kept the payloads it heard, and one of them changed after it "
        "was heard: each ws.error is a payload of its own, not one dict whose error the next "
        f"bad frame rewrites (changed, by their number: {server.events(CHANGED)[0]['args']})")
    async with server.connect(where("ann")) as ann:
        assert await backlog(server, ann) == [], "the ack after the bad frames still worked"
    # "A normal disconnect is not an error: no `ws.error`": a tab that sends an ack and
    # leaves at once; the reply to its ack finds it gone (the send raises, as a send to a
    # closed socket does). That is no malformed frame: no ws.error
    async with server.connect(where("ann"), **faulty("raise:1")) as leaving:
        assert await backlog(server, leaving) == []
        await leaving.send(json.dumps({"type": "ack", "ids": []}))
    await server.settled()
    late = server.events("ws.error")[len(BAD_FRAMES):]
    assert not late, (
        "a tab sent a well-formed ack and left at once (the reply to it could not be sent): "
        "a normal disconnect, not a malformed frame, so no ws.error; got "
        f"{[e['args'] for e in late]}")
    got = await server.probe(PARSE_ACK_PROBE)
    assert got == {"text None beside bytes": "ValueError", "bytes only": "ValueError"}, (
        "parse_ack raises ValueError for a binary frame, whatever its message holds (an ASGI "
        "server may give \"text\": None beside the bytes), and never anything else; got "
        f"{got}")
    # "the connection **stays open**" whoever listens: an alert of the instructor's on
    # ws.error that raises changes nothing of the sender's error frame and open socket
    assert await server.probe(RAISING_WS_ERROR_LISTENER) == "listening"
    async with server.connect(where("bob")) as bob:
        assert await backlog(server, bob) == []
        await bob.send("not json either")
        reply = await server.recv_json(bob)
        assert (reply.get("type"), reply.get("code")) == ("error", "bad_frame"), (
            "a listener of ws.error that is not yours raised: your tab still gets its "
            f"bad_frame error, got {reply}")
        assert await acked(server, bob, []) == 0, (
            "a listener of ws.error that is not yours raised: the connection stays open")
