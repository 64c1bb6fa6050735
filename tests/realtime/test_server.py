"""BackgroundServer serves a real Nexios app to a real websockets client."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
from nexios import NexiosApp
from nexios.websockets import WebSocket
from websockets.asyncio.client import connect

from day25 import BackgroundServer, install
from day25.realtime.server import listen_socket


def make_app() -> NexiosApp:
    app = NexiosApp()
    bus = install(app)
    seen: list[str] = []

    @bus.on("said")
    async def remember(text: str) -> None:
        seen.append(text)

    @app.get("/hello")
    async def hello(req, res):  # type: ignore[no-untyped-def]
        return res.json({"hello": "world", "seen": seen})

    @app.ws_route("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        text = await ws.receive_text()
        await app.events.emit("said", text)
        await ws.send_json({"echo": text})
        await ws.close()

    return app


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("day25-server")]


async def test_serves_http_and_websocket_on_a_free_port() -> None:
    app = make_app()
    with BackgroundServer(app) as server:
        assert server.port > 0 and server.running
        assert server.url == f"http://127.0.0.1:{server.port}"
        async with connect(server.ws_url("/echo"), open_timeout=5) as ws:
            await ws.send("hi")
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reply == {"echo": "hi"}
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.get(server.url + "/hello")
        assert r.json() == {"hello": "world", "seen": ["hi"]}
        result = await asyncio.to_thread(server.call, app.events.emit("said", "from call"))
        assert result.ran == 1
    assert not server.running
    assert server_threads() == []


def test_sync_use_like_a_notebook_and_restart_refused_while_running() -> None:
    server = BackgroundServer(make_app()).start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
        r = httpx.get(server.url + "/hello", timeout=5)
        assert r.status_code == 200
        assert server.ws_url("echo").endswith(f":{server.port}/echo")
    finally:
        server.stop()
    assert server_threads() == []
    with pytest.raises(RuntimeError, match="not running"):
        server.call(asyncio.sleep(0))
    with pytest.raises(RuntimeError, match="not been started"):
        _ = BackgroundServer(make_app()).port


def test_a_port_in_use_is_a_clear_error() -> None:
    with BackgroundServer(make_app()) as first, pytest.raises(OSError):
        BackgroundServer(make_app(), port=first.port).start()


def keep_alive_request_ms(port: int, method: str = "GET", path: str = "/hello") -> float:
    """The median time of 15 requests on one kept-alive connection (after a warm-up)."""
    import http.client
    import statistics
    import time

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    times = []
    try:
        for i in range(16):
            started = time.perf_counter()
            conn.request(method, path)
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and not response.will_close
            if i:
                times.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return statistics.median(times)


def test_a_kept_alive_request_does_not_wait_for_a_delayed_ack() -> None:
    """The listening socket must give accepted connections TCP_NODELAY: without it, every
    response written in two pieces waits ~40 ms for the client's delayed ACK."""
    import socket

    with BackgroundServer(make_app()) as server:
        assert keep_alive_request_ms(server.port) < 10
    sock = listen_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # what asyncio looks at to set TCP_NODELAY
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()
