"""Random chat sessions, checked frame by frame against a model of the protocol.

A helper of ``test_messages.py``. Each scenario of the suite checks one rule; a
session here mixes them all (several users and tabs, rooms whose names differ by case
or by a prefix, messages, pings, bad frames, emits on ``app.events``, closes and
connections that die), so that a rule broken only where two features meet shows up.
Nobody wrote a session for a particular bug: the model is the exercise text, and the
sessions come from a fixed seed, so every submission is graded on the same ones.

Only what the text fixes is compared: every frame each tab receives, in order (each
op waits until the frames it causes have arrived, so the order is the protocol's, not
a race's), the payloads on ``app.events``, and that nothing else arrives.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from typing import Any

from day25.course.harness import AppServer, brief, load_beside
from day25.course.protocol import FAULT_HEADER

counted = load_beside(__file__, "chat_frames").counted
# names that differ only by case, or where one is a prefix of another: the same user or
# room to code that folds case or matches by prefix, and different ones here
USERS = ["ann", "Ann", "bob", "d.e"]
ROOMS = ["a", "A", "a_b"]
TEXTS = ["hi", "   ", "\u00e9\u00e9", "e\u0301", "\ud800", "x" * 2000, '{"type": "ping"}',
         "<b>&amp;"]
BAD_FRAMES: list[str | bytes] = [
    b'{"type": "ping"}', '{"type": "PING"}', "not json", '"a string"',
    json.dumps({"type": "message", "text": ""}), json.dumps({"type": "message", "text": 5}),
]
# connects the text refuses (4400): no user, an empty or 33-character name, a character
# outside the 64, a trailing newline; and nobody in the room hears of them
BAD_PATHS = ["/chat/a", "/chat/a?user=", "/chat/a?user=" + "u" * 33, "/chat/a?user=ann%20",
             "/chat/a?user=ann%0A", "/chat/a?user=%C3%B6", "/chat/a%2Ab?user=ann"]
ERROR = "an error frame"  # expected in place of a frame: only its shape is fixed


class Tab:
    """One open connection: its number in the session, its room and user, and for a tab
    whose sends from the server start failing (``raise:N``), how many still succeed."""

    def __init__(self, number: int, room: str, user: str, ws: Any,
                 sends_left: int | None) -> None:
        self.number, self.room, self.user, self.ws = number, room, user, ws
        self.sends_left = sends_left


class Session:
    """One app, a random walk of ``steps`` ops, and the model's account of each."""

    def __init__(self, server: AppServer, seed: int) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.tabs: list[Tab] = []
        self.opened = 0
        self.seq: Counter[str] = Counter()
        self.joined: list[dict[str, str]] = []
        self.left: list[dict[str, str]] = []
        self.messages: list[dict[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.log: list[str] = []

    def _in(self, room: str) -> list[Tab]:
        return [t for t in self.tabs if t.room == room]

    def _healthy(self) -> list[Tab]:
        return [t for t in self.tabs if t.sends_left is None]

    def fail(self, problem: str) -> AssertionError:
        ops = "\n  ".join(self.log[-12:])
        return AssertionError(f"{problem}\nThe session so far (last ops):\n  {ops}")

    async def run(self, stack: contextlib.AsyncExitStack, steps: int) -> None:
        for _ in range(steps):
            left = len(self.left)
            await self.step(stack)
            if len(self.left) > left:  # a leave nobody may hear: done once chat.left is out
                await self.server.wait_for_event("chat.left", count=len(self.left))
        await self.finish()

    async def step(self, stack: contextlib.AsyncExitStack) -> None:
        rng = self.rng
        healthy = self._healthy()
        if len(healthy) < 2 or (len(self.tabs) < 6 and rng.random() < 0.25):
            # at most one failing tab at a time: two dropped by one broadcast would leave
            # together, in an order the text leaves open
            failing = len(healthy) == len(self.tabs) and rng.random() < 0.2
            await self.open(stack, rng.choice(ROOMS), rng.choice(USERS),
                            rng.randint(1, 3) if failing else None)
            return
        tab = rng.choice(healthy)
        op = rng.choices(["say", "ping", "bad", "close", "abort", "emit", "refused"],
                         weights=[6, 1, 2, 2, 1, 1, 1])[0]
        if op == "say":
            text = rng.choice(TEXTS)
            self.log.append(f"tab {tab.number} ({tab.user} in {tab.room}) says {brief(text)}")
            await tab.ws.send(json.dumps({"type": "message", "text": text}))
            await self.message(tab.room, tab.user, text)
        elif op == "emit" and len(healthy) == len(self.tabs):
            # (not with a failing tab open: who drops a member a listener could not reach
            # when the grader, not the route, emitted is left open)
            payload = {"room": tab.room, "user": "zed", "text": rng.choice(TEXTS)}
            self.log.append(f"the grader emits room.message {brief(payload)} on app.events")
            raised = await self.server.emit("room.message", payload)
            if raised:
                raise self.fail(f"your room.message listeners raised {raised}")
            await self.message(tab.room, "zed", payload["text"])
        elif op == "ping":
            self.log.append(f"tab {tab.number} ({tab.user} in {tab.room}) sends a ping")
            await tab.ws.send(json.dumps({"type": "ping"}))
            await self.receive({tab.number: [{"type": "pong"}]})
        elif op == "bad":
            frame = rng.choice(BAD_FRAMES)
            self.log.append(f"tab {tab.number} ({tab.user} in {tab.room}) sends {frame!r}")
            await tab.ws.send(frame)
            self.errors.append((tab.room, tab.user))
            await self.receive({tab.number: [ERROR]})
        elif op == "refused":
            await self.refused(self.rng.choice(BAD_PATHS))
        elif op in ("close", "abort"):
            await self.close(tab, abort=op == "abort")

    async def open(self, stack: contextlib.AsyncExitStack, room: str, user: str,
                   sends_left: int | None) -> None:
        self.opened += 1
        present = {t.user for t in self._in(room)}
        fault = "" if sends_left is None else f", and every send to it after {sends_left} fails"
        self.log.append(f"tab {self.opened} opens: {user} in {room}"
                        + ("" if user in present else " (a new user there)") + fault)
        options = {} if sends_left is None else {
            "additional_headers": {FAULT_HEADER: f"raise:{sends_left}"}}
        ws = await stack.enter_async_context(
            self.server.connect(f"/chat/{room}?user={user}", **options))
        tab = Tab(self.opened, room, user, ws, sends_left)
        want: dict[int, list[Any]] = {}
        self.tabs.append(tab)
        self.deliver([tab], {"type": "roster", "room": room, "users": sorted(present | {user})},
                     want)
        if tab in self.tabs and user not in present:
            self.joined.append({"room": room, "user": user})
            self.deliver(self._in(room), {"type": "join", "room": room, "user": user}, want)
        await self.receive(want)

    async def refused(self, path: str) -> None:
        self.log.append(f"a bad name connects: {path!r:.80}")
        async with self.server.connect(path) as ws:
            reply = await self.server.recv_json(ws)
            if not _is_error(reply, "bad_request"):
                raise self.fail(f"{path!r:.80} should get a bad_request error, "
                                f"got {brief(reply)}")
            code, _ = await self.server.expect_close(ws)
            if code != 4400:
                raise self.fail(f"{path!r:.80} should be closed with 4400, got {code}")

    async def close(self, tab: Tab, *, abort: bool) -> None:
        how = "dies (no closing handshake)" if abort else "closes"
        self.log.append(f"tab {tab.number} ({tab.user} in {tab.room}) {how}")
        self.tabs.remove(tab)
        if abort:
            tab.ws.transport.abort()
        else:
            await tab.ws.close()
        want: dict[int, list[Any]] = {}
        self.gone(tab, want)
        await self.receive(want)

    def gone(self, tab: Tab, want: dict[int, list[Any]]) -> None:
        """``tab`` is no longer in the room: its user's leave, if that was the last tab."""
        if any(t.user == tab.user for t in self._in(tab.room)):
            return  # another tab of the user stays: nobody hears of it
        self.left.append({"room": tab.room, "user": tab.user})
        self.deliver(self._in(tab.room), {"type": "leave", "room": tab.room, "user": tab.user},
                     want)

    def deliver(self, tabs: list[Tab], frame: dict[str, Any], want: dict[int, list[Any]]) -> None:
        """``frame`` sent to ``tabs``: a failing tab is dropped, and leaves once every other
        tab got the frame ("return the members whose send failed ... after everyone else
        got the frame"; a dropped member "leaves as if it had closed")."""
        dropped = []
        for tab in tabs:
            if tab.sends_left is None:
                want.setdefault(tab.number, []).append(frame)
            elif tab.sends_left > 0:
                tab.sends_left -= 1
            else:
                dropped.append(tab)
        for tab in dropped:
            self.tabs.remove(tab)
            self.log.append(f"  (tab {tab.number}'s send fails: it is dropped)")
        for tab in dropped:
            self.gone(tab, want)

    async def message(self, room: str, user: str, text: str) -> None:
        self.seq[room] += 1
        self.messages.append({"room": room, "user": user, "text": text})
        frame = {"type": "message", "room": room, "user": user, "text": text,
                 "seq": self.seq[room]}
        want: dict[int, list[Any]] = {}
        self.deliver(self._in(room), frame, want)
        await self.receive(want)

    async def receive(self, want: dict[int, list[Any]]) -> None:
        for tab in list(self.tabs):
            for frame in want.get(tab.number, []):
                try:
                    got = await self.server.recv_json(tab.ws)
                except Exception as exc:
                    raise self.fail(f"tab {tab.number} ({tab.user} in {tab.room}) waited for "
                                    f"{brief(frame)}: {exc}") from None
                if frame is ERROR:
                    if not _is_error(got, "bad_frame"):
                        raise self.fail(f"tab {tab.number} should get a bad_frame error, "
                                        f"got {brief(got)}")
                elif got != frame:
                    raise self.fail(f"tab {tab.number} ({tab.user} in {tab.room}) should get "
                                    f"{brief(frame)}, got {brief(got)}")

    async def finish(self) -> None:
        """Nothing more arrives, and app.events holds what the model emitted."""
        self.log.append("the end: nothing more should arrive")
        server = self.server
        await server.settled(quiet=0.02)
        # a ping each: its pong must be the next frame, so nothing else was on its way
        for tab in self._healthy():
            await tab.ws.send(json.dumps({"type": "ping"}))
        for tab in self._healthy():
            try:
                got = await server.recv_json(tab.ws)
            except Exception as exc:
                raise self.fail(f"tab {tab.number} sent a ping and got no pong: {exc}") from None
            if got != {"type": "pong"}:
                raise self.fail(f"tab {tab.number} got a frame nobody should have sent: "
                                f"{brief(got)}")
        events = server.events()  # the app has settled: every emit is done

        def payloads(name: str) -> list[Any]:
            return [e["args"][0] if len(e["args"]) == 1 and not e["kwargs"] else e
                    for e in events if e["event"] == name]

        for name, want in (("chat.joined", self.joined), ("chat.left", self.left),
                           ("room.message", self.messages)):
            got = payloads(name)
            same = got == want if name == "room.message" else counted(got) == counted(want)
            if not same:
                raise self.fail(f"{name} on app.events: expected {brief(want)}, "
                                f"got {brief(got)}")
        errors = payloads("ws.error")
        pairs = [(e.get("room"), e.get("user")) if isinstance(e, dict) and set(e) == {
            "room", "user", "error"} and isinstance(e["error"], str) else e for e in errors]
        if Counter(map(repr, pairs)) != Counter(map(repr, self.errors)):
            raise self.fail(f"ws.error: one {{room, user, error}} per bad frame; expected "
                            f"{brief(self.errors)}, got {brief(errors)}")


def _is_error(frame: Any, code: str) -> bool:
    return (isinstance(frame, dict) and set(frame) == {"type", "code", "message"}
            and frame["type"] == "error" and frame["code"] == code
            and isinstance(frame["message"], str) and bool(frame["message"].strip()))


