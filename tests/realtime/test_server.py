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
