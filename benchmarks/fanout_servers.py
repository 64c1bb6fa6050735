"""The servers ``benchmarks/fanout.py`` measures: room members, uvicorn on a socket, redis.

:class:`Node` is one server holding room members (a :class:`BackgroundServer`, and on a
broker an :class:`EventRelay`) that broadcasts a round of messages in a given mode;
:class:`Threaded` runs uvicorn in a thread on a given socket or on a port it binds
itself, :func:`plain_listener` makes the socket ``day25 serve`` made before issue 16,
and :class:`RedisProcess` is a throw-away ``redis-server`` for ``--nodes 2``. Imported
by the script from its own folder (``from fanout_servers import ...``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any

import uvicorn
from nexios import NexiosApp
from nexios.websockets import WebSocket

from day25 import EventBus
from day25.realtime import BackgroundServer, Broker, EventRelay, Rooms
from day25.serve import uvicorn_config

TEXT = "x" * 100  # a chat message


# -- fan-out: the server side ------------------------------------------------------
class Node:
    """One server holding room members (``/fan``: room ``r``; ``/fan/{room}``); with a
    ``broker`` URL, an :class:`EventRelay` delivers ``bench.message`` to its rooms."""

    def __init__(self, broker: str | None = None) -> None:
        self.members: list[WebSocket] = []
        self.rooms: Rooms[WebSocket] = Rooms(send_timeout=10.0, outbox_size=10_000)
        app = NexiosApp()
        app.ws_route("/fan")(self._member)
        app.ws_route("/fan/{room}")(self._member)
        self.relay: EventRelay | None = None
        if broker is not None:
            bus = EventBus()
            self.relay = EventRelay(Broker(broker, prefix="bench"), bus,
                                    events={"bench.message"})
            bus.on("bench.message", self._relayed)
        self.server = BackgroundServer(app)

    async def _relayed(self, message: dict[str, Any]) -> None:
        await self.rooms.broadcast(message["room"], message)

    def count(self, room: str) -> int:
        return len(self.rooms.members(room))

    async def _member(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room", "r")
        self.members.append(ws)
        self.rooms.join(room, ws)
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            self.rooms.leave(room, ws)
            self.members.remove(ws)

    async def publish(self, room: str, number: int, messages: int, gap: float) -> float:
        """Publish ``messages`` on the relay (each with the room's next seq); the start
        time (monotonic)."""
        assert self.relay is not None
        started = time.monotonic()
        for seq in range(messages):
            if gap and seq:
                await asyncio.sleep(gap)
            message = {"type": "message", "round": number, "n": seq, "t": time.monotonic(),
                       "room": room, "user": "bench", "text": TEXT}
            await self.relay.publish("bench.message", room, message, seq=True)
        return started

    async def round(
        self, mode: str, number: int, messages: int, gap: float = 0.0, room: str = "r"
    ) -> tuple[float, float]:
        """Broadcast ``messages`` with ``mode`` (``gap`` seconds apart); (wall seconds,
        CPU seconds) on the server."""
        members, rooms = self.rooms.members(room), self.rooms
        started, cpu = time.perf_counter(), time.thread_time()
        for seq in range(messages):
            if gap and seq:
                await asyncio.sleep(gap)
            message = {"type": "message", "round": number, "n": seq, "t": time.monotonic(),
                       "room": room, "user": "bench", "text": TEXT}
            if mode == "bare":
                text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
                for ws in members:
                    await ws.send_text(text)
            elif mode == "rooms":
                await rooms.broadcast(room, message)
            else:
                await asyncio.gather(
                    *(asyncio.wait_for(ws.send_json(message), 10.0) for ws in members),
                    return_exceptions=True,
                )
        await rooms.flush()
        return time.perf_counter() - started, time.thread_time() - cpu


class RedisProcess:
    """A throw-away ``redis-server`` (no persistence) on a free port, for ``--nodes 2``."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="day25-bench-redis-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        for _ in range(500):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def plain_listener(host: str) -> socket.socket:
    """What ``day25 serve`` made before issue 16: proto 0, so no TCP_NODELAY."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


class Threaded:
    """uvicorn in a thread, on a given socket or binding ``port`` itself."""

    def __init__(self, app: Any, sock: socket.socket | None, port: int = 0) -> None:
        config = uvicorn_config(app)
        if sock is None:
            config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                    log_level="warning", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.port = sock.getsockname()[1] if sock is not None else port
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock] if self.sock else None))

    def __enter__(self) -> Threaded:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        if self.sock is not None:
            self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
