"""Exercise 3, chat_broadcasting: members that stall, bounded by ``send_timeout``.

One module of the exercise's graded suite (every ``test_*.py`` in this folder), over
real WebSockets to the submission's app, faults injected per connection. A member that
does not take a frame (a message, a join or a leave) within ``create_app``'s
``send_timeout`` is dropped, closed with 1011, and leaves; however many stall, their
sends run side by side and cost one timeout. Counted, not timed, wherever load could
change a timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer, load_beside

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


_frames = load_beside(__file__, "chat_frames")
chat = _frames.chat
counted = _frames.counted
exactly_left = _frames.exactly_left
expect = _frames.expect
faulty = _frames.faulty
join = _frames.join
joined = _frames.joined
left = _frames.left
msg = _frames.msg
say = _frames.say
TABS = _frames.TABS

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
    # "each send bounded by `timeout`": a send out of time is ended (cancelled) by the time
    # broadcast returns, not left running after it (a cancel() alone only asks: the send
    # ends a turn later, unless broadcast awaits it)
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

# "members dropped by one broadcast leave **together**", however many: the sends of ann's
# message to ten users wait at their gates, then all raise; each of the ten "leaves as if it
# had closed": ann gets her message and ten leaves (a cascade capped at 8 rounds forgets the
# rest), on a fresh app over ASGI in the app's process (counted, not timed)
DROPPED_TOGETHER_PROBE = TABS + """
DROPPED = 10


async def probe(module):
    app = module.create_app()
    ann = Tab(app, "ann")
    await turns(lambda: len(ann.frames) >= 2)
    others = []
    for i in range(DROPPED):
        others.append(Tab(app, f"u{i:02}", fail_held=True))
        await turns(lambda: len(ann.frames) >= 3 + i)
    await turns(lambda: all(len(t.frames) >= 1 + DROPPED - i for i, t in enumerate(others)))
    for tab in others:
        tab.hold_at = tab.sent  # ann's message waits here, then raises
    ann.say("hi")
    await turns(lambda: all(tab.held.is_set() for tab in others))
    for tab in others:
        tab.gate.set()
    await turns(lambda: len(ann.frames) >= 3 + 2 * DROPPED, n=1000)
    await turns(n=50)
    after = seen(ann)[2 + DROPPED:]
    out = {"first": after[:1], "frames": len(after),
           "leaves": sorted(f.get("user") for f in after[1:] if f.get("type") == "leave")}
    return await finish([ann, *others], out)
"""
DROPPED_TOGETHER_WANTED = {"first": [msg("ann", "hi", 1)], "frames": 11,
                           "leaves": [f"u{i:02}" for i in range(10)]}


# broadcast as a library call, "broadcast(conns, frame, *, timeout=SEND_TIMEOUT)", by another
# caller than the app: its arguments by keyword, members that are test doubles (a dataclass:
# equal when their fields are, so unhashable; "every connection in conns" is each of them),
# and the default timeout left as it is, on a clock that skips waits (virtual_clock.py), so
# the stalled one costs no real time: it is returned after SEND_TIMEOUT, not waited for
BROADCAST_CALLERS_PROBE = """
import asyncio
import dataclasses
import threading

from day25.course.inside.virtual_clock import VirtualClockLoop


@dataclasses.dataclass
class Fake:
    name: str
    stalls: bool = False
    got: list = dataclasses.field(default_factory=list)

    async def send_text(self, text):
        if self.stalls:
            await asyncio.sleep(3600)
        self.got.append(text)


async def calls(module):
    out = {}
    a, b = Fake("a"), Fake("a")
    try:
        failed = await module.broadcast(conns=[a, b], frame={"type": "pong"})
        out["by keyword, two equal doubles"] = [len(failed), len(a.got), len(b.got)]
    except Exception as exc:
        out["by keyword, two equal doubles"] = f"{type(exc).__name__}: {exc}"[:200]
    try:
        failed = await module.broadcast([Fake("s", stalls=True)], {"type": "pong"})
        out["the default timeout"] = [getattr(f, "name", repr(f)) for f in failed]
    except Exception as exc:
        out["the default timeout"] = f"{type(exc).__name__}: {exc}"[:200]
    return out


