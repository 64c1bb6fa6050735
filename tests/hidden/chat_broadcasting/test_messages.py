"""Exercise 3, chat_broadcasting: messages, their order and seq, and random sessions.

One module of the exercise's graded suite (every ``test_*.py`` in this folder), over
real WebSockets to the submission's app. Every member gets every message, the sender
too, all in one order, a slow reader within ``send_timeout`` included, numbered by a
per-room seq that never restarts; a later ``room.message`` listener sees the payload as
it was emitted; and random sessions mixing every rule are compared frame by frame with
the model (``chat_model.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, load_beside

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


_frames = load_beside(__file__, "chat_frames")
_model = load_beside(__file__, "chat_model")
_waiting = load_beside(__file__, "chat_waiting")
CHANGED_WHILE_WAITING_PROBE = _waiting.CHANGED_WHILE_WAITING_PROBE
SNAPSHOT_AT_START_PROBE = _waiting.SNAPSHOT_AT_START_PROBE
ROSTER_FIRST_PROBE = _waiting.ROSTER_FIRST_PROBE
GOOD_TEXTS = _frames.GOOD_TEXTS
SAY_AND_CLOSE_PROBE = _frames.SAY_AND_CLOSE_PROBE
SAY_AND_CLOSE_WANTED = _frames.SAY_AND_CLOSE_WANTED
chat = _frames.chat
expect = _frames.expect
faulty = _frames.faulty
join = _frames.join
joined = _frames.joined
msg = _frames.msg
say = _frames.say
TABS = _frames.TABS
SESSION_SEEDS, SESSION_STEPS = (1, 2), 30
IDLE_ROOMS = 33  # rooms that empty after the lobby, in the seq test
BUSY_SEQ = 110  # the lobby's messages in all, in the seq test

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

# "a member that reads slowly but takes each frame within `send_timeout` ... gets every
# frame": ann's first frame of bob's burst of 270 messages waits at her gate (a few loop
# turns, far inside send_timeout) while the rest arrive; however many wait, none is lost
# (a bounded mailbox or queue of 256 drops the oldest), each in order with its seq
BURST_PROBE = TABS + """
BURST = 270


async def probe(module):
    app = module.create_app()
    ann, bob = await ann_then_bob(app)
    ann.hold_at = ann.sent  # the burst's first message waits at ann's gate
    for i in range(BURST):
        bob.say(f"m{i}")
    await turns(ann.held.is_set)
    await turns(bob.inbox.empty, n=2000)
    ann.gate.set()  # nothing held now: a slow room may take its time (a few ms a message)
    await turns(lambda: len(ann.frames) >= 3 + BURST and len(bob.frames) >= 2 + BURST, n=20000,
                patience=2.0)

    def told(tab):
        got = [[f.get("seq"), f.get("text")] for f in tab.frames if f.get("type") == "message"]
        return [len(got), got == [[i + 1, f"m{i}"] for i in range(BURST)]]

    return await finish([ann, bob], {"ann": told(ann), "bob": told(bob)})
"""
BURST_WANTED = {"ann": [270, True], "bob": [270, True]}

# Rooms at volume, on a fresh app: bob's send of ann's "one" waits at his gate while one tab
# opens in each of 130 other rooms, then dee joins the lobby and says "two". "Every member
# sees a room's frames in the same order": the lobby's later frames wait for "one" (a room's
# lock or worker kept in a bounded cache, lru_cache's 128, is forgotten while held, and the
# next one goes out beside it). And "The new connection's first frame is the roster" in
# every room (a listener registered per room hits Nexios' limit of 100 listeners of one event)
MANY_ROOMS_PROBE = TABS + """
ROOMS = 130


