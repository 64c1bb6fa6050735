"""Bug: parse_frame assumes the JSON is an object and calls .get on it; a JSON list, string or number raises AttributeError, which escapes parse_frame and the route and ends the connection.

Breaks: "A malformed frame is one that is binary, not JSON, not a JSON object, ..." and "the connection **stays open** ... no exception escapes, whatever the frame holds."
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters, each one of the 64 allowed."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _quote(value: object) -> str:
    if isinstance(value, str):
        shown = repr(value)
        return shown if len(shown) <= 30 else shown[:27] + "..."
    return f"a {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received frame -> {"type": "ping"} or {"type": "message", "text": T}."""
    body = message.get("text")
    if not isinstance(body, str):
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        obj = json.loads(body)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError:
        raise ValueError("not JSON") from None
    kind = obj.get("type")
    if kind is None and "type" not in obj:
        raise ValueError("missing type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError(f"unknown type: {_quote(kind)}")
    if "text" not in obj:
        raise ValueError("message without text")
    text = obj["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {_quote(text)}")
    if len(text) == 0:
        raise ValueError("empty text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text longer than {MAX_TEXT} characters ({len(text)})")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set)
        )

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        first = len(tabs) == 0
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        if room not in self._rooms or user not in self._rooms[room]:
            return False
        tabs = self._rooms[room][user]
        if conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._rooms[room][user]
        if not self._rooms[room]:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        if room not in self._rooms:
            return []
        return sorted(self._rooms[room].keys())

    def connections(self, room: str) -> list[Hashable]:
        if room not in self._rooms:
            return []
        out: list[Hashable] = []
        for tabs in self._rooms[room].values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Serialise once, send to a snapshot side by side, return who failed or stalled."""
    snapshot = list(conns)
    if not snapshot:
        return []
    data = json.dumps(frame)
    tasks = {asyncio.ensure_future(conn.send_text(data)): conn for conn in snapshot}
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    failed = [tasks[t] for t in pending]
    for task in done:
        if task.cancelled() or task.exception() is not None:
            failed.append(tasks[task])
    return failed


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """The chat app: presence, seq and the broadcast, all in closures."""
    app = NexiosApp()
    day25.install(app)
    events = app.events
    presence = Presence()
    seqs: defaultdict[str, int] = defaultdict(int)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    user_of: dict[Any, str] = {}
    closers: set[asyncio.Task[None]] = set()

    async def send_alone(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
            return True
        except Exception:
            return False

    async def close_dropped(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    async def to_room(room: str, frame: dict[str, Any]) -> None:
        # the caller holds locks[room]
        for gone in await broadcast(presence.connections(room), frame, timeout=send_timeout):
            task = asyncio.ensure_future(close_dropped(gone))
            closers.add(task)
            task.add_done_callback(closers.discard)
            await depart(room, gone)

    async def depart(room: str, ws: Any) -> None:
        # the caller holds locks[room]
        user = user_of.pop(ws, None)
        if user is not None and presence.leave(room, user, ws):
            await events.emit("chat.left", {"room": room, "user": user})
            await to_room(room, {"type": "leave", "room": room, "user": user})

    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with locks[room]:
            seqs[room] += 1
            await to_room(room, {
                "type": "message",
                "room": room,
                "user": payload["user"],
                "text": payload["text"],
                "seq": seqs[room],
            })

    events.on("room.message", relay)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of A-Z a-z 0-9 _ . -"
        elif not valid_name(user):
            problem = "user is missing or not 1-32 characters of A-Z a-z 0-9 _ . -"
        if problem is not None:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}
                ))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return

        try:
            async with locks[room]:
                names = set(presence.roster(room))
                names.add(user)
                if not await send_alone(ws, {"type": "roster", "room": room, "users": sorted(names)}):
                    return
                user_of[ws] = user
                if presence.join(room, user, ws):
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await to_room(room, {"type": "join", "room": room, "user": user})
            while ws in user_of:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws not in user_of:
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    reason = str(exc)
                    if not await send_alone(
                        ws, {"type": "error", "code": "bad_frame", "message": reason}
                    ):
                        break
                    await events.emit("ws.error", {"room": room, "user": user, "error": reason})
                    continue
                if command["type"] == "ping":
                    if not await send_alone(ws, {"type": "pong"}):
                        break
                    continue
                await events.emit("room.message", {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with locks[room]:
                await depart(room, ws)

    return app