def probe(module):
    box = {}

    def run():
        try:
            with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
                box["out"] = runner.run(calls(module))
        except BaseException as exc:
            box["out"] = f"{type(exc).__name__}: {exc}"[:300]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(2.0)
    return box.get("out", "broadcast did not finish in 2 s")
"""
BROADCAST_CALLERS_WANTED = {"by keyword, two equal doubles": [0, 1, 1],
                            "the default timeout": ["s"]}


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
        # a reply is no broadcast, but a stalled one holds nothing of the room's either: lee
        # takes her roster and join, stops reading and pings; her pong's send is stuck (or,
        # bounded by send_timeout, has already dropped her) when dan speaks, and his message
        # reaches everyone else, with her leave before or after it (chat's bug_328)
        lee = await stack.enter_async_context(server.connect(chat("lee"), **faulty("stall:2")))
        await join(server, lee, "lobby", "lee", ["ann", "dan", "lee"])
        for ws in (ann, dan):
            await expect(server, ws, joined("lee"), "lee joins")
        await lee.send(json.dumps({"type": "ping"}))
        await server.settled()
        await dan.send(say("after a stuck pong"))
        wanted = [msg("dan", "after a stuck pong", 3), left("lee")]
        for ws in (ann, dan):
            got = [await server.recv_json(ws, expecting="dan's message after lee's stuck pong, "
                                          "and lee's leave") for _ in wanted]
            assert counted(got) == counted(wanted), (
                "a member whose pong is stuck holds up no one else's message, and is dropped "
                f"once a send to her takes send_timeout: wanted {wanted} in either order, "
                f"got {got}")
        async with server.connect(chat("kim")) as kim:
            await join(server, kim, "lobby", "kim", ["ann", "dan", "kim"])
    got = await server.probe(BROADCAST_CALLERS_PROBE)
    assert got == BROADCAST_CALLERS_WANTED, (
        "broadcast(conns, frame, *, timeout=SEND_TIMEOUT) called as a library: by keyword "
        "(conns=..., frame=...), to two test doubles that are equal and unhashable (each is a "
        "connection of its own: both get the frame), and then with the default timeout to one "
        "that never takes the frame (returned after SEND_TIMEOUT, not waited for); wanted "
        f"{BROADCAST_CALLERS_WANTED}, got {got}")
    got = await server.probe(MANY_STALLED_PROBE)
    wanted = {"stalled at once": 20, "returned": [f"s{i:02}" for i in range(20)],
              "got": {"ann": [msg("ann", "hi", 1)], "bob": [msg("ann", "hi", 1)]},
              "still running after": 0, "a lone stalled member": ["lone"]}
    assert got == wanted, (
        "broadcast(conns, frame, timeout=0.1) to 20 members that never take the frame and two "
        "that do: every send is under way at once (\"however many members stall\", the whole "
        "broadcast takes about one timeout: no cap on the sends in flight), the 20 are "
        "returned and the other two get the frame, their sends ended (cancelled) by the time "
        "broadcast returned, not left running after it; and a lone member that never takes the "
        f"frame is returned after that timeout too; wanted {wanted}, got {got}")
    got = await server.probe(DROPPED_TOGETHER_PROBE)
    assert got == DROPPED_TOGETHER_WANTED, (
        "the sends of ann's message to ten other users all raise: the ten are dropped together "
        "and each leaves, however many they are: ann gets her message, then ten leaves; "
        f"wanted {DROPPED_TOGETHER_WANTED}, got {got}")


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
    # counted, not timed: dee and cy, dropped by one broadcast (bob's leave), "leave
    # **together**: forget every one of them before announcing any of their leaves, so that no
    # leave is sent to a member that is itself being dropped": neither is sent the other's
    # leave (one send failed for bob, one for dee, one stalled for cy, and no more)
    faults = server.faults()
    assert (faults["raise"], faults["stall"]) == (2, 1), (
        "dee and cy, dropped together by the broadcast of bob's leave, are both forgotten "
        "before either leave is announced: neither is sent the other's leave (that send would "
        f"fail or stall again); sends that raised: {faults['raise']} (wanted 2: bob's, dee's), "
        f"sends that stalled: {faults['stall']} (wanted 1: cy's)")


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
