"""Check of step snapshot_broadcast: a snapshot, a timeout per send, sends side by side."""

from __future__ import annotations

import asyncio
import time
from types import ModuleType


class Member:
    def __init__(self, name: str, room: set[Member], behaviour: str = "ok") -> None:
        self.name, self.room, self.behaviour, self.got = name, room, behaviour, []

    def __repr__(self) -> str:
        return self.name

    async def send_text(self, text: str) -> None:
        if self.behaviour == "dead":
            raise ConnectionResetError(f"{self.name}'s connection is gone")
        if self.behaviour == "stalled":
            await asyncio.Event().wait()  # never reads: the send never finishes
        if self.behaviour == "leaves":
            self.room.discard(self)  # leaves while the broadcast runs
        await asyncio.sleep(0)
        self.got.append(text)


async def check(step: ModuleType) -> None:
    room: set[Member] = set()
    ok = [Member(f"ok{i}", room) for i in range(3)]
    dead, leaver = Member("dead", room, "dead"), Member("leaver", room, "leaves")
    stalled = [Member(f"stalled{i}", room, "stalled") for i in range(3)]
    room.update([*ok, dead, leaver, *stalled])
    started = time.monotonic()
    try:
        failed = await asyncio.wait_for(step.broadcast(room, "hi", timeout=0.2), 5)
    except TimeoutError:
        raise AssertionError(
            "broadcast did not finish within 5 s: a stalled member held it. Give each send its "
            "own timeout (asyncio.wait_for)."
        ) from None
    except NotImplementedError:
        raise
    except RuntimeError as exc:
        raise AssertionError(
            f"broadcast raised {exc!r}: a member left the set while you were going through it. "
            "Go through a copy (a snapshot) of the members."
        ) from None
    took = time.monotonic() - started
    for member in ok:
        assert member.got == ["hi"], (
            f"{member} should get 'hi' once, whatever the others do; got {member.got}."
        )
    assert leaver.got == ["hi"], "The member who left during the broadcast still got it."
    assert sorted(map(repr, failed)) == ["dead", "stalled0", "stalled1", "stalled2"], (
        f"broadcast returns the members whose send raised or timed out; got {failed}."
    )
    assert took < 0.45, (
        f"Three stalled members cost {took:.2f} s with timeout=0.2: run the sends side by side "
        "(asyncio.gather), each with its own timeout (asyncio.wait_for), not one after another."
    )
