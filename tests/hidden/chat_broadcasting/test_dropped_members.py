"""Exercise 3, chat_broadcasting: members whose connection dies or whose send fails.

One module of the exercise's graded suite (every ``test_*.py`` in this folder), over
real WebSockets to the submission's app, faults injected per connection
(``chat_frames.faulty``). A member whose connection dies, or whose send raises whichever
frame it carried, is dropped and leaves once, like one that closed, and the room goes on;
``broadcast``'s own contract (a copy of ``conns``, the failed members returned) is probed
on the app's module.
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
BROADCAST_PROBE = _contract.BROADCAST_PROBE
chat = _frames.chat
exactly_left = _frames.exactly_left
expect = _frames.expect
faulty = _frames.faulty
join = _frames.join
joined = _frames.joined
left = _frames.left
msg = _frames.msg
say = _frames.say


@pytest.mark.points(2)
@pytest.mark.category("dead_member")
async def test_a_dying_connection_leaves_and_the_room_goes_on(app_server: Server) -> None:
    server = app_server()
    async with contextlib.AsyncExitStack() as stack:
        ann = await stack.enter_async_context(server.connect(chat("ann")))
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        # cy connects once ann's join is out: a slow join is not a race of two
        cy = await stack.enter_async_context(server.connect(chat("cy")))
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


@pytest.mark.points(3)
@pytest.mark.category("dead_member")
async def test_a_member_whose_send_fails_is_dropped_and_leaves_once(
    app_server: Server,
) -> None:
    server = app_server()
    assert await server.probe(ASYNC_AUDIT_PROBE) == "listening"
    async with contextlib.AsyncExitStack() as stack:
        ann = await stack.enter_async_context(server.connect(chat("ann")))
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        # cy connects once ann's join is out: a slow join is not a race of two
        cy = await stack.enter_async_context(server.connect(chat("cy")))
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
    await assert_audited(server, {"chat.joined": 5, "chat.left": 5, "room.message": 3})
    # "A connection that dies (no closing handshake, or a send to it fails) leaves like one
    # that closed": one that closed is no ws.error (that event is a malformed frame's only)
    errors = server.events("ws.error")
    assert errors == [], (
        "a member dropped because a send to it failed leaves like one that closed: no "
        f"ws.error for it (ws.error is for a malformed frame from the sender); got {errors[:2]}")
    await server.expect_no_traceback(
        "a dropped member's socket closing must not raise in your server")


@pytest.mark.points(2)
@pytest.mark.category("dead_member")
async def test_a_member_whose_join_or_leave_send_fails_is_dropped(app_server: Server) -> None:
    """A join or leave frame is a broadcast like a message: "A connection that dies
    (no closing handshake, or a send to it fails) leaves like one that closed", and "a
    member ... whose send raises, is dropped", whichever frame that send carried."""
    server = app_server()
    async with contextlib.AsyncExitStack() as stack:
        ann = await stack.enter_async_context(server.connect(chat("ann")))
        await join(server, ann, "lobby", "ann", ["ann"])
        await server.recv_json(ann)
        # cy connects once ann's join is out: a slow join is not a race of two
        cy = await stack.enter_async_context(server.connect(chat("cy")))
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
            for ws in (ann, cy):  # before hal connects: his third send is then ann's message
                await expect(server, ws, joined("ivy"), "ivy joins")
            async with server.connect(chat("hal"), **faulty("raise:2")) as hal:
                await join(server, hal, "lobby", "hal", ["ann", "cy", "hal", "ivy"])
                for ws in (ann, cy):
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
    after = got["the caller's conns after"]
    assert after == [["slow", "gone", "ann"], ["ann", "gone"]], (
        "broadcast leaves the conns it was given as they were, a list or a set: it returns "
        "the member whose send failed and removes nobody from the caller's collection "
        "(the caller drops the returned members); the list [slow, gone, ann] and the set "
        f"{{gone, ann}} became {after}")
    plain = got["plain send_text callables"]
    assert plain == {"returned": ["gone", "stuck"],
                     "got": {"ann": [frame], "gone": [], "stuck": []}}, (
        "broadcast awaits what `conn.send_text(text)` returns, whatever send_text is: with "
        "send_text a plain lambda returning the coroutine, the member that takes it gets the "
        "frame, and the one whose send raises and the one whose send never finishes (timeout "
        f"0.1) are returned; got {plain}")
    before = got["a member that failed before"]
    assert before == {"returned": [["flaky"], []],
                      "got": {"flaky": [frame], "ann": [frame, frame]}}, (
        "each broadcast sends to every connection in its conns: flaky's send fails in one "
        "broadcast to [flaky, ann] and works in the next, so the first returns [flaky] and the "
        "second sends flaky the frame and returns [] (broadcast keeps no list of members that "
        f"failed before: the caller decides who stays); got {before}")
    both = got["two at once"]
    assert both == {"x": ["dead_x", "held"], "y": ["dead_y"]}, (
        "two broadcasts running at once (two rooms) each return the failed members of their "
        "own conns: x, sent to [dead_x, held], returns both (dead_x raises at once, held "
        "later, once y has ended), and y, sent to [dan, dead_y], returns [dead_y]: they share "
        f"no list of failures; got {both}")
