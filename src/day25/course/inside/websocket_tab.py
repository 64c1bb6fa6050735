"""A WebSocket client of an ASGI app, driven in the app's own process.

Why: some interleavings a real client cannot force. Over a socket the kernel's
buffers decide when a send is "still on the wire"; here a probe holds a chosen
send of one tab at a gate while the app's event loop runs everything else, and
lets it go (or fail, like a connection that died meanwhile) when it chooses.
The hidden suites' probes and the public check of a second app in one process
drive apps this way. They share this one client, so a "tab" means the same thing
to both: the ASGI messages a server such as uvicorn would give the app (connect,
each frame received, a disconnect once the app closes or the tab leaves), and
every frame the app sent, as JSON.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

__all__ = ["WebSocketTab", "websocket_scope"]

ASGIApp = Any  # whatever the student's create_app() returned: called as an ASGI app


def websocket_scope(path: str, query: str = "") -> dict[str, Any]:
    """The ASGI scope of a WebSocket request for ``path?query``, as uvicorn builds it."""
    return {"type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "scheme": "ws", "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
            "root_path": "", "path": path, "raw_path": path.encode(),
            "query_string": query.encode(), "headers": [(b"host", b"testserver")],
            "subprotocols": [], "state": {}}


class WebSocketTab:
    """One tab at ``path?query``: the app runs its handler as ``task`` from the moment
    the tab is made; what it sent is in ``frames``; ``send_json`` and ``close`` are the
    client's side.

    The app's send number ``hold_at`` (0 is its first) sets ``held`` and waits until
    ``gate`` is set; with ``fail_held`` it then raises ``OSError``, as a send on a
    connection that died meanwhile does, and the tab is gone. An exception the handler
    raises ends ``task`` and stays in ``error``: how a tab ends is for the probe to judge.
    """

    def __init__(self, app: ASGIApp, path: str, query: str = "", *,
                 hold_at: int | None = None, fail_held: bool = False) -> None:
        self.frames: list[Any] = []
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent = 0  # the app's sends so far, the held one included
        self.hold_at, self.fail_held = hold_at, fail_held
        self.held, self.gate = asyncio.Event(), asyncio.Event()
        self.closed = False  # the app closed the connection
        self.error: Exception | None = None
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.task = asyncio.ensure_future(self._serve(app, websocket_scope(path, query)))

    async def _serve(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self.inbox.get, self.app_sent)
        except Exception as exc:
            self.error = exc

    async def app_sent(self, message: dict[str, Any]) -> None:
        """The app's ASGI ``send``: a probe's own tab may override it to note what it
        saw when (calling this one first)."""
        if message.get("type") == "websocket.close":
            self.closed = True
            self.close()  # a server tells the handler the connection is over
        if message.get("type") != "websocket.send":
            return
        number, self.sent = self.sent, self.sent + 1
        if number == self.hold_at:
            self.held.set()
            await self.gate.wait()
            if self.fail_held:
                self.close(1006)
                raise OSError("the connection is gone")
        payload: Any = message.get("text") or message.get("bytes")
        self.frames.append(json.loads(payload))

    def send_json(self, frame: Any) -> None:
        """The client sends ``frame`` as a JSON text frame."""
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    def close(self, code: int = 1000) -> None:
        """The client leaves (or, with 1006, the connection breaks)."""
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})
