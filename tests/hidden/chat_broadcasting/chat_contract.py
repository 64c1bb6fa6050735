"""Exercise 3's suite: ``broadcast``'s own contract, probed on fake members, and an
async listener of the app's events.

``test_dropped_members.test_broadcast_returns_the_failed_members_of_its_snapshot`` runs
:data:`BROADCAST_PROBE` in the submission's process (``server.probe``) and checks what it
returns; the probe calls the module's ``broadcast`` directly, never through the app.
:data:`ASYNC_AUDIT_PROBE` adds another module's coroutine listeners to ``app.events``, and
:func:`assert_audited` checks that they heard every event the app emitted.
"""

from __future__ import annotations

from typing import Any

from day25.course.harness import load_beside

counted = load_beside(__file__, "chat_frames").counted

# broadcast's own contract, on fake members (the app only ever hands it a fresh list):
# "Work on a copy of `conns`" (any iterable: a generator can be read once; a list the
# sends change is read as it was) and "return the members whose send failed" (a list); a
# send that raises at once ends no other send ("every other member still gets the frame":
# not asyncio.wait(..., return_when=FIRST_EXCEPTION), which leaves a slower one unfinished)
BROADCAST_PROBE = """
import asyncio
import json


class Member:
    def __init__(self, name, fails=False, delay=0.0):
        self.name, self.fails, self.delay, self.got, self.on_send = name, fails, delay, [], None

    async def send_text(self, text):
        if self.on_send is not None:
            self.on_send()
        if self.fails:
            raise OSError("the connection is gone")
        if self.delay:
            await asyncio.sleep(self.delay)  # a member that takes the frame a little later
        self.got.append(json.loads(text))
        return len(text)  # a send may return something (a byte count): it took the frame

    def __repr__(self):
        return self.name


async def probe(module):
    broadcast = getattr(module, "broadcast", None)
    if not callable(broadcast):
        return "the module has no broadcast(conns, frame, *, timeout)"
    frame = {"type": "message", "room": "lobby", "user": "ann", "text": "hi", "seq": 1}
    out = {}
    try:  # nobody to send to: nobody failed
        failed = await broadcast([], frame, timeout=2.0)
        out["nobody"] = ["a list" if isinstance(failed, list) else type(failed).__name__,
                         sorted(repr(m) for m in failed)]
    except Exception as exc:
        out["nobody"] = f"{type(exc).__name__}: {exc}"
    for case in ("a generator", "a list changed by a send"):
        ann, gone, bob, cy = Member("ann"), Member("gone", fails=True), Member("bob"), Member("cy")
        if case == "a generator":
            conns = (m for m in (ann, gone, bob))
        else:
            conns = [ann, gone, bob]

            def join_and_leave(conns=conns, bob=bob, cy=cy):
                if cy not in conns:  # cy joins and bob leaves while the broadcast runs
                    conns.insert(0, cy)
                    conns.remove(bob)

            ann.on_send = join_and_leave
        try:
            failed = await broadcast(conns, frame, timeout=2.0)
            kind = "a list" if isinstance(failed, list) else type(failed).__name__
            returned = [kind, sorted(repr(m) for m in failed)]
        except Exception as exc:
            returned = f"{type(exc).__name__}: {exc}"
        got = {m.name: m.got for m in (ann, gone, bob, cy)}
        out[case] = {"returned": returned, "got": got}
    # the failing send raises at once; slow takes the frame 0.05 s later, well within timeout
    ann, gone, slow = Member("ann"), Member("gone", fails=True), Member("slow", delay=0.05)
    conns = [slow, gone, ann]
    try:
        failed = await broadcast(conns, frame, timeout=2.0)
        returned = sorted(repr(m) for m in failed)
    except Exception as exc:
        returned = f"{type(exc).__name__}: {exc}"
    out["a slow member beside a failing one"] = {
        "returned": returned, "got": {m.name: m.got for m in (ann, gone, slow)}}
    # the caller's conns, a list or a set, is as it was: the failed member is returned, not
    # removed from it behind the caller's back (dropping it is the caller's job)
    kept = {Member("gone", fails=True), Member("ann")}
    try:
        await broadcast(kept, frame, timeout=2.0)
    except Exception as exc:
        kept = {f"{type(exc).__name__}: {exc}"}
    out["the caller's conns after"] = [[repr(m) for m in conns], sorted(repr(m) for m in kept)]
    # "await conn.send_text(text)": awaited whatever send_text is (here a plain lambda that
    # returns the coroutine, as a wrapper would), so the frame arrives, and a send that
    # raises or never finishes is returned (not only when send_text is an `async def`)
    ann, gone, stuck = Member("ann"), Member("gone", fails=True), Member("stuck", delay=60.0)
    for member in (ann, gone, stuck):
        member.send_text = (lambda send: lambda text: send(text))(member.send_text)
    try:
        failed = await asyncio.wait_for(broadcast([ann, gone, stuck], frame, timeout=0.1), 2.0)
        returned = sorted(repr(m) for m in failed)
    except asyncio.TimeoutError:
        returned = "broadcast still running after 2 s"
    except Exception as exc:
        returned = f"{type(exc).__name__}: {exc}"
    out["plain send_text callables"] = {
        "returned": returned, "got": {m.name: m.got for m in (ann, gone, stuck)}}
    # each broadcast sends to every member of its own conns: one whose send failed in an
    # earlier broadcast (its fault since gone) is tried again, not skipped as still failed
    flaky, ann = Member("flaky", fails=True), Member("ann")
    try:
        first = sorted(repr(m) for m in await broadcast([flaky, ann], frame, timeout=2.0))
        flaky.fails = False
        again = sorted(repr(m) for m in await broadcast([flaky, ann], frame, timeout=2.0))
        out["a member that failed before"] = {"returned": [first, again],
                                              "got": {m.name: m.got for m in (flaky, ann)}}
    except Exception as exc:
        out["a member that failed before"] = f"{type(exc).__name__}: {exc}"
    # two broadcasts at once (two rooms): x's held member waits on a gate this probe opens
    # only once y has finished; each returns its own failed members, not the other's
    dead_x, held, dead_y, dan = (Member("dead_x", fails=True), Member("held"),
                                 Member("dead_y", fails=True), Member("dan"))
    gate, waiting = asyncio.Event(), asyncio.Event()

    async def held_send(text, held=held):
        waiting.set()
        await gate.wait()
        raise OSError("the connection is gone")

    held.send_text = held_send
    x = asyncio.ensure_future(broadcast([dead_x, held], frame, timeout=2.0))
    try:
        await asyncio.wait_for(waiting.wait(), 2.0)
        y = sorted(repr(m) for m in await broadcast([dan, dead_y], frame, timeout=2.0))
        gate.set()
        out["two at once"] = {"x": sorted(repr(m) for m in await asyncio.wait_for(x, 2.0)),
                              "y": y}
    except asyncio.TimeoutError:
        out["two at once"] = "broadcast still running after 2 s"
    except Exception as exc:
        out["two at once"] = f"{type(exc).__name__}: {exc}"
    finally:
        gate.set()
        x.cancel()
    return out
"""