async def probe(module):
    app = module.create_app()
    ann, bob = await ann_then_bob(app, hold_at=2)  # his roster, his join, then ann's "one" waits
    ann.say("one")
    await turns(bob.held.is_set)
    tabs = [Tab(app, "cy", f"r{i:03}") for i in range(ROOMS)]
    await turns(lambda: all(len(tab.frames) >= 2 for tab in tabs), n=1000)
    dee = Tab(app, "dee")
    await turns(lambda: len(dee.frames) >= 2, n=100)
    dee.say("two")
    await turns(lambda: len(bob.frames) >= 4, n=100)
    bob.gate.set()
    await turns(lambda: len(bob.frames) >= 5 and len(ann.frames) >= 6, n=1000)
    tabs[-1].say("last")
    await turns(lambda: len(tabs[-1].frames) >= 3)
    await turns(n=20)
    firsts = [[["roster", "cy"], {"type": "join", "room": f"r{i:03}", "user": "cy"}]
              for i in range(ROOMS)]
    out = {"rooms without roster and join": [
        first[1]["room"] for tab, first in zip(tabs, firsts) if seen(tab)[:2] != first],
           "the last room": seen(tabs[-1])[2:], "ann": seen(ann)[3:], "bob": seen(bob)[2:]}
    return await finish([ann, bob, dee, *tabs], out)
"""
# "`N` is a per-room counter ... kept for as long as the server runs": it counts the room's
# messages, not their deliveries: ann alone says "one" (seq 1), then "two", whose only send
# fails (she is dropped); bob joins and says "three", which is seq 3 (a counter advanced only
# when somebody took the message would give "two"'s number back)
UNDELIVERED_SEQ_PROBE = TABS + """
async def probe(module):
    app = module.create_app()
    ann = Tab(app, "ann", hold_at=3, fail_held=True)  # her roster, join, "one"; "two" fails
    ann.gate.set()
    await turns(lambda: len(ann.frames) >= 2)
    ann.say("one")
    await turns(lambda: len(ann.frames) >= 3)
    ann.say("two")
    await turns(ann.held.is_set)
    await turns(ann.task.done, n=1000)
    bob = Tab(app, "bob")
    await turns(lambda: len(bob.frames) >= 2)
    bob.say("three")
    await turns(lambda: len(bob.frames) >= 3)
    said = [f for f in bob.frames if f.get("type") == "message"]
    return await finish([ann, bob], said)
