"""install(app): the bus becomes app.events and Nexios keeps working around it."""

from __future__ import annotations

import ast
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nexios
import pytest
from nexios import NexiosApp
from nexios.http import Request, Response
from nexios.testclient import TestClient
from nexios.websockets import WebSocket

from day25 import EventBus, forget_route, install


def test_nexios_is_the_pinned_minor() -> None:
    assert version("nexios").startswith("3.12.")


def test_nexios_never_reads_app_events_itself() -> None:
    """The reason replacing the attribute is safe; fails if a Nexios release starts using it."""
    root = Path(nexios.__file__).parent
    users = []
    for path in root.rglob("*.py"):
        if "events" in path.parts:  # the emitter's own package
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "events":
                is_assignment = isinstance(node.ctx, ast.Store)
                if not is_assignment:
                    users.append(f"{path.relative_to(root)}:{node.lineno}")
    assert users == [], f"Nexios now reads .events at {users}: re-check install()"


def test_install_replaces_events_and_is_idempotent() -> None:
    app = NexiosApp()
    bus = install(app)
    assert app.events is bus and isinstance(bus, EventBus)
    bus.on("x", print)
    assert install(app) is bus and bus.listeners("x") == [print]
    other = EventBus()
    assert install(app, other) is other and app.events is other


def test_install_rejects_what_is_not_an_app() -> None:
    with pytest.raises(TypeError, match="expects a NexiosApp"):
        install(object())


def test_routes_websockets_and_lifespan_still_work_with_the_bus_installed() -> None:
    app = NexiosApp()
    bus = install(app)
    seen: list[Any] = []
    bus.on("hello", lambda who: seen.append(who))

    @app.on_startup
    async def started() -> None:
        await app.events.emit("hello", "startup")

    @app.get("/hi/{name}")
    async def hi(request: Request, response: Response, name: str) -> Any:
        await app.events.emit("hello", name)
        return response.json({"hello": name})

    @app.ws_route("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        message = await ws.receive_json()
        result = await app.events.emit("hello", message["who"])
        await ws.send_json({"ran": result.ran})
        await ws.close()

    with TestClient(app) as client:
        assert client.get("/hi/ada").json() == {"hello": "ada"}
        with client.websocket_connect("/echo") as ws:
            ws.send_json({"who": "grace"})
            assert ws.receive_json() == {"ran": 1}
    assert seen == ["startup", "ada", "grace"]


def test_forget_route_lets_a_rerun_cell_serve_its_new_handler() -> None:
    """A notebook cell run twice: without forget_route the first handler answers."""
    app = NexiosApp()

    def define(greeting: str) -> None:  # what the cell does each time it runs
        forget_route(app, "/greet/{name}")

        @app.ws_route("/greet/{name}")
        async def greet(ws: WebSocket) -> None:
            await ws.accept()
            await ws.send_json({"text": f"{greeting}, {ws.path_params['name']}"})
            await ws.close()

    @app.get("/other")
    async def other(request: Request, response: Response) -> Any:
        return response.json({"ok": True})

    define("hello")
    define("bonjour")
    with TestClient(app) as client:
        with client.websocket_connect("/greet/ada") as ws:
            assert ws.receive_json() == {"text": "bonjour, ada"}
        assert client.get("/other").json() == {"ok": True}  # other paths are kept
    assert forget_route(app, "/greet/{name}") == 1
    assert forget_route(app, "/greet/{name}") == 0
    with pytest.raises(TypeError, match="NexiosApp"):
        forget_route(object(), "/x")
