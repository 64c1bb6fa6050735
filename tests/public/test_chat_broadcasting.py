"""Public checks for Exercise 3: chat_broadcasting.

Run them with ``day25 check chat_broadcasting``. They talk real WebSockets to
your app, served in a separate process. There is one for every kind of graded
check (``@pytest.mark.category``; the table is in
``docs/exercises/chat_broadcasting.md``), so you can meet every rule before
grading. Passing them is a good sign, not a grade: the graded suite checks more
instances of each.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, SubmissionError
from day25.course.protocol import FAULT_HEADER

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


def say(text: str) -> str:
    return json.dumps({"type": "message", "text": text})


async def enter(server: AppServer, ws: Any, others: tuple[Any, ...] = ()) -> None:
    """Skip the new member's roster and join, and the join the others hear."""
    await server.recv_json(ws, expecting="the roster")
    await server.recv_json(ws, expecting="the new member's own join (after the roster)")
    for other in others:
        await server.recv_json(other, expecting="the join of a new member")


def roster_hint(got: Any, users: list[str]) -> str:
    """Which rule a wrong roster broke, when that can be told from it (else "")."""
    if not isinstance(got, dict):
        return ""
    if got.get("type") == "join":
        return "The roster comes first, then the join that announces the new member. "
    listed = got.get("users")
    if got.get("type") != "roster" or not isinstance(listed, list):
        return ""
    if all(isinstance(u, str) for u in listed):
        if sorted(listed) == users and listed != users:
            return (f"It lists the right users, but in another order: the roster is sorted by "
                    f"code point, {users}. ")
        if sorted(set(listed)) == users and len(listed) > len(users):
            return "Each user is listed once, however many tabs they have open. "
    return ""


