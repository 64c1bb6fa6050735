"""Graded suite for Exercise 3: chat_broadcasting (25 points).

Talks real WebSockets to the submission's app served by the harness in a child
process; never imports the submission. Every receive has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer
from day25.course.protocol import FAULT_HEADER

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


async def join(server: AppServer, ws: Any, room: str, user: str, users: list[str]) -> None:
    """The joiner's first frame is the roster."""
    roster = await server.recv_json(ws)
    assert roster == {"type": "roster", "room": room, "users": users}, (
        f"the first frame after connecting should be the roster {users}, got {roster}"
    )


async def expect(server: AppServer, ws: Any, frame: dict[str, Any], why: str) -> None:
    got = await server.recv_json(ws)
    assert got == frame, f"{why}: expected {frame}, got {got}"


def chat(user: str, room: str = "lobby") -> str:
    return f"/chat/{room}?user={user}"


def say(text: str) -> str:
    return json.dumps({"type": "message", "text": text})


def msg(user: str, text: str, seq: int, room: str = "lobby") -> dict[str, Any]:
    return {"type": "message", "room": room, "user": user, "text": text, "seq": seq}


@pytest.mark.points(1)
@pytest.mark.category("roster_and_join")
async def test_roster_then_own_join(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await expect(
            server,
            ann,
            {"type": "join", "room": "lobby", "user": "ann"},
            "the joiner also gets its own join after the roster",
        )
    joined = await server.wait_for_event("chat.joined")
    assert joined[0]["args"] == [{"room": "lobby", "user": "ann"}]


@pytest.mark.points(1)
@pytest.mark.category("roster_and_join")
async def test_second_user_gets_roster_and_everyone_the_join(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("bob")) as bob:
        await join(server, bob, "lobby", "bob", ["bob"])
        await server.recv_json(bob)  # own join
        async with server.connect(chat("ann")) as ann:
            await join(server, ann, "lobby", "ann", ["ann", "bob"])
            join_ann = {"type": "join", "room": "lobby", "user": "ann"}
            await expect(server, ann, join_ann, "the joiner's own join")
            await expect(server, bob, join_ann, "members already in the room hear the join")


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
            await cy.send(say("hi ann"))
            for ws in (ann, bob, cy):
                await expect(server, ws, msg("cy", "hi ann", 2), "seq counts up per room")
    events = await server.wait_for_event("room.message", count=2)
    assert events[0]["args"] == [{"room": "lobby", "user": "ann", "text": "hello"}], (
        "the route should emit room.message with {room, user, text}"
    )


@pytest.mark.points(1)
@pytest.mark.category("seq")
async def test_rooms_are_separate(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann", "a")) as ann, server.connect(chat("bob", "b")) as bob:
        await join(server, ann, "a", "ann", ["ann"])
        await join(server, bob, "b", "bob", ["bob"])
        await server.recv_json(ann)
        await server.recv_json(bob)
        await ann.send(say("only in a"))
        await expect(server, ann, msg("ann", "only in a", 1, "a"), "message in room a")
        await server.expect_silence(bob, 0.3)
        await bob.send(say("only in b"))
        await expect(server, bob, msg("bob", "only in b", 1, "b"), "each room has its own seq")


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
        await expect(
            server,
            ann,
            {"type": "leave", "room": "lobby", "user": "bob"},
            "when bob closes his only tab, the others hear that he left",
        )
        async with server.connect(chat("cy")) as cy:
            await join(server, cy, "lobby", "cy", ["ann", "cy"])
    left = await server.wait_for_event("chat.left")
    assert left[0]["args"] == [{"room": "lobby", "user": "bob"}]


@pytest.mark.points(3)
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
                await server.expect_silence(bob, 0.3)  # no second join for a second tab
                await tab2.send(say("from tab 2"))
                for ws in (tab1, tab2, bob):
                    await expect(
                        server, ws, msg("ann", "from tab 2", 1), "every tab gets the message, once"
                    )
            await bob.send(say("still there?"))
            await expect(
                server,
                bob,
                msg("bob", "still there?", 2),
                "closing one of ann's two tabs is not a leave",
            )
            await expect(server, tab1, msg("bob", "still there?", 2), "ann's other tab stays")
        await expect(
            server,
            bob,
            {"type": "leave", "room": "lobby", "user": "ann"},
            "closing ann's last tab is her leave",
        )
    assert len(server.events("chat.joined")) == 2


BAD_FRAMES = [
    "not json",
    "[1, 2]",
    json.dumps({"text": "no type"}),
    json.dumps({"type": "shout", "text": "x"}),
    json.dumps({"type": "message"}),
    json.dumps({"type": "message", "text": ""}),
    json.dumps({"type": "message", "text": 42}),
    json.dumps({"type": "message", "text": "x" * 2001}),
    b"\x00binary",
]


@pytest.mark.points(2)
@pytest.mark.category("bad_frame")
async def test_malformed_frames_get_an_error_and_the_connection_stays(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann, server.connect(chat("bob")) as bob:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await join(server, bob, "lobby", "bob", ["ann", "bob"])
        await server.recv_json(bob)
        await server.recv_json(ann)
        for bad in BAD_FRAMES:
            await ann.send(bad)
            reply = await server.recv_json(ann)
            assert reply.get("type") == "error" and reply.get("code") == "bad_frame", (
                f"sending {bad!r:.40} should get an error frame with code bad_frame, got {reply}"
            )
            assert isinstance(reply.get("message"), str) and reply["message"], (
                "the error frame should say what was wrong in 'message'"
            )
        await server.expect_silence(bob, 0.2)
        await ann.send(say("x" * 2000))  # the longest allowed message still works
        await expect(server, ann, msg("ann", "x" * 2000, 1), "the connection is still open")
        await expect(server, bob, msg("ann", "x" * 2000, 1), "others are unaffected")
    errors = await server.wait_for_event("ws.error", count=len(BAD_FRAMES))
    assert len(errors) == len(BAD_FRAMES)
    payload = errors[0]["args"][0]
    assert payload["room"] == "lobby" and payload["user"] == "ann" and payload["error"], (
        f"ws.error should carry {{room, user, error}}, got {payload}"
    )


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
            await expect(
                server,
                ann,
                {"type": "leave", "room": "lobby", "user": "bob"},
                "bob closed his socket",
            )
    await server.wait_for_event("chat.left", count=4)
    errors = server.events("ws.error")
    assert errors == [], f"a normal disconnect must not emit ws.error; got {errors[:2]}"


BAD_PATHS = [
    "/chat/lobby",
    "/chat/lobby?user=",
    "/chat/lobby?user=a%20b",
    "/chat/" + "r" * 33 + "?user=ann",
    "/chat/lobby?user=" + "u" * 33,
]


@pytest.mark.points(2)
@pytest.mark.category("bad_request")
async def test_bad_room_or_user_is_refused_with_4400(app_server: Server) -> None:
    server = app_server()
    for path in BAD_PATHS:
        async with server.connect(path) as ws:
            reply = await server.recv_json(ws)
            assert reply.get("type") == "error" and reply.get("code") == "bad_request", (
                f"connecting to {path} should get an error frame with code bad_request, got {reply}"
            )
            code, _ = await server.expect_close(ws)
            assert code == 4400, f"then the server should close with code 4400, not {code}"


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
                leave = {"type": "leave", "room": "lobby", "user": "bob"}
                assert leave in got, f"a member whose connection died should leave; got {got}"
                texts = [f.get("text") for f in got if f.get("type") == "message"]
                assert texts == [f"m{i}" for i in range(5)], (
                    f"every message should still reach the others, in order; got {got}"
                )
        await cy.send(json.dumps({"type": "ping"}))
        await expect(server, cy, {"type": "pong"}, "the room still works")


@pytest.mark.points(1)
@pytest.mark.category("ping")
async def test_ping_pong(app_server: Server) -> None:
    server = app_server()
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        await ann.send(json.dumps({"type": "ping"}))
        await expect(server, ann, {"type": "pong"}, "ping gets pong")


@pytest.mark.points(1)
@pytest.mark.category("message")
async def test_many_members_all_get_every_message_in_order(app_server: Server) -> None:
    server = app_server()
    names = [f"u{i}" for i in range(6)]
    async with server.connect(chat("ann")) as ann:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        async with contextlib.AsyncExitStack() as stack:
            conns = [await stack.enter_async_context(server.connect(chat(n))) for n in names]
            for ws in conns:
                await server.recv_json(ws)  # roster
            senders = conns[:3]
            await asyncio.gather(*(ws.send(say(f"from {i}")) for i, ws in enumerate(senders)))
            seen: list[list[Any]] = []
            for ws in [ann, *conns]:
                frames: list[Any] = []
                while len([f for f in frames if f.get("type") == "message"]) < 3:
                    frames.append(await server.recv_json(ws))
                seen.append([(f["seq"], f["text"]) for f in frames if f["type"] == "message"])
            assert all(s == seen[0] for s in seen), f"members saw different orders: {seen}"
            assert [seq for seq, _ in seen[0]] == [1, 2, 3]


@pytest.mark.points(1)
@pytest.mark.category("seq")
async def test_seq_does_not_restart_when_the_room_empties(app_server: Server) -> None:
    server = app_server()
    for round_, user in enumerate(("ann", "bob", "ann")):
        async with server.connect(chat(user)) as ws:
            await join(server, ws, "lobby", user, [user])
            await server.recv_json(ws)
            for i in range(2):
                await ws.send(say(f"r{round_}m{i}"))
                await expect(server, ws, msg(user, f"r{round_}m{i}", 2 * round_ + i + 1),
                             "a room's seq goes on after the room emptied")
        await server.wait_for_event("chat.left", count=round_ + 1)


def faulty(fault: str) -> dict[str, Any]:
    return {"additional_headers": {FAULT_HEADER: fault}}


@pytest.mark.points(3)
@pytest.mark.category("dead_member")
async def test_a_member_whose_send_fails_is_dropped_once(app_server: Server) -> None:
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
            await server.expect_silence(ann, 0.3)  # bob still has a working tab: no leave
            async with server.connect(chat("dan"), **faulty("raise:2")) as dan:
                await join(server, dan, "lobby", "dan", ["ann", "bob", "cy", "dan"])
                for ws in (ann, cy, bob1):
                    await server.recv_json(ws)  # join dan
                await cy.send(say("two"))
                for ws in (ann, cy, bob1):
                    await expect(server, ws, msg("cy", "two", 2), "the others get the message")
                    await expect(server, ws, {"type": "leave", "room": "lobby", "user": "dan"},
                                 "dan's send failed: he is dropped and leaves")
            await cy.send(say("three"))
            for ws in (ann, cy, bob1):
                await expect(server, ws, msg("cy", "three", 3), "the room goes on")
    left = [e["args"][0]["user"] for e in await server.wait_for_event("chat.left", count=3)]
    assert left.count("dan") == 1, (
        f"dan's leave must be announced once, not again when his socket closes: {left}"
    )


@pytest.mark.points(2)
@pytest.mark.category("slow_member")
async def test_stalled_members_cost_one_timeout_and_are_dropped(app_server: Server) -> None:
    server = app_server(send_timeout=0.2)
    stalled = ["bob", "cy", "eve", "fay"]
    async with server.connect(chat("ann")) as ann, contextlib.AsyncExitStack() as stack:
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        for i, name in enumerate(stalled):
            # each reads its roster and the joins up to dan's, then stops reading
            frames = 2 + (len(stalled) - i - 1) + 1
            ws = await stack.enter_async_context(
                server.connect(chat(name), **faulty(f"stall:{frames}")))
            await join(server, ws, "lobby", name, sorted(["ann", *stalled[:i + 1]]))
            await server.recv_json(ann)  # its join
        dan = await stack.enter_async_context(server.connect(chat("dan")))
        await join(server, dan, "lobby", "dan", sorted(["ann", "dan", *stalled]))
        for ws in (ann, dan):
            await server.recv_json(ws)  # join dan
        loop = asyncio.get_running_loop()
        started = loop.time()
        await ann.send(say("hello"))
        for ws in (ann, dan):
            got = [await server.recv_json(ws) for _ in range(1 + len(stalled))]
            assert got[0] == msg("ann", "hello", 1), f"everyone else gets the message: {got}"
            leaves = sorted(f.get("user") for f in got[1:] if f.get("type") == "leave")
            assert leaves == stalled, f"the stalled members are dropped and leave; got {got}"
        took = loop.time() - started
        assert took < 0.6, (
            f"four stalled members cost {took:.2f} s: the sends should run side by side, each "
            "bounded by send_timeout (0.2 s), not one after another"
        )
        await dan.send(say("still here"))
        for ws in (ann, dan):
            await expect(server, ws, msg("dan", "still here", 2), "the room goes on")