# "Events on app.events" are for other code too, whose listeners may be coroutines (the
# lessons' are): an audit log that awaits before it writes. The bus runs sync listeners of
# an emit nobody awaited at once, so only such a listener shows an emit left unawaited
# (bug_312): it must hear every event, as the grader's own recorder did.
AUDITED = ("chat.joined", "chat.left", "room.message", "ws.error")
AUDIT_PREFIX = "grader.audit."
ASYNC_AUDIT_PROBE = """
import asyncio


def probe(module):
    def audit(name):
        async def write(payload):
            await asyncio.sleep(0)
            await app_events.emit("PREFIX" + name, payload)
        return write

    for name in NAMES:
        app_events.on(name, audit(name))
    return "listening"
""".replace("PREFIX", AUDIT_PREFIX).replace("NAMES", repr(AUDITED))


async def assert_audited(server: Any, counts: dict[str, int]) -> None:
    """The app emitted each event ``counts`` names that many times, and the audit log of
    :data:`ASYNC_AUDIT_PROBE` heard each one with the same payload (once the app settled:
    the grader's recorder hears an emit a loop turn before it; in any order, as emits made
    by two tasks at once may reach an awaiting listener in either order)."""
    await server.settled()
    for name, count in counts.items():
        seen = [e["args"] for e in server.events(name)]
        audited = [e["args"] for e in server.events(AUDIT_PREFIX + name)]
        assert len(seen) == count, (
            f"expected {count} {name} on app.events, got {len(seen)} (another module had "
            f"added an async listener of {name}: an emit that is not awaited then runs none "
            "of its listeners)")
        assert counted(audited) == counted(seen), (
            f"another module's async listener of {name} on app.events (an audit log that "
            f"awaits) must hear every {name}, as the app emitted it: it heard {audited!r:.300}, "
            f"the app emitted {seen!r:.300}. Await each emit: a listener that is a coroutine "
            "runs only when the emit is awaited")