@pytest.mark.category("roster_and_join")
async def test_joining_sends_the_roster_first(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        first = await server.recv_json(ann, expecting="the roster")
        assert first == {"type": "roster", "room": "lobby", "users": ["ann"]}, (
            "After connecting to /chat/lobby?user=ann, the first frame should be "
            '{"type": "roster", "room": "lobby", "users": ["ann"]}. '
            f"{roster_hint(first, ['ann'])}Got {first}."
        )
        second = await server.recv_json(ann, expecting="ann's own join (after the roster)")
        assert second == {"type": "join", "room": "lobby", "user": "ann"}, (
            f"Next, ann should hear her own join. Got {second}."
        )
    # "no origin check": a page of another site connects like any other
    site = {"additional_headers": {"Origin": "http://localhost:5173"}}
    async with server.connect("/chat/attic?user=bob", **site) as bob:
        first = await server.recv_json(bob, expecting="the roster")
        assert first == {"type": "roster", "room": "attic", "users": ["bob"]}, (
            "A client sending Origin: http://localhost:5173 (a page of another site) is served "
            f"like any other: bob should get the roster of attic, got {first}.")


@pytest.mark.category("message")
async def test_a_message_reaches_everyone_including_the_sender(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        async with server.connect("/chat/lobby?user=bob") as bob:
            await enter(server, bob, (ann,))
            await bob.send(json.dumps({"type": "message", "text": "hi"}))
            want = {"type": "message", "room": "lobby", "user": "bob", "text": "hi", "seq": 1}
            for ws, who in ((bob, "bob (the sender)"), (ann, "ann")):
                got = await server.recv_json(ws, expecting=f"bob's message, sent to {who}")
                assert got == want, f"{who} should receive {want}. Got {got}."
            # "Whitespace is text", and 2000 characters as len() counts them, not UTF-8 bytes
            for seq, (text, what) in enumerate((("   ", '"   " (whitespace is text)'),
                                                ("\u00e9" * 2000, '2000 "\u00e9" (4000 bytes)')),
                                               start=2):
                await bob.send(json.dumps({"type": "message", "text": text}))
                got = await server.recv_json(bob, expecting=f"bob's message of {what}")
                assert got == {**want, "text": text, "seq": seq}, (
                    f"A message of {what} is a message like any other: a non-empty string of "
                    f"at most 2000 characters, as len() counts them. Got {str(got)[:200]}.")
                await server.recv_json(ann, expecting=f"bob's message of {what}, sent to ann")
    events = server.events("room.message")
    assert events and events[0]["args"] == [{"room": "lobby", "user": "bob", "text": "hi"}], (
        "Messages should go through app.events: emit 'room.message' with {room, user, text}, "
        "and broadcast from a listener. Use day25.install(app) so app.events is a day25 EventBus."
    )


@pytest.mark.category("bad_frame")
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        for bad, short, what in (
                ("this is not JSON", "a frame that is not JSON", "A frame that is not JSON"),
                (b'{"type": "ping"}', "a binary frame", "A binary frame, even one holding "
                                                         "valid JSON,"),
                ("[" * 100_000, "100,000 nested '['", "100,000 nested '[' (json.loads raises "
                                                     "RecursionError for it, not ValueError)"),
                (json.dumps({"type": "PING"}), "a type of 'PING'", "A type of 'PING' (types "
                                                                    "are exact: 'ping')")):
            await ann.send(bad)
            got = await server.recv_json(ann, expecting=f"the error frame {short} gets")
            assert got.get("type") == "error" and got.get("code") == "bad_frame", (
                f'{what} is a malformed frame: {{"type": "error", "code": "bad_frame", ...}}. '
                f"Got {str(got)[:200]}.")
            await ann.send(json.dumps({"type": "ping"}))
            got = await server.recv_json(ann, expecting=f"a pong (after {short})")
            assert got == {"type": "pong"}, f"The socket stays open after {short}; got {got}."
        # the message says what was wrong with that frame: not one fixed text for all
        said = {}
        for fault, frame in (("not JSON", "this is not JSON"),
                             ("an unknown type", json.dumps({"type": "shout", "text": "hi"})),
                             ("a text that is not a string", json.dumps({"type": "message",
                                                                         "text": 5}))):
            await ann.send(frame)
            got = await server.recv_json(ann, expecting=f"the error frame {fault} gets")
            said[fault] = got.get("message")
        assert len(set(map(str, said.values()))) == len(said), (
            "Each bad frame's error message says what was wrong with that frame (not JSON, "
            f"the type, the text: each a fault of its own, not one fixed text for all): {said}")
    errors = server.events("ws.error")
    assert errors, "A bad frame should also emit 'ws.error' on app.events."
    payload = errors[0]["args"]
    first = payload[0] if len(payload) == 1 and isinstance(payload[0], dict) else {}
    assert set(first) == {"room", "user", "error"} and (first["room"], first["user"]) == (
            "lobby", "ann"), (
        'ws.error carries {"room": R, "user": U, "error": "<what was wrong>"}: ann\'s bad frame '
        f"in the lobby gave {payload}.")


@pytest.mark.category("seq")
async def test_seq_counts_per_room_and_survives_an_empty_room(
        app_server: Server, second_app: Any) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        await ann.send(say("one"))
        got = await server.recv_json(ann, expecting="ann's message, sent to her too")
        assert got.get("seq") == 1, f"The first message of a room has seq 1; got {got}."
    # "two create_app() calls in one process ... share nothing": a second one counts from 1
    hi = [json.loads(say("hi"))]
    got = (await second_app(server, "/chat/lobby?user=dee", hi, 3))["frames"][2:]
    assert got and got[0].get("seq") == 1, (
        "A second create_app() in the same process (a notebook cell run again) has state of "
        "its own: its lobby's first message has seq 1, whatever the first app counted. Its "
        f"third frame was {got[:1]}. Keep the seq counters inside create_app.")
    async with server.connect("/chat/other?user=bob") as bob:
        await enter(server, bob)
        await bob.send(say("elsewhere"))
        got = await server.recv_json(bob, expecting="bob's message, sent to him too")
        assert got.get("seq") == 1, f"Every room counts its own seq from 1; got {got}."
    async with server.connect("/chat/lobby?user=cy") as cy:
        await enter(server, cy)
        await cy.send(say("two"))
        got = await server.recv_json(cy, expecting="cy's message")
        late = (" That is the leave of ann, who had closed her tab before cy came: a normal "
                "close must leave the room at once (not only a failed send)."
                if got.get("type") == "leave" and got.get("user") == "ann" else "")
        assert got.get("type") == "message", f"cy's next frame is her message; got {got}.{late}"
        assert got.get("seq") == 2, (
            "The lobby emptied when ann left, but its seq must not restart: the next message "
            f"there has seq 2. Got {got}."
        )


@pytest.mark.category("leave")
async def test_closing_the_last_tab_announces_the_leave(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        async with server.connect("/chat/lobby?user=bob") as bob:
            await enter(server, bob, (ann,))
        got = await server.recv_json(ann, expecting="bob's leave (he closed his only tab)")
        assert got == {"type": "leave", "room": "lobby", "user": "bob"}, (
            f"When bob closes his only tab, ann should get his leave; got {got}."
        )
        # read while ann is still in: her own leave, later, may be emitted before bob's
        # when bob's emit comes after his leave frame (a student's test: 7 runs in 12)
        left = await server.wait_for_event("chat.left")
    assert left[0]["args"] == [{"room": "lobby", "user": "bob"}], (
        f"A leave also emits chat.left with {{room, user}}; got {left[0]['args']}."
    )


@pytest.mark.category("two_tabs")
async def test_a_second_tab_is_not_a_second_user(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=bob") as bob:
        await enter(server, bob)
        async with server.connect("/chat/lobby?user=ann") as tab1:
            await enter(server, tab1, (bob,))
            async with server.connect("/chat/lobby?user=ann") as tab2:
                roster = await server.recv_json(tab2, expecting="the roster of ann's second tab")
                assert roster == {"type": "roster", "room": "lobby", "users": ["ann", "bob"]}, (
                    "ann's second tab gets a roster that lists her once: ['ann', 'bob']. "
                    f"{roster_hint(roster, ['ann', 'bob'])}Got {roster}."
                )
                await server.expect_silence(bob, 0.3)  # no second join for a second tab
            await bob.send(say("still there?"))
            got = await server.recv_json(bob, expecting=(
                "bob's message (closing one of ann's two tabs is no leave)"))
            assert got.get("type") == "message", (
                f"Closing one of ann's two tabs is not a leave; bob got {got}."
            )
        got = await server.recv_json(bob, expecting="ann's leave (she closed her last tab)")
        assert got == {"type": "leave", "room": "lobby", "user": "ann"}, (
            f"Closing ann's last tab is her leave; bob got {got}."
        )


@pytest.mark.category("normal_disconnect")
async def test_a_normal_disconnect_is_not_an_error(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
    await server.wait_for_event("chat.left")
    errors = server.events("ws.error")
    assert errors == [], (
        "Closing a socket normally (WebSocketDisconnect, or a websocket.disconnect message) is "
        f"a leave, not an error: no ws.error. Got {errors}."
    )
    await server.expect_no_traceback(
        "A normal disconnect must not raise in your server (catch WebSocketDisconnect, also "
        "around the sends to the leaving tab).")


@pytest.mark.category("bad_request")
async def test_a_bad_user_or_room_name_is_refused_with_4400(app_server: Server) -> None:
    server = app_server()
    for path, what in (("/chat/lobby?user=a%20b", "A user name with a space"),
                       ("/chat/lob!by?user=ann", "A room name with a '!'"),
                       ("/chat/lobby?user=zo%C3%AB", "A user name with an '\u00eb' (names are "
                                                     "ASCII: [A-Za-z0-9_.-], not \\w)"),
                       ("/chat/lobby?user=ann%0A", "A user name ending in a newline (ann%0A)")):
        async with server.connect(path) as ws:
            reply = await server.recv_json(ws, expecting="the bad_request error frame")
            assert reply.get("type") == "error" and reply.get("code") == "bad_request", (
                f"{what} should get "
                f'{{"type": "error", "code": "bad_request", ...}}; got {reply}.'
            )
            code, _ = await server.expect_close(ws)
            assert code == 4400, f"{what}: then the server closes with code 4400, not {code}."


@pytest.mark.category("dead_member")
async def test_a_dead_connection_leaves_and_the_room_goes_on(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        gone = {"additional_headers": {FAULT_HEADER: "raise:2"}}  # sends fail after 2 frames
        async with server.connect("/chat/lobby?user=bob", **gone) as bob:
            await enter(server, bob, (ann,))
            await ann.send(say("hello"))
            got = [await server.recv_json(ann, expecting="ann's own message"),
                   await server.recv_json(ann, expecting="bob's leave (sending to him failed)")]
            assert got[0].get("text") == "hello", f"ann should still get her message; got {got}."
            assert got[1] == {"type": "leave", "room": "lobby", "user": "bob"}, (
                "bob's connection is gone (sending to it raises): drop him and announce his "
                f"leave, after the message. ann got {got}."
            )
            await ann.send(say("again"))
            got = [await server.recv_json(ann, expecting="ann's next message: the room goes on")]
            assert got[0].get("text") == "again", f"The room goes on; ann got {got}."


@pytest.mark.category("slow_member")
async def test_a_member_that_stops_reading_is_dropped(app_server: Server, second_app: Any
                                                      ) -> None:
    server = app_server(send_timeout=0.2)  # and a second app's 60 s is its own ("share nothing")
    await second_app(server, "/chat/attic?user=dee", [], 2, send_timeout=60.0)
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        stalled = {"additional_headers": {FAULT_HEADER: "stall:2"}}  # reads 2 frames, no more
        async with server.connect("/chat/lobby?user=bob", **stalled) as bob:
            await enter(server, bob, (ann,))
            await ann.send(say("hello"))
            got = [await server.recv_json(ann, expecting="ann's own message"),
                   await server.recv_json(ann, expecting=(
                       "bob's leave: bob stopped reading, so a send to him never finishes; "
                       "after send_timeout seconds (0.2, this app's: a second app's 60 is its "
                       "own) drop him and announce his leave"))]
            assert got[0].get("text") == "hello", f"ann should still get her message; got {got}."
            assert got[1] == {"type": "leave", "room": "lobby", "user": "bob"}, (
                "bob stopped reading: a send to him never finishes. After send_timeout seconds "
                f"drop him and announce his leave. ann got {got}."
            )


@pytest.mark.category("slow_member")
async def test_members_dropped_together_are_not_sent_each_others_leave(
        app_server: Server) -> None:
    server = app_server(send_timeout=0.2)
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        # bob reads his roster, his join and cy's join; cy her roster and her join
        bob_stalls = {"additional_headers": {FAULT_HEADER: "stall:3"}}
        cy_stalls = {"additional_headers": {FAULT_HEADER: "stall:2"}}
        async with contextlib.AsyncExitStack() as tabs:  # cy once bob is in: a join may be slow
            bob = await tabs.enter_async_context(
                server.connect("/chat/lobby?user=bob", **bob_stalls))
            await enter(server, bob, (ann,))
            cy = await tabs.enter_async_context(server.connect("/chat/lobby?user=cy", **cy_stalls))
            await enter(server, cy, (ann, bob))
            await ann.send(say("hello"))
            got = [await server.recv_json(ann, expecting=what) for what in (
                "ann's own message", "the first of bob's and cy's leaves (both stopped reading)",
                "the second of bob's and cy's leaves (both stopped reading)")]
            assert got[0].get("text") == "hello", f"ann should still get her message; got {got}."
            leaves = sorted(got[1:], key=lambda f: str(f.get("user")))
            want = [{"type": "leave", "room": "lobby", "user": u} for u in ("bob", "cy")]
            assert leaves == want, (
                f"bob and cy both stopped reading: both are dropped and leave. ann got {got}."
            )
            faults = server.faults()
            assert faults.get("stalled_at_once") == 2, (
                "bob's and cy's sends of ann's message stalled one after the other "
                f"({faults.get('stalled_at_once')} at once at most): send to every member side "
                "by side, so that the room waits one send_timeout however many stall")
            stalled = faults.get("stall")
            assert stalled == 2, (
                f"bob and cy stopped reading, and the server tried {stalled} sends to them, not 2: "
                "forget every member a broadcast dropped before announcing any of their leaves. "
                "Otherwise bob's leave is sent to cy, who is stalled too, and the room waits "
                "send_timeout once more for every member that stalled."
            )


@pytest.mark.category("ping")
async def test_ping_gets_pong(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await enter(server, ann)
        async with server.connect("/chat/lobby?user=bob") as bob:
            await enter(server, bob, (ann,))
            await ann.send(json.dumps({"type": "ping"}))
            got = await server.recv_json(ann, expecting="the pong")
            assert got == {"type": "pong"}, (
                f'{{"type": "ping"}} gets {{"type": "pong"}}; got {got}.')
            try:
                await server.expect_silence(bob, 0.3)
            except SubmissionError as exc:
                raise AssertionError(f"The pong is ann's alone, not the room's: {exc}") from None


@pytest.mark.category("model")
async def test_a_mixed_session(app_server: Server) -> None:
    """Several rules at once, as the graded suite's random sessions mix them: two users whose
    names differ only by case, a second tab, a message, a bad frame, a ping and two closes."""
    server = app_server()
    async with server.connect("/chat/a?user=ann") as ann:
        await enter(server, ann)
        async with server.connect("/chat/a?user=Ann") as big:
            roster = await server.recv_json(big, expecting="Ann's roster")
            assert roster == {"type": "roster", "room": "a", "users": ["Ann", "ann"]}, (
                '"ann" and "Ann" are two users, sorted by code point: ["Ann", "ann"]. '
                f"{roster_hint(roster, ['Ann', 'ann'])}Got {roster}.")
            await server.recv_json(big, expecting="Ann's own join")
            await server.recv_json(ann, expecting="Ann's join, sent to ann")
            async with server.connect("/chat/a?user=ann") as tab2:
                await server.recv_json(tab2, expecting="the roster of ann's second tab")
                await big.send(say("hi"))
                want = {"type": "message", "room": "a", "user": "Ann", "text": "hi", "seq": 1}
                for ws, who in ((ann, "ann"), (big, "Ann"), (tab2, "ann's second tab")):
                    got = await server.recv_json(ws, expecting=f"Ann's message, sent to {who}")
                    assert got == want, f"every tab in the room gets {want}; got {got}."
                await tab2.send(b"binary")
                got = await server.recv_json(tab2, expecting="the error frame a binary frame gets")
                assert got.get("type") == "error" and got.get("code") == "bad_frame", (
                    f"a binary frame gets a bad_frame error; got {got}.")
            await ann.send(json.dumps({"type": "ping"}))
            got = await server.recv_json(
                ann, expecting="the pong (closing one of ann's two tabs sends nothing)")
            assert got == {"type": "pong"}, (
                "closing one of ann's two tabs sends nothing: the next frame is the pong; "
                f"got {got}.")
        got = await server.recv_json(ann, expecting="Ann's leave (she closed her only tab)")
        assert got == {"type": "leave", "room": "a", "user": "Ann"}, (
            f"Ann closed her only tab: ann hears her leave; got {got}.")
