"""Check of step snapshot_broadcast: a snapshot, a timeout per send, sends side by side."""

from __future__ import annotations

import asyncio
import time
from types import ModuleType

CLOSED = 'Cannot call "send" once a close message has been sent.'  # Starlette's words
DEAD = "dead's connection is gone"


class Member:
    def __init__(self, name: str, room: set[Member], behaviour: str = "ok",
                 stalls: dict[str, int] | None = None) -> None:
        self.name, self.room, self.behaviour, self.got = name, room, behaviour, []
        self.stalls = stalls if stalls is not None else {"now": 0, "most": 0}

    def __repr__(self) -> str:
        return self.name

    async def send_text(self, text: str) -> None:
        if self.behaviour == "dead":
            raise ConnectionResetError(DEAD)
        if self.behaviour == "closed":  # what Starlette raises on a socket already closed
            raise RuntimeError(CLOSED)
        if self.behaviour == "stalled":
            self.stalls["now"] += 1  # sends stalled at this moment, and the most at once
            self.stalls["most"] = max(self.stalls["most"], self.stalls["now"])
            try:
                await asyncio.Event().wait()  # never reads: the send never finishes
            finally:
                self.stalls["now"] -= 1
        if self.behaviour == "leaves":
            self.room.discard(self)  # leaves while the broadcast runs
        await asyncio.sleep(0)
        self.got.append(text)


async def check(step: ModuleType) -> None:
    room: set[Member] = set()
    ok = [Member(f"ok{i}", room) for i in range(3)]
    dead, leaver = Member("dead", room, "dead"), Member("leaver", room, "leaves")
    closed = Member("closed", room, "closed")
    stalls = {"now": 0, "most": 0}
    stalled = [Member(f"stalled{i}", room, "stalled", stalls) for i in range(3)]
    room.update([*ok, dead, closed, leaver, *stalled])
    started = time.monotonic()
    try:
        failed = await asyncio.wait_for(step.broadcast(room, "hi", timeout=0.2), 5)
    except TimeoutError:
        raise AssertionError(
            "broadcast did not finish within 5 s: a stalled member held it, so a send that "
            "takes longer than `timeout` was never given up on. (`day25 hint "
            "snapshot_broadcast` if you are stuck.)"
        ) from None
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        if "changed size during iteration" in str(exc):
            raise AssertionError(
                f"broadcast raised {exc!r}: a member left the set while you were going "
                "through it. Go through a copy (a snapshot) of the members."
            ) from None
        if str(exc) != CLOSED:
            raise  # the student's own code raised it: reported with its line
        raise AssertionError(
            f"broadcast raised {exc!r}, a closed member's send error: a send that raises "
            "anything (not only a timeout) must not stop the broadcast. Catch it for that "
            "member and return the member among the failed ones."
        ) from None
    except ConnectionError as exc:
        if str(exc) != DEAD:
            raise
        raise AssertionError(
            f"broadcast raised {exc!r}, a dead member's send error: a send that raises anything "
            "(not only a timeout) must not stop the broadcast. Catch it for that member "
            "and return the member among the failed ones."
        ) from None
    took = time.monotonic() - started
    for member in ok:
        assert member.got == ["hi"], (
            f"{member} should get 'hi' once, whatever the others do; got {member.got}."
        )
    assert leaver.got == ["hi"], "The member who left during the broadcast still got it."
    want = ["closed", "dead", "stalled0", "stalled1", "stalled2"]
    missing = [name for name in want if name not in map(repr, failed)]
    assert sorted(map(repr, failed)) == want, (
        f"broadcast returns the members whose send raised (any exception: a connection "
        f"error, a RuntimeError of a closed socket) or timed out; got {failed}"
        + (f", without {', '.join(missing)} (whose send "
           + ("raised" if {"closed", "dead"} & set(missing) else "timed out") + ")."
           if missing else ".")
    )
    # counted, not timed: a busy machine makes a broadcast slower, never different
    assert stalls["most"] == 3, (
        f"The three stalled members' sends were never waiting at the same time (at most "
        f"{stalls['most']} at once): they ran one after another, so each stalled member "
        "added its own timeout to the broadcast. The sends must run side by side. (`day25 "
        "hint snapshot_broadcast` if you are stuck.)"
    )
    # the timeout it was given is the one it used: five times over it is not a busy machine
    assert took < 1.0, (
        f"With timeout=0.2 the broadcast took {took:.2f} s: a send is given up on after "
        "the `timeout` the broadcast was given, not another one."
    )
