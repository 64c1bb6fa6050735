"""Random notification sessions, checked frame by frame against a model of the queue.

A helper of the suite's ``test_random_sessions.py``. Each scenario there checks one rule; a
session here mixes them all (users whose names differ by case or by one character,
posts valid and refused, tabs that open, acknowledge, send bad frames and close, a tab
whose sends start failing, the cap), so that a rule broken only where two
features meet shows up. Nobody wrote a session for a particular bug: the model is the
exercise text, and the sessions come from a fixed seed, so every submission is graded
on the same ones.

Compared: every 201 and 422, every frame each tab receives, in order (each op waits
for the frames it causes), the backlog every user gets at the end, and ``ws.error``.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections import Counter
from typing import Any

from day25.course.harness import AppServer, brief, reply_text
from day25.course.protocol import FAULT_HEADER

USERS = ["ann", "ANN", "a_n"]  # "User names match exactly": three users
TITLES = ["hi", "\u00e9" * 3, "e\u0301", " padded ", "t" * 200, '{"type": "ack"}']
BODIES = [None, "", "body", "b" * 2000, "two\nlines"]  # None: the field is missing
LEVELS = [None, "low", "normal", "high"]
REFUSED: list[Any] = [
    {"title": "no user"}, {"user": "ann", "title": ""}, {"user": "ann", "title": "   "},
    {"user": "ann", "title": "x", "level": "HIGH"}, {"user": "ann", "title": "x", "body": None},
    {"user": "ann\n", "title": "x"}, {"user": "ann", "title": "t" * 201}, b"not json",
    b"[1, 2]", {"user": "ANN", "title": 7},
]
BAD_FRAMES: list[str | bytes] = [
    b'{"type": "ack", "ids": []}', "not json", '{"type": "ACK", "ids": []}',
    '{"type": "ack", "ids": "x"}', '{"type": "ack", "ids": [1]}', '{"type": "ack"}',
]
FIELDS = {"type", "id", "seq", "user", "title", "body", "level", "created_at", "expires_at"}


class Tab:
    """One open connection: its number, its user, and for a tab whose sends from the
    server start failing (``raise:N``), how many still succeed."""

    def __init__(self, number: int, user: str, ws: Any, sends_left: int | None) -> None:
        self.number, self.user, self.ws, self.sends_left = number, user, ws, sends_left


class Session:
    """One app (``max_per_user`` = ``cap``), a random walk of ``steps`` ops, and the
    model's account of each."""

    def __init__(self, server: AppServer, seed: int, cap: int, ttl: float) -> None:
        self.server, self.rng, self.cap, self.ttl = server, random.Random(seed), cap, ttl
        self.tabs: list[Tab] = []
        self.opened = 0
        self.seq: Counter[str] = Counter()
        self.pending: dict[str, list[dict[str, Any]]] = {u: [] for u in USERS}
        self.ids: list[str] = []  # every id handed out
        self.labels: dict[str, str] = {}  # id -> "ann's seq 3", for the log
        self.errors: list[str] = []  # the users of the ws.error emitted
        self.created: list[tuple[str, str]] = []  # (user, title) of each notification stored
        self.log: list[str] = []

    def fail(self, problem: str) -> AssertionError:
        ops = "\n  ".join(self.log[-12:])
        return AssertionError(f"{problem}\nThe session so far (last ops):\n  {ops}")

    def _healthy(self) -> list[Tab]:
        return [t for t in self.tabs if t.sends_left is None]

    async def run(self, stack: contextlib.AsyncExitStack, steps: int) -> None:
        for _ in range(steps):
            await self.step(stack)
        await self.finish(stack)

    async def step(self, stack: contextlib.AsyncExitStack) -> None:
        rng = self.rng
        healthy = self._healthy()
        op = rng.choices(["post", "refused", "open", "ack", "bad", "close"],
                         weights=[8, 1, 3 if len(self.tabs) < 5 else 0, 3 if healthy else 0,
                                  1 if healthy else 0, 1 if healthy else 0])[0]
        if op == "post":
            await self.post(rng.choice(USERS))
        elif op == "refused":
            await self.refused(rng.choice(REFUSED))
        elif op == "open":
            failing = len(healthy) == len(self.tabs) and rng.random() < 0.25
            await self.open(stack, rng.choice(USERS), rng.randint(0, 4) if failing else None)
        elif op == "ack":
            await self.ack(rng.choice(healthy))
        elif op == "bad":
            tab = rng.choice(healthy)
            frame = rng.choice(BAD_FRAMES)
            self.log.append(f"tab {tab.number} ({tab.user}) sends {frame!r}")
            await tab.ws.send(frame)
            got = await self.recv(tab, "a bad_frame error")
            if not (isinstance(got, dict) and set(got) == {"type", "code", "message"}
                    and got["type"] == "error" and got["code"] == "bad_frame"
                    and isinstance(got["message"], str) and got["message"].strip()):
                raise self.fail(f"tab {tab.number} should get a bad_frame error, got {brief(got)}")
            self.errors.append(tab.user)
        else:
            tab = rng.choice(healthy)
            self.log.append(f"tab {tab.number} ({tab.user}) closes")
            self.tabs.remove(tab)
            await tab.ws.close()
            await self.server.settled(quiet=0.01)  # gone on the server's side too

    async def post(self, user: str) -> None:
        rng = self.rng
        body = {"user": user, "title": rng.choice(TITLES)}
        for field, choices in (("body", BODIES), ("level", LEVELS)):
            value = rng.choice(choices)
            if value is not None:
                body[field] = value
        self.log.append(f"POST {brief(body)}")
        before = time.time()
        async with self.server.http() as client:
            r = await client.post("/notifications", json=body)
        after = time.time()
        if r.status_code != 201:
            raise self.fail(f"the POST should answer 201, got {r.status_code}: {reply_text(r)}")
        reply = r.json()
        self.seq[user] += 1
        live = [t for t in self.tabs if t.user == user]
        delivered = [t for t in live if t.sends_left is None or t.sends_left > 0]
        for tab in live:
            if tab.sends_left is not None:
                if tab.sends_left == 0:
                    self.tabs.remove(tab)  # its push failed: dropped, no later push tries it
                    self.log.append(f"  (tab {tab.number}'s send fails: it is dropped)")
                tab.sends_left -= 1
        want = {"id": reply.get("id") if isinstance(reply, dict) else None,
                "seq": self.seq[user], "delivered": len(delivered)}
        if reply != want or not isinstance(want["id"], str) or want["id"] in self.ids:
            raise self.fail(f"the 201 should be {{'id': <a new unique string>, 'seq': "
                            f"{want['seq']}, 'delivered': {want['delivered']}}}, "
                            f"got {brief(reply)}")
        self.ids.append(want["id"])
        self.labels[want["id"]] = f"{user}'s seq {self.seq[user]}"
        note = {"type": "notification", "id": want["id"], "seq": self.seq[user], "user": user,
                "title": body["title"], "body": body.get("body", ""),
                "level": body.get("level", "normal")}
        self.created.append((user, body["title"]))
        self.pending[user].append(note)
        if len(self.pending[user]) > self.cap:
            self.pending[user].pop(0)  # "the oldest (lowest seq) is dropped"
        for tab in [t for t in self._healthy() if t.user == user]:
            frame = await self.recv(tab, f"the live notification seq {note['seq']}")
            self.check(tab, frame, note)
            if not before - 1 <= note["created_at"] <= after + 1:
                raise self.fail(f"created_at is Unix seconds from time.time(): {brief(frame)}")

    def check(self, tab: Tab, frame: Any, note: dict[str, Any]) -> None:
        """``frame`` is ``note``, every field; its times are the ones it was first sent with."""
        wanted = {k: v for k, v in note.items() if k not in ("created_at", "expires_at")}
        if not isinstance(frame, dict) or set(frame) != FIELDS or any(
                frame[k] != v for k, v in wanted.items()):
            raise self.fail(f"tab {tab.number} ({tab.user}) should get the notification seq "
                            f"{note['seq']}: {brief(wanted)} (and created_at, expires_at); "
                            f"got {brief(frame)}")
        created, expires = frame["created_at"], frame["expires_at"]
        if not (isinstance(created, (int, float)) and isinstance(expires, (int, float))
                and abs(expires - created - self.ttl) < 1e-3):
            raise self.fail(f"expires_at = created_at + ttl_seconds ({self.ttl:g}): {brief(frame)}")
        first = note.setdefault("created_at", created)
        if abs(first - created) > 1e-3:
            raise self.fail(f"notification seq {note['seq']} was sent with created_at {first}, "
                            f"and now with {created}: {brief(frame)}")

    async def refused(self, body: Any) -> None:
        self.log.append(f"POST {brief(body)} (bad input)")
        async with self.server.http() as client:
            if isinstance(body, bytes):
                r = await client.post("/notifications", content=body,
                                      headers={"content-type": "application/json"})
            else:
                r = await client.post("/notifications", json=body)
        reply = r.json() if r.headers.get("content-type", "").startswith("application/json") \
            else r.text
        if r.status_code != 422 or not (isinstance(reply, dict) and set(reply) == {"error"}
                                        and isinstance(reply["error"], str) and reply["error"]):
            raise self.fail(f"a bad POST should answer 422 {{'error': ...}}, got {r.status_code} "
                            f"{brief(reply)}")

    async def open(self, stack: contextlib.AsyncExitStack, user: str,
                   sends_left: int | None) -> None:
        self.opened += 1
        fault = "" if sends_left is None else f", and every send to it after {sends_left} fails"
        self.log.append(f"tab {self.opened} opens for {user}{fault}")
        options = {} if sends_left is None else {
            "additional_headers": {FAULT_HEADER: f"raise:{sends_left}"}}
        ws = await stack.enter_async_context(
            self.server.connect(f"/notifications/{user}", **options))
        tab = Tab(self.opened, user, ws, sends_left)
        backlog = len(self.pending[user]) + 1  # and backlog_end
        if sends_left is None:
            self.tabs.append(tab)
            await self.backlog(tab)
        elif sends_left >= backlog:
            tab.sends_left = sends_left - backlog
            self.tabs.append(tab)
            # nothing read from it: its backlog is done once the server settles
            await self.server.settled(quiet=0.01)
        else:  # gone in the middle of its backlog: never live
            await self.server.settled(quiet=0.01)

    async def backlog(self, tab: Tab) -> None:
        for note in self.pending[tab.user]:
            self.check(tab, await self.recv(tab, f"the backlog's seq {note['seq']}"), note)
        end = await self.recv(tab, "backlog_end")
        want = {"type": "backlog_end", "count": len(self.pending[tab.user])}
        if end != want:
            raise self.fail(f"tab {tab.number} ({tab.user}) should get its backlog, "
                            f"{[n['seq'] for n in self.pending[tab.user]]}, then {want}; "
                            f"got {brief(end)}")

    async def ack(self, tab: Tab) -> None:
        rng = self.rng
        mine = [n["id"] for n in self.pending[tab.user]]
        others = [n["id"] for u, notes in self.pending.items() if u != tab.user for n in notes]
        gone = [i for i in self.ids if i not in mine and i not in others]
        ids = rng.sample(mine, min(len(mine), rng.randint(0, 2)))
        for pool in (mine, others, gone, ["no-such-id"]):
            if pool and rng.random() < 0.3:
                ids.append(rng.choice(pool))
        rng.shuffle(ids)
        shown = ", ".join(self.labels.get(i, repr(i)) for i in ids)
        self.log.append(f"tab {tab.number} ({tab.user}) acks the ids of [{shown}]")
        await tab.ws.send(json.dumps({"type": "ack", "ids": ids}))
        count = len(set(ids) & set(mine))
        self.pending[tab.user] = [n for n in self.pending[tab.user] if n["id"] not in ids]
        got = await self.recv(tab, "acked")
        if got != {"type": "acked", "count": count}:
            raise self.fail(f"tab {tab.number} ({tab.user}) should get "
                            f"{{'type': 'acked', 'count': {count}}}, got {brief(got)}")

    async def recv(self, tab: Tab, what: str) -> Any:
        try:
            return await self.server.recv_json(tab.ws)
        except Exception as exc:
            raise self.fail(f"tab {tab.number} ({tab.user}) waited for {what}: {exc}") from None

    async def finish(self, stack: contextlib.AsyncExitStack) -> None:
        """Nothing more arrives, ws.error is right, and each user's backlog is the model's."""
        self.log.append("the end: nothing more should arrive")
        server = self.server
        await server.settled(quiet=0.02)
        for tab in self._healthy():  # an empty ack each: its reply must be the next frame
            await tab.ws.send(json.dumps({"type": "ack", "ids": []}))
        for tab in self._healthy():
            got = await self.recv(tab, "the reply to an empty ack")
            if got != {"type": "acked", "count": 0}:
                raise self.fail(f"tab {tab.number} ({tab.user}) got {brief(got)}, which nobody "
                                "should have sent (or not 'acked' 0 for an empty ack)")
        events = server.events()  # the app has settled: every emit is done
        errors = [e["args"][0].get("user") if len(e["args"]) == 1 and isinstance(
            e["args"][0], dict) and set(e["args"][0]) == {"user", "error"} else e
            for e in events if e["event"] == "ws.error"]
        if Counter(map(repr, errors)) != Counter(map(repr, self.errors)):
            raise self.fail(f"ws.error: one {{user, error}} per bad frame, for users "
                            f"{self.errors}; got {brief(errors)}")
        created = iter([(p.get("user"), p.get("title")) for e in events
                        if e["event"] == "notification.created" and e["args"]
                        and isinstance(p := e["args"][0], dict)])
        missing = [c for c in self.created if c not in created]  # in order, as a subsequence
        if missing:
            raise self.fail(f"notification.created was not emitted, in order, for {missing[:3]}")
        self.log.append("a new tab for each user: its backlog is every pending notification")
        for user in USERS:
            self.opened += 1
            ws = await stack.enter_async_context(server.connect(f"/notifications/{user}"))
            await self.backlog(Tab(self.opened, user, ws, None))
