"""Graded suite for Exercise 4: notification_queueing (25 points), what a POST refuses.

Every limit of a notification at its boundary, on both sides: a valid one is stored
and delivered exactly as sent (not normalised, not stripped), an invalid or hostile
body (not JSON, not an object, a bad field, NaN, deep nesting, lone surrogates) gets
422 with exactly {"error": ...}, stores nothing and uses up no seq; a bad user name
in a WebSocket path gets an error frame and close code 4400. Never a 500.

How every module of this suite talks to the app: notification_support.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, load_beside, reply_text

EXERCISE = "notification_queueing"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]

_support = load_beside(__file__, "notification_support")
where = _support.where
send = _support.send
post = _support.post
refused = _support.refused
backlog = _support.backlog
check_frame = _support.check_frame


HOSTILE_BODIES: list[bytes] = [
    b"[" * 100_000,  # json.loads raises RecursionError
    b'{"user": "ann", "title": "ok", "level": NaN}',
    b'{"user": "ann", "title": -Infinity}',
    b'{"user": "ann", "title": 1e999}',
    b'{"user": "ann", "title": "ok", "body": 1' + b"0" * 5000 + b"}",
    b'{"user": "ann", "title": "caf\xe9"}',  # latin-1, not UTF-8
    b"\xff\xfe\x00", b"", b"hello", b"null", b'"a string"', b"NaN",
]


DECOMPOSED = "cafe\u0301, A\u030a"  # "café, Å" spelt with combining accents (not NFC)
MULTILINE = "line one\nline two\r\n\tthree\n"  # a body of several lines
TITLED = "Line 1\nLine 2\t10\u00a0kg"  # a title with a line break, a tab, a no-break space


@pytest.mark.points(3)
@pytest.mark.category("bad_input")
async def test_every_limit_at_its_boundary_and_hostile_bodies_get_422(
    app_server: Server,
) -> None:
    server = app_server()
    good = [("a", "x", {}), ("x" * 32, "y" * 200, {"body": "b" * 2000, "level": "low"}),
            ("A.z_0-9", "é" * 200, {"level": "high", "body": DECOMPOSED}),
            # only a title may not be blank: a body of whitespace alone is a body
            ("a", " padded ", {"level": "normal", "body": " \n "}),
            # "body | text of at most 2000 characters": line breaks and tabs are text
            ("lines", "Report", {"body": MULTILINE}),
            # "title | text of 1-200 characters, not only whitespace": a line break, a tab or
            # a no-break space inside a title is text too (str.isprintable is no rule here)
            ("lines", TITLED, {}),
            # "1-32 characters of [A-Za-z0-9_.-]": any of them may come first, "_", "." or
            # "-" too (a name need not start with a letter or a digit)
            ("_bot", "hi", {}), ("-x", "hi", {}), (".ann", "hi", {})]
    for user, title, extra in good:
        await post(server, user, title, **extra)
    # "Lengths count characters ... as given", whichever way the JSON text spells them: a
    # body of 2000 "é" sent ASCII-escaped (json.dumps' default, "\u00e9" is 6 bytes) is
    # about 12,000 bytes of a valid notification (no guard on bytes may refuse it)
    escaped = json.dumps({"user": "esc", "title": "é" * 200, "body": "é" * 2000}).encode()
    r = await send(server, escaped)
    assert r.status_code == 201, (
        f'{{"title": "é" * 200, "body": "é" * 2000}} sent with \\u00e9 escapes ({len(escaped)} '
        f"bytes) is valid: 201, got {r.status_code}: {reply_text(r)}")
    ok = {"user": "ann", "title": "x"}
    for bad in (
        {"title": "x"}, {**ok, "user": ""}, {**ok, "user": "x" * 33}, {**ok, "user": "ann\n"},
        {**ok, "user": None}, {**ok, "user": 7},
        # letters and digits beyond those 65 ASCII characters: isalnum, \w and a
        # case-blind [a-z] take them (a Kelvin sign lowercases to "k")
        {**ok, "user": "\u00e9"}, {**ok, "user": "ann\u00b2"}, {**ok, "user": "\u212a"},
        {**ok, "user": "\u0661"},
        # "[A-Za-z0-9_.-], nothing else": the range A-z would also take the ASCII
        # characters between "Z" and "a" ([ \ ] ^ ` and "_", the one of them allowed)
        {**ok, "user": "a^b"}, {**ok, "user": "a[1]"}, {**ok, "user": "x`y"},
        {**ok, "user": "a\\b"},
        {"user": "ann"}, {**ok, "title": ""}, {**ok, "title": " \t\n "}, {**ok, "title": None},
        # "not only whitespace": whitespace as Python's str has it (str.isspace), not ASCII's
        # alone: an ideographic space and a no-break space are blank too
        {**ok, "title": "\u3000\u00a0"},
        {**ok, "title": "x" * 201}, {**ok, "title": " " + "x" * 199 + " "}, {**ok, "title": 42},
        # "Lengths count characters (`len(title)` in Python) ... as given": 150 "e" each with
        # a combining accent are 300 characters, however few an NFC normalisation makes them
        {**ok, "title": "e\u0301" * 150},
        {**ok, "body": "b" * 2001}, {**ok, "body": None}, {**ok, "body": 7},
        {**ok, "level": "HIGH"}, {**ok, "level": ""}, {**ok, "level": None},
        {**ok, "level": " low"}, {**ok, "level": 1},
        # "exactly": a level that only starts with one (re.match) or holds one is refused
        {**ok, "level": "lowest"}, {**ok, "level": "high!"}, {**ok, "level": "normal\n"},
        # "whatever the body holds": a list or an object where a string belongs is a bad
        # field too (neither can be looked up in a set of allowed values: no TypeError)
        {**ok, "level": ["low"]}, {**ok, "level": {"low": 1}}, {**ok, "user": ["ann"]},
        {**ok, "title": ["x"]}, {**ok, "body": {"b": 1}},
        b"{not json", b"[1, 2]", *HOSTILE_BODIES,
        # "JSON text ... (RFC 8259)": a control character inside a string must be escaped
        # ("\n"); a raw line break, tab or NUL there is not JSON (json.loads(strict=False)
        # would take it)
        b'{"user": "ann", "title": "a\nb"}', b'{"user": "ann", "title": "ok", "body": "\t"}',
        b'{"user": "ann", "title": "a\x00"}',
        # "not an object": a JSON array of key/value pairs is an array, however readily
        # dict() turns it into one (dict(await req.json) would store it as ann's)
        b'[["user", "ann"], ["title", "hi"]]',
    ):
        await refused(server, bad)
    async with server.connect(where("a")) as a, server.connect(where("x" * 32)) as x32, \
            server.connect(where("lines")) as lines:
        stored = [(f["seq"], f["title"], f["body"], f["level"]) for f in await backlog(server, a)]
        long = await backlog(server, x32)
        multi = [(f["title"], f["body"]) for f in await backlog(server, lines)]
    async with server.connect(where("esc")) as esc:
        assert [(f["title"], f["body"]) for f in await backlog(server, esc)] == [
            ("é" * 200, "é" * 2000)], "the escaped body, stored and delivered as 2000 é"
    assert multi == [("Report", MULTILINE), (TITLED, "")], (
        f"a body of several lines, and a title holding a line break, a tab and a no-break "
        f"space, each exactly as sent, in the order sent (by seq): {multi!a}")
    assert stored == [(1, "x", "", "normal"), (2, " padded ", " \n ", "normal")], (
        f"as given, in the order given (by seq): {stored}")
    assert [(f["title"], len(f["body"]), f["level"]) for f in long] == [("y" * 200, 2000, "low")]
    # "1-32 characters of [A-Za-z0-9_.-]" on the WebSocket too: a name with a dot, a dash and
    # an underscore is a user's, who gets their backlog (only a bad name gets 4400)
    async with server.connect(where("A.z_0-9")) as dotted:
        first = await server.recv_json(dotted)
        assert first.get("type") == "notification", (
            f"A.z_0-9 is a valid user name (1-32 characters of [A-Za-z0-9_.-]): its tab gets "
            f"its backlog, not {first!r:.300}")
        mixed = await backlog(server, dotted, first)
    # "stored and delivered exactly as sent": not normalised (NFC would make "e" and its
    # combining accent one "é"), not stripped
    assert [(f["title"], f["body"], f["level"]) for f in mixed] == [
        ("é" * 200, DECOMPOSED, "high")], f"exactly as sent: {mixed!a}"
    assert (await post(server, "ann", "ok"))["seq"] == 1, "a refused one must not use up a seq"
    # a name that starts with "-" (and not with a letter or a digit) is a user's too
    async with server.connect(where("-x")) as dash:
        got = [f["title"] for f in await backlog(server, dash)]
        assert got == ["hi"], f"-x is a valid user name: its tab gets its backlog, got {got}"
    for path in ("bad%20name", "x" * 33, "ann%0A", "%C3%A9", "ann%C2%B2", "a%5Eb"):
        async with server.connect(where(path)) as ws:
            reply = await server.recv_json(ws)
            assert set(reply) == {"type", "code", "message"} and reply["message"], reply
            assert (reply["type"], reply["code"]) == ("error", "bad_request"), reply
            code, _ = await server.expect_close(ws)
            assert code == 4400, f"a bad user name {path!r} in the path: 4400, not {code}"


@pytest.mark.points(1)
@pytest.mark.category("bad_input")
async def test_lone_surrogates_never_break_the_service(app_server: Server) -> None:
    """A lone surrogate (valid escaped JSON, not text) is refused with 422 and never
    stored, or stored and delivered exactly as received; never a 500, never a broken tab."""
    server = app_server()
    kept: list[tuple[dict[str, Any], dict[str, str]]] = []
    bodies = [({"title": "\ud800"}, b'{"user": "ann", "title": "\\ud800"}'),  # escaped
              ({"title": "ok", "body": "a\udfffb"}, b'{"user": "ann", "title": "ok", '
                                                     b'"body": "a\\udfffb"}'),
              # CESU-8, not UTF-8: json.loads(bytes) decodes it to the same lone surrogate
              ({"title": "\ud800"}, b'{"user": "ann", "title": "\xed\xa0\x80"}')]
    for fields, body in bodies:
        r = await send(server, body)
        assert r.status_code in (201, 422), f"POST {fields!r}: 422 or 201, got {r.status_code}"
        if r.status_code == 422:
            assert set(r.json()) == {"error"}, f"a 422 body is exactly {{'error': ...}}: {r.text}"
        else:
            kept.append((r.json(), fields))
    async with server.connect(where("ann")) as ann:
        got = await backlog(server, ann)
        assert len(got) == len(kept), f"stored: exactly the accepted ones ({len(kept)}): {got}"
        for frame, (reply, fields) in zip(got, kept, strict=True):
            check_frame(frame, reply, "ann", fields["title"], fields.get("body", ""))
        # "an id holding a lone surrogate may be refused this way too, or simply count 0":
        # a high one, a low one (U+DC00-U+DFFF are lone surrogates too), one inside an id
        for lone in ("\\ud800", "\\udc00", "id\\udfff"):
            await ann.send('{"type": "ack", "ids": ["' + lone + '"]}')
            try:
                reply = await server.recv_json(ann)
            except Exception as exc:  # closed, or nothing came
                pytest.fail(f"an ack of the id \"{lone}\" (a lone surrogate) gets acked 0 or a "
                            f"bad_frame error, and the tab stays open: {exc!r:.200}",
                            pytrace=False)
            no_such_id = reply == {"type": "acked", "count": 0}
            refused = (reply.get("type"), reply.get("code")) == ("error", "bad_frame")
            assert no_such_id or refused, (
                f"an ack of the lone surrogate id \"{lone}\": acked 0 or a bad_frame error, "
                f"got {reply}")
        reply = await post(server, "ann", "ok")
        assert reply["seq"] == len(kept) + 1, "a refused one must not use up a seq"
        check_frame(await server.recv_json(ann), reply, "ann", "ok")