"""
UNDELIVERED_SEQ_WANTED = [msg("bob", "three", 3)]
LOBBY_AFTER = [msg("ann", "one", 1), joined("dee"), msg("dee", "two", 2)]
MANY_ROOMS_WANTED = {"rooms without roster and join": [],
                     "the last room": [msg("cy", "last", 1, "r129")],
                     "ann": LOBBY_AFTER, "bob": LOBBY_AFTER}


@pytest.mark.points(2)
@pytest.mark.category("message")
async def test_message_reaches_every_member_including_sender(app_server: Server) -> None:
    server = app_server()
    async with contextlib.AsyncExitStack() as stack:
        ann = await stack.enter_async_context(server.connect(chat("ann")))
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        # bob connects once ann's join is out: a slow join is not a race of two
        bob = await stack.enter_async_context(server.connect(chat("bob")))
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
    # a room of one is a room like any other ("Serialise the broadcast with `json.dumps`",
    # "relay it like any other"): no fast path for a lone member that sends raw UTF-8
    async with server.connect(chat("dee", "attic")) as dee:
        await join(server, dee, "attic", "dee", ["dee"])
        await expect(server, dee, joined("dee", "attic"), "dee joins the attic")
        await dee.send(say("\ud800 alone"))
        await expect(server, dee, msg("dee", "\ud800 alone", 1, "attic"),
                     "a lone surrogate from a member alone in a room comes back to her, "
                     "escaped by json.dumps (as it would with others in the room)")


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
            for name, ws in zip(["sam", *names], (sam, *conns), strict=True):
                first = await server.recv_json(ws)
                assert first.get("type") == "roster", (
                    f"{name}'s first frame is the roster (no broadcast reaches a tab before its "
                    f"roster, while others join at the same time); got {first}")
            senders = conns
            await asyncio.gather(*(ws.send(say(f"from {i}")) for i, ws in enumerate(senders)))
            seen: list[list[Any]] = []
            for ws in [ann, sam, *conns]:
                frames: list[Any] = []
                while len([f for f in frames if f.get("type") == "message"]) < len(senders):
                    frames.append(await server.recv_json(ws))
                assert not any(f.get("type") == "leave" for f in frames), (
                    "nobody leaves, not even the slow reader, who takes each frame within "
                    f"send_timeout (time spent waiting for his earlier frames is not his): "
                    f"{frames}"
                )
                assert all(f.get("type") in ("join", "message") for f in frames), (
                    "after its roster a member gets joins and messages here, nothing else: "
                    f"{frames}")
                seen.append([f for f in frames if f["type"] == "message"])
            assert all(s == seen[0] for s in seen), f"members saw different orders: {seen}"
            assert sorted(f["text"] for f in seen[0]) == [f"from {i}" for i in range(6)]
            assert [f["seq"] for f in seen[0]] == [1, 2, 3, 4, 5, 6], (
                f"seq follows the order: {seen[0]}")
    # a room that changes while a broadcast waits on one member (chat_waiting
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
    # ... and a message goes out to the room as it is when its broadcast starts, not as it
    # was when the message arrived (chat_waiting.SNAPSHOT_AT_START_PROBE)
    got = await server.probe(SNAPSHOT_AT_START_PROBE)
    assert isinstance(got, dict) and isinstance(got.get("dee"), list), got
    dee_saw = got["dee"]
    # the probe's own check: a tab that got a frame noted when (else this test proves nothing)
    assert (got["two out before dee's roster"] is None) == (not dee_saw), got
    if got["two out before dee's roster"] is False and dee_saw[:1] and "dee" in dee_saw[0][1:]:
        assert any(isinstance(f, dict) and f.get("text") == "two" for f in dee_saw), (
            "dee connected while ann's message waited on bob, then cy said 'two'. dee's roster "
            "(the room as it is when it is sent: dee in it) came before 'two' went out to "
            "anyone, so 'two' was broadcast to a room with dee in it: the snapshot is taken "
            "when the broadcast starts, not when its message arrived; dee got "
            f"{dee_saw}, ann got {got['ann']}")
    # ... and nothing reaches a tab before its roster, not even a message that was waiting
    # for the room as the tab arrived (chat_waiting.ROSTER_FIRST_PROBE)
    dee_saw = await server.probe(ROSTER_FIRST_PROBE)
    assert isinstance(dee_saw, list) and dee_saw[:1] and dee_saw[0][:1] == ["roster"], (
        "dee connected while cy's 'two' waited for the room (ann's message still waited on "
        "bob): a new connection's first frame is its roster, whatever waits; a tab joined to "
        f"the room before its roster is sent gets a broadcast first. dee got {dee_saw}")
    got = await server.probe(BURST_PROBE)
    assert got == BURST_WANTED, (
        "bob sends 270 messages at once while ann's first one waits at her gate (a few loop "
        "turns, far inside send_timeout): every member gets every message, in order, seq 1 to "
        f"270, however many wait (none dropped from a bounded queue); [count, in order]: {got}")


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
    got = await server.probe(MANY_ROOMS_PROBE)
    assert got == MANY_ROOMS_WANTED, (
        "ann's \"one\" waits on bob while a tab opens in each of 130 other rooms (r000 to "
        "r129), then dee joins the lobby and says \"two\": each of the 130 gets its roster and "
        "join, a message in the last one reaches it (no limit of 100 rooms), and ann and bob "
        "see the lobby's frames in one order, dee's join and \"two\" after \"one\" (the "
        "lobby's order kept however many rooms were used since); "
        f"wanted {MANY_ROOMS_WANTED}, got {got}")
    got = await server.probe(UNDELIVERED_SEQ_PROBE)
    assert got == UNDELIVERED_SEQ_WANTED, (
        "ann, alone in the lobby, says \"one\" (seq 1), then \"two\", whose send to her fails "
        "(she is dropped); bob joins and says \"three\": every message of the room takes the "
        "next seq, one nobody got too, so bob's is seq 3; "
        f"wanted {UNDELIVERED_SEQ_WANTED}, got {got}")


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
    (chat_model.py, beside this file). Fixed seeds: every submission gets the same sessions."""
    for seed in SESSION_SEEDS:
        server = app_server()
        async with contextlib.AsyncExitStack() as stack:
            await _model.Session(server, seed).run(stack, steps=SESSION_STEPS)
