"""One ASGI app in front of the chat app, the notification app and the web page.

Why a hand-written dispatcher: the two exercise apps are separate NexiosApps
built by students' ``create_app()``; mounting them inside a third framework
would change their routing and lifespan. Routing by path prefix and forwarding
the lifespan protocol to each keeps both apps exactly as the graded tests see them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from day25.serve.loading import CHAT, NOTIFICATIONS, LoadedApps
from day25.serve.stubs import NOT_IMPLEMENTED_CLOSE, StubAwareSend, install_capture

__all__ = ["Dispatcher"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATIC_DIR = Path(__file__).with_name("static")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
logger = logging.getLogger("day25.serve")


class _SubLifespan:
    """Runs one sub-app's lifespan protocol as a task fed by two queues."""

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name = name
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _run(self, scope: Scope) -> None:
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except Exception as exc:  # an app without lifespan support raises: that is fine
            await self.outbox.put({"type": "lifespan.unsupported", "message": repr(exc)})

    async def startup(self, scope: Scope) -> str | None:
        """Start the app; return an error message, or ``None`` when it started."""
        self.task = asyncio.create_task(self._run(dict(scope)))
        await self.inbox.put({"type": "lifespan.startup"})
        reply = await self.outbox.get()
        if reply["type"] == "lifespan.startup.failed":
            return f"{self.name}: startup failed: {reply.get('message', '')}"
        return None

    async def shutdown(self) -> None:
        if self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self.outbox.get(), timeout=10)
        except TimeoutError:
            logger.warning("%s did not finish its shutdown within 10 s", self.name)
        if not self.task.done():
            self.task.cancel()


class Dispatcher:
    """``/chat/...`` -> chat app, ``/notifications...`` -> notification app, the rest: the page."""

    def __init__(
        self,
        apps: LoadedApps,
        *,
        impl_label: str,
        db_path: Path,
        state_sizes: Callable[[], dict[str, int]] | None = None,
        background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    ) -> None:
        install_capture()
        self.state_sizes = state_sizes
        self.background = background  # tasks run from the apps' startup to their shutdown
        for app in (apps.chat, apps.notifications):
            if hasattr(app, "debug"):  # a NexiosApp: no traceback pages (they stay in the log)
                app.debug = False
        self.apps = apps
        self.not_implemented = {k: v.message for k, v in apps.missing.items()}
        self.status: dict[str, object] = {
            "impl": impl_label,
            "impl_dir": str(apps.impl_dir),
            "db": str(db_path),
            "not_implemented": self.not_implemented,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        path: str = scope.get("path", "/")
        if path.startswith("/chat/"):
            await self._forward(CHAT, self.apps.chat, scope, receive, send)
        elif path == "/notifications" or path.startswith("/notifications/"):
            await self._forward(NOTIFICATIONS, self.apps.notifications, scope, receive, send)
        elif kind == "http":
            await self._page(path, scope, send)
        elif kind == "websocket":  # the Guard in front answers these with a reason first
            await send({"type": "websocket.close", "code": 4404})

    async def _forward(
        self, exercise: str, app: ASGIApp | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if app is None:
            await self._not_implemented(self.not_implemented[exercise], scope, send)
            return
        stub_send = StubAwareSend(exercise, send)
        try:
            await app(scope, receive, _NoTracebacks(stub_send))
        except NotImplementedError as exc:  # raised past the framework (e.g. in middleware)
            detail = str(exc) or "NotImplementedError"
            message = f"exercise {exercise!r} is not implemented yet: {detail}"
            logger.error(message)
            await self._not_implemented(message, scope, send)
        finally:
            stub_send.done()

    async def _not_implemented(self, message: str, scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            frame = {"type": "error", "code": "not_implemented", "message": message}
            await send({"type": "websocket.send", "text": json.dumps(frame)})
            await send({"type": "websocket.close", "code": NOT_IMPLEMENTED_CLOSE})
        else:
            await _respond(send, 501, json.dumps({"error": message}).encode(), "application/json")

    async def _page(self, path: str, scope: Scope, send: Send) -> None:
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            await _respond(send, 405, b"method not allowed", "text/plain")
            return
        if path == "/status.json":
            status = {**self.status, "per_name_state": self._per_name_state()}
            await _respond(send, 200, json.dumps(status).encode(), "application/json")
            return
        name = "index.html" if path in ("/", "/index.html") else path.removeprefix("/static/")
        file = STATIC_DIR / name
        # only plain file names from the static folder: no "..", no sub-folders
        if (path != "/" and not path.startswith("/static/")) or "/" in name or not file.is_file():
            await _respond(send, 404, b"not found", "text/plain")
            return
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        await _respond(send, 200, file.read_bytes(), content_type)

    def _per_name_state(self) -> dict[str, dict[str, int]]:
        """How much per-name state the server holds (sessions, and each app that reports it
        as ``app.state["per_name_state"]()``): a reader can watch it stay bounded."""
        sizes: dict[str, dict[str, int]] = {}
        if self.state_sizes is not None:
            sizes["sessions"] = self.state_sizes()
        for name, app in ((CHAT, self.apps.chat), (NOTIFICATIONS, self.apps.notifications)):
            state = getattr(app, "state", None)
            probe = state.get("per_name_state") if isinstance(state, dict) else None
            if callable(probe):
                sizes[name] = probe()
        return sizes

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        subs = [
            _SubLifespan(name, app)
            for name, app in ((CHAT, self.apps.chat), (NOTIFICATIONS, self.apps.notifications))
            if app is not None
        ]
        tasks: list[asyncio.Task[None]] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                errors = [e for e in [await s.startup(scope) for s in subs] if e]
                if errors:
                    await send({"type": "lifespan.startup.failed", "message": "; ".join(errors)})
                    return
                tasks = [asyncio.create_task(run()) for run in self.background]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                for sub in reversed(subs):
                    await sub.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


class _NoTracebacks:
    """Every 5xx body from an app becomes one fixed JSON sentence (503 has its own: try
    again): whatever the app (or its framework in debug mode) put there may hold a
    traceback, source paths or secrets. The details stay in the server's log, where the
    student running it looks."""

    BODY = json.dumps(
        {"error": "internal server error: the app raised; see the server's log"}
    ).encode()
    UNAVAILABLE = json.dumps(
        {"error": "service unavailable: the app could not reach a service it needs (with "
         "--broker: Redis); nothing was stored; try again; see the server's log"}
    ).encode()

    def __init__(self, send: Send) -> None:
        self.send = send
        self.replacing = False

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start" and message.get("status", 200) >= 500:
            self.replacing = True
            body = self.UNAVAILABLE if message.get("status") == 503 else self.BODY
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            await self.send({**message, "headers": headers})
            await self.send({"type": "http.response.body", "body": body})
        elif kind == "http.response.body" and self.replacing:
            return
        else:
            await self.send(message)


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
