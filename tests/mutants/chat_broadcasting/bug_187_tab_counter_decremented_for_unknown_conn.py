"""Bug: `Presence` counts a user's tabs in a second dict that `leave` decrements even when the connection is no longer in the user's set (the set path is harmless, the counter path is not), so leaving twice with one tab of a two-tab user ends the user.

Breaks: "Leaving with a connection that is not (or no longer) there returns False and changes nothing, so a clean close after a failed send never announces a leave twice" and "no leave when it closes while another tab is open" ... ann has tabs t1 and t2; t1's send fails and t1 is dropped (tabs 2 -> 1, no leave, right), then t1's own clean-up leaves again (1 -> 0): `leave` returns True, the room hears ann's leave and `roster` drops her although t2 is still open.
"""


from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError("text must be a string")
    if not body:
        raise ValueError("text is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": body}


class Presence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}
        self._tabs: dict[str, dict[str, int]] = {}  # room -> user -> open tabs (the roster)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        self._rooms.setdefault(room, {}).setdefault(user, set()).add(conn)
        tabs = self._tabs.setdefault(room, {})
        tabs[user] = tabs.get(user, 0) + 1
        return tabs[user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users or user not in users:
            return False
        users[user].discard(conn)
        tabs = self._tabs[room]
        tabs[user] -= 1
        if tabs[user] > 0:
            return False
        del tabs[user], users[user]
        if not users:
            del self._rooms[room], self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._tabs.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def _send_one(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(_send_one(c, text)) for c in members]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending)
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    locks: dict[str, asyncio.Lock] = {}
    seqs: dict[str, int] = {}
    owners: dict[Any, str] = {}

    def lock_for(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_quietly(ws: Any, code: int) -> None:
        try:
            await ws.close(code)
        except Exception:
            pass

    async def announce(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (its lock held) and drop whoever failed."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        await drop(room, failed)

    async def drop(room: str, failed: list[Any]) -> None:
        """Forget every failed member first, close them, then announce their leaves."""
        queue: deque[str] = deque()

        async def forget(batch: list[Any]) -> None:
            for ws in batch:
                user = owners.get(ws)
                if user is not None and presence.leave(room, user, ws):
                    queue.append(user)
            for ws in batch:
                await close_quietly(ws, 1011)

        await forget(failed)
        while queue:
            user = queue.popleft()
            await events.emit("chat.left", {"room": room, "user": user})
            more = await broadcast(presence.connections(room),
                                   {"type": "leave", "room": room, "user": user},
                                   timeout=send_timeout)
            await forget(more)

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock_for(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await announce(room, frame)

    events.on("room.message", on_message)

    async def depart(room: str, user: str, ws: Any) -> None:
        async with lock_for(room):
            if presence.leave(room, user, ws):
                await events.emit("chat.left", {"room": room, "user": user})
                await announce(room, {"type": "leave", "room": room, "user": user})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"invalid {what} name"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        owners[ws] = user
        try:
            async with lock_for(room):
                first = presence.join(room, user, ws)
                try:
                    await ws.send_text(json.dumps({"type": "roster", "room": room,
                                                   "users": presence.roster(room)}))
                except Exception:
                    presence.leave(room, user, ws)
                    return
                if first:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await announce(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await events.emit("ws.error", {"room": room, "user": user,
                                                   "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await events.emit("room.message", {"room": room, "user": user,
                                                       "text": command["text"]})
        except WebSocketDisconnect:
            pass
        except Exception:
            pass
        finally:
            await depart(room, user, ws)
            owners.pop(ws, None)

    return app
