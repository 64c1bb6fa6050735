"""Bug: a connection that ends without a closing handshake (disconnect code other than 1000/1001, e.g. 1006) is kept in the room for a 10 s reconnect grace period, socket.io style, before its leave is announced.

Breaks: "A connection that dies (no closing handshake, or a send to it fails) leaves like one that closed." ... bob's TCP connection drops (uvicorn reports code 1006): ann gets no leave for 10 s (a closed tab's leave comes at once), and a roster sent meanwhile to a new tab still lists bob.
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
RECONNECT_GRACE = 10.0  # seconds a tab whose transport died may take to come back


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _short(value: object) -> str:
    if isinstance(value, str):
        return repr(value[:40])
    return type(value).__name__


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type: {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None or conn not in users.get(user, ()):
            return False
        conns = users[user]
        conns.discard(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    members = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return False
        return True

    results = await asyncio.gather(*(one(c) for c in members))
    return [c for c, ok in zip(members, results) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    owners: dict[Any, tuple[str, str]] = {}
    locks: dict[str, asyncio.Lock] = {}
    seqs: dict[str, int] = {}
    closing: set[asyncio.Task[None]] = set()

    def lock(room: str) -> asyncio.Lock:
        if room not in locks:
            locks[room] = asyncio.Lock()
        return locks[room]

    async def close_quietly(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    def forget(room: str, failed: list[Any]) -> list[str]:
        gone = []
        for ws in failed:
            owner = owners.pop(ws, None)
            if owner is not None and presence.leave(room, owner[1], ws):
                gone.append(owner[1])
            task = asyncio.ensure_future(close_quietly(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        return gone

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        await announce_leaves(room, forget(room, failed))

    async def announce_leaves(room: str, users: list[str]) -> None:
        queue = deque(users)
        while queue:
            user = queue.popleft()
            frame = {"type": "leave", "room": room, "user": user}
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
            await bus.emit("chat.left", {"room": room, "user": user})
            queue.extend(forget(room, failed))

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await deliver(room, frame)

    bus.on("room.message", on_message)

    async def send_own(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            return False
        return True

    async def depart(room: str, user: str, ws: Any) -> None:
        async with lock(room):
            if owners.pop(ws, None) is not None and presence.leave(room, user, ws):
                frame = {"type": "leave", "room": room, "user": user}
                failed = await broadcast(presence.connections(room), frame,
                                         timeout=send_timeout)
                await bus.emit("chat.left", {"room": room, "user": user})
                await announce_leaves(room, forget(room, failed))

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            await send_own(ws, {"type": "error", "code": "bad_request",
                                "message": f"missing or invalid {what} name"})
            try:
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with lock(room):
            users = sorted(set(presence.roster(room)) | {user})
            if not await send_own(ws, {"type": "roster", "room": room, "users": users}):
                await close_quietly(ws)
                return
            owners[ws] = (room, user)
            if presence.join(room, user, ws):
                await deliver(room, {"type": "join", "room": room, "user": user})
                await bus.emit("chat.joined", {"room": room, "user": user})
        code = 1000
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    code = message.get("code", 1000)
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    if not await send_own(ws, {"type": "error", "code": "bad_frame",
                                                "message": error}):
                        break
                    await bus.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    if not await send_own(ws, {"type": "pong"}):
                        break
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect as exc:
            code = exc.code
        except Exception:
            pass
        finally:
            if code in (1000, 1001):
                await depart(room, user, ws)
            else:
                # The transport died without a closing handshake (1006 and friends): like
                # socket.io after "transport close", give the tab a grace period to come back
                # before the room hears that the user left.
                def later() -> None:
                    task = asyncio.ensure_future(depart(room, user, ws))
                    closing.add(task)
                    task.add_done_callback(closing.discard)

                asyncio.get_running_loop().call_later(RECONNECT_GRACE, later)

    return app
